// The one exception type the core throws for bad input (configuration,
// policy files, certificates). The message is written for an admin: it says
// what is wrong and, where known, the file and line.
#pragma once

#include <stdexcept>
#include <string>

namespace cscguard {

class PolicyError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

}  // namespace cscguard
