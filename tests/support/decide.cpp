#include "tests/support/decide.h"

namespace cscguard::testing {

Verdict decide(const Policy& policy, RuleKind kind, std::string_view line, const Identity& identity, std::time_t now) {
    Rule rule = Rule::parse(kind, line);
    rule.bind(policy);
    return evaluate(rule, identity, policy, now);
}

}  // namespace cscguard::testing
