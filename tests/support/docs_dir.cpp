#include "tests/support/docs_dir.h"

#include <filesystem>

#include "tests/support/files.h"

namespace cscguard::testing {

void add_page(const std::string& docs, const std::string& dir, const std::string& text) {
    std::filesystem::create_directories(docs + "/" + dir);
    write_file(docs + "/" + dir + "/index.html", text);
}

void add_pages(const std::string& docs, std::initializer_list<const char*> dirs) {
    for (const char* dir : dirs) add_page(docs, dir);
}

}  // namespace cscguard::testing
