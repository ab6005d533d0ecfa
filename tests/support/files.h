// Whole-file reads and writes for test fixtures.
#pragma once

#include <string>

namespace cscguard::testing {

// The bytes of `path`; "" when it cannot be read (tests compare contents,
// and a missing file then shows as a mismatch).
std::string read_file(const std::string& path);

// Replaces `path` by renaming a complete PATH.tmp over it, mode 0644: a
// server that watches the file (the module reloads on change) never sees it
// half written, and httpd's children (www-data when the tests run as root)
// can read it. Throws std::runtime_error when it cannot.
void write_file(const std::string& path, const std::string& text);

}  // namespace cscguard::testing
