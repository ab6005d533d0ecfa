// Pages under a test server's document root: a location a test requests
// must exist, or httpd answers 404 before any Require decides.
#pragma once

#include <initializer_list>
#include <string>

namespace cscguard::testing {

// DOCS/DIR/index.html holding `text` (mode 0644, see write_file); DIR may be
// nested ("a/b"). Missing directories are made as `mkdir -p` makes them
// (0777 less the umask: with the usual 022, httpd's children can enter them).
void add_page(const std::string& docs, const std::string& dir, const std::string& text = "ok\n");

// add_page for each of `dirs`, every page holding "ok\n".
void add_pages(const std::string& docs, std::initializer_list<const char*> dirs);

}  // namespace cscguard::testing
