// The rules behind `Require cscguard-*` lines, and how one is decided.
//
// A rule is parsed once at configuration time (syntax errors fail
// configtest), bound once the server's issuers and allowlists are known
// (unknown names fail configtest), and then only read by requests.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "certificate.h"
#include "policy.h"
#include "serial_set.h"

namespace cscguard {

enum class RuleKind { Serial, Email, Subject, Allowlist, Valid };

// "cscguard-serial", ... as written after `Require`.
const char* provider_name(RuleKind kind);

// Why a request was granted: which rule and, for e-mail rules, which address.
struct Match {
    std::string rule;   // e.g. "cscguard-allowlist partners"
    std::string email;  // the address that matched, or the certificate's first
};

class Rule {
public:
    // Throws PolicyError describing the first bad word of `line`.
    static Rule parse(RuleKind kind, std::string_view line);

    // Resolves issuer and allowlist names against the server's policy.
    // Throws PolicyError for unknown names or bare serials that are ambiguous.
    void bind(const Policy& policy);

    RuleKind kind() const { return kind_; }

    // Does a certificate of a declared issuer satisfy this rule? nullopt: no.
    std::optional<Match> match(const Identity& identity, const Policy& policy) const;

private:
    explicit Rule(RuleKind kind) : kind_(kind) {}

    RuleKind kind_;
    std::vector<SerialEntry> serial_entries_;  // as written, until bind()
    SerialSet serials_;                        // after bind()
    std::unordered_set<std::string> addresses_;
    std::unordered_set<std::string> domains_;
    std::vector<SubjectAttribute> subject_;
    std::vector<std::string> allowlists_;
    std::vector<std::string> valid_issuers_;  // cscguard-valid ISSUER...: only these
};

// The outcome of one Require line for one request.
struct Verdict {
    bool granted = false;
    bool unknown_issuer = false;  // no declared CSCGuardIssuer signed the certificate
    bool outside_validity = false;  // now is before notBefore or after notAfter
    bool revoked = false;         // listed on its issuer's CRL
    bool stale_crl = false;       // its issuer's CRL is past nextUpdate + grace
    const RevocationList* crl = nullptr;  // the CRL behind revoked / stale_crl
    const char* rule = "";        // provider name, for the log
    Match match;                  // set when granted
};

// Reasons to deny before the certificate is even looked at: a plain-HTTP
// request, or a certificate mod_ssl did not verify (SSL_CLIENT_VERIFY other
// than SUCCESS, e.g. NONE or a GENEROUS optional_no_ca forgery).
std::optional<std::string> refuse_connection(bool is_tls, std::string_view client_verify);

// Decides a verified certificate at time `now`: it must come from a declared
// issuer, be within its validity period (mod_ssl reports SUCCESS for a
// resumed TLS session whose certificate has expired since), must not be
// revoked, its issuer's CRL (if any) must be fresh, and it must satisfy the
// rule - in that order, for every rule. Builds no text.
Verdict evaluate(const Rule& rule, const Identity& identity, const Policy& policy, std::time_t now);

// One line for the log: who, and what matched or why not. `policy` must be
// the one the verdict was made with.
std::string describe(const Verdict& verdict, const Identity& identity, const Policy& policy);

}  // namespace cscguard
