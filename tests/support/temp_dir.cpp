#include "tests/support/temp_dir.h"

#include <filesystem>
#include <stdexcept>
#include <system_error>

#include <stdlib.h>

namespace cscguard::testing {

TempDir::TempDir(const std::string& prefix) {
    std::string tmpl = (std::filesystem::temp_directory_path() / (prefix + "-XXXXXX")).string();
    if (!mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed for " + tmpl);
    path_ = tmpl;
}

TempDir::~TempDir() {
    if (keep_) return;
    std::error_code ignored;  // a destructor must not throw; a leftover in /tmp is harmless
    std::filesystem::remove_all(path_, ignored);
}

}  // namespace cscguard::testing
