#include "tests/support/error_of.h"

#include "policy/error.h"

namespace cscguard::testing {

std::string error_of(const std::function<void()>& call) {
    try {
        call();
    } catch (const PolicyError& err) {
        return err.what();
    }
    return "(no error)";
}

}  // namespace cscguard::testing
