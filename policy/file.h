// Reading a whole policy file, with an error that names it.
#pragma once

#include <string>

namespace cscguard {

// The file's bytes. Throws PolicyError "PATH: cannot read WHAT: reason".
std::string read_whole_file(const std::string& path, const char* what);

}  // namespace cscguard
