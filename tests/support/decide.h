// One Require line judged the way mod_cscguard judges it: parsed, bound to
// the policy's issuers and lists, evaluated for an identity.
#pragma once

#include <ctime>
#include <string_view>

#include "policy/rules.h"

namespace cscguard::testing {

// Rule::parse + bind + evaluate at `now` (CRL freshness and certificate
// validity depend on it). Throws PolicyError where configtest would refuse.
Verdict decide(const Policy& policy, RuleKind kind, std::string_view line, const Identity& identity,
               std::time_t now = std::time(nullptr));

}  // namespace cscguard::testing
