// The message of the PolicyError a call throws: tests assert on the exact
// text an administrator reads (file, line, reason), not only on a throw.
#pragma once

#include <functional>
#include <string>

namespace cscguard::testing {

// PolicyError::what() of `call`, or "(no error)" when it returns normally.
// Any other exception propagates: it is a bug, not a refusal.
std::string error_of(const std::function<void()>& call);

}  // namespace cscguard::testing
