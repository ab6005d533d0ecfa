#include "file.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "error.h"

namespace cscguard {

std::string read_whole_file(const std::string& path, const char* what) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw PolicyError(path + ": cannot read " + what + ": " + std::strerror(errno));
    std::ostringstream content;
    content << in.rdbuf();
    if (in.bad()) throw PolicyError(path + ": error while reading " + what);
    return content.str();
}

}  // namespace cscguard
