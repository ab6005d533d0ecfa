#include "policy/negation.h"

#include <cstdint>

namespace cscguard {
namespace {

// The results a node can have for a client without a good certificate, as a
// set: mod_authz_core's granted, denied and neutral.
using Outcomes = std::uint8_t;
constexpr Outcomes kGranted = 1, kDenied = 2, kNeutral = 4;

bool is_cscguard(const AuthzNode& node) {
    return node.kind == AuthzNode::Kind::Require && node.provider.rfind("cscguard-", 0) == 0;
}

bool holds_cscguard(const AuthzNode& node) {
    if (is_cscguard(node)) return true;
    for (const auto& child : node.children) {
        if (holds_cscguard(child)) return true;
    }
    return false;
}

Outcomes negate(Outcomes in) {
    Outcomes out = 0;
    if (in & kGranted) out |= kDenied;
    if (in & (kDenied | kNeutral)) out |= kNeutral;
    return out;
}

// One step of mod_authz_core's loop over a container's children, over sets.
Outcomes combine(Outcomes so_far, Outcomes child, bool all) {
    Outcomes out = 0;
    for (Outcomes r : {kGranted, kDenied, kNeutral}) {
        if (!(so_far & r)) continue;
        for (Outcomes c : {kGranted, kDenied, kNeutral}) {
            if (!(child & c)) continue;
            if (c == kNeutral) out |= r;
            else if (all) out |= (r == kDenied || c == kDenied) ? kDenied : kGranted;
            else out |= (r == kGranted || c == kGranted) ? kGranted : kDenied;
        }
    }
    return out;
}

// What `node` can answer; `forced` (if reached) is taken to deny.
Outcomes outcomes(const AuthzNode& node, const AuthzNode* forced) {
    if (&node == forced) return kDenied;
    Outcomes result = 0;
    if (node.kind == AuthzNode::Kind::Require) {
        if (is_cscguard(node)) result = kDenied;
        else if (node.provider == "all") result = node.argument == "granted" ? kGranted : kDenied;
        else result = kGranted | kDenied;  // ip, valid-user, expr...: either
    } else {
        const bool all = node.kind == AuthzNode::Kind::All;
        result = kNeutral;
        for (const auto& child : node.children) result = combine(result, outcomes(child, forced), all);
    }
    const bool negated = node.negated || node.kind == AuthzNode::Kind::None;
    return negated ? negate(result) : result;
}

void collect(const AuthzNode& node, const AuthzNode& section, const std::string& container,
             std::vector<UnprotectedNegation>& out) {
    const bool negated = node.negated || node.kind == AuthzNode::Kind::None;
    if (negated && holds_cscguard(node)) {
        const bool grants = outcomes(section, nullptr) & kGranted;
        const bool grants_if_denied = outcomes(section, &node) & kGranted;
        if (grants && !grants_if_denied) {
            const std::string text = node.kind == AuthzNode::Kind::None ? "<RequireNone>" : "Require not " + node.provider;
            out.push_back({node.where, container, text});
        }
    }
    for (const auto& child : node.children) collect(child, section, node.where, out);
}

}  // namespace

std::vector<UnprotectedNegation> unprotected_negations(const AuthzNode& section) {
    std::vector<UnprotectedNegation> out;
    for (const auto& child : section.children) collect(child, section, section.where, out);
    return out;
}

}  // namespace cscguard
