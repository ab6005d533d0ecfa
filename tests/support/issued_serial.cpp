#include "tests/support/issued_serial.h"

namespace cscguard::testing {

std::string issued_serial(const std::string& output) {
    const std::string tag = " serial ";
    const std::size_t at = output.find(tag);
    if (at == std::string::npos) return "";
    const std::size_t start = at + tag.size();
    return output.substr(start, output.find('\n', start) - start);
}

}  // namespace cscguard::testing
