// Splits a Require line into words the way an admin reads it.
//
// httpd's ap_getword_conf() honours quotes only around a whole word, so
// `O="Acme Corp"` would split in two. Here quotes may open anywhere in a
// word and are removed: `O="Acme Corp"` and `"O=Acme Corp"` both give the
// word `O=Acme Corp`. Inside quotes a backslash escapes the next character.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace cscguard {

// Throws PolicyError on an unterminated quote.
std::vector<std::string> split_words(std::string_view line);

}  // namespace cscguard
