// Pages under a test server's document root: a location a test requests
// must exist, or httpd answers 404 before any Require decides.
#pragma once

#include <initializer_list>
#include <string>

namespace cscguard::testing {

// DOCS/DIR/index.html holding `text`; DIR may be nested ("a/b"), and missing
// directories are made (mode 0755 less the umask, readable by httpd's children).
void add_page(const std::string& docs, const std::string& dir, const std::string& text = "ok\n");

// add_page for each of `dirs`, every page holding "ok\n".
void add_pages(const std::string& docs, std::initializer_list<const char*> dirs);

}  // namespace cscguard::testing
