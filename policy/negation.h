// Negated cscguard rules that let people in.
//
// Every cscguard rule denies a client whose certificate is missing,
// unverified, revoked, outside its validity or covered by a stale CRL. httpd
// turns a negated denial into "no objection" (AUTHZ_NEUTRAL), so in
//
//   <RequireAll>
//     Require ip 10.0.0.0/8
//     Require not cscguard-serial kitty:BAD
//   </RequireAll>
//
// kitty:BAD gets in once it is revoked, or once kitty's CRL goes stale. This
// module finds such negations in the shape of a section's Require lines, so
// configtest can warn; it knows nothing of httpd itself.
#pragma once

#include <string>
#include <vector>

namespace cscguard {

struct AuthzNode {
    enum class Kind { Require, All, Any, None };  // a Require line, <RequireAll>, <RequireAny>, <RequireNone>
    Kind kind = Kind::Any;
    bool negated = false;   // Require not ...
    std::string provider;   // Require: the provider name, e.g. "cscguard-serial", "ip"
    std::string argument;   // Require: the rest of the line, e.g. "granted" for `all granted`
    std::string where;      // "FILE:LINE"
    std::vector<AuthzNode> children;
};

struct UnprotectedNegation {
    std::string negation;   // where the negated element is ("Require not ..." or <RequireNone>)
    std::string container;  // where its enclosing container (or section) is
    std::string text;       // "Require not cscguard-serial" or "<RequireNone>"
};

// The negated elements of `section` (its Require lines and containers, the
// implicit <RequireAny> of one <Location>, <Directory>... ) that contain a
// cscguard rule and that let the section grant to a client without a good
// certificate, where the same element denying would not.
std::vector<UnprotectedNegation> unprotected_negations(const AuthzNode& section);

}  // namespace cscguard
