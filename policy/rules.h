// The rules behind `Require cscguard-*` lines, and how one is decided.
//
// Each provider has its own rule type with its own parse and match, as
// mod_authz_host gives each of its providers a parse and a check function.
// A rule is parsed once at configuration time (syntax errors fail
// configtest), bound once the server's issuers and allowlists are known
// (unknown names fail configtest), and then only read by requests.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <variant>
#include <vector>

#include "policy/cache_entry.h"
#include "policy/certificate.h"
#include "policy/policy.h"
#include "policy/serial_set.h"

namespace cscguard {

// Why a request was granted: which rule and, for e-mail rules, which address.
struct Match {
    std::string rule;   // provider and what matched, e.g. "cscguard-allowlist partners" (CSCGUARD_RULE)
    std::string email;  // the address that matched, or the certificate's first
};

// Every rule type has: kProvider, the name after `Require`; parse(), which
// throws PolicyError describing the first bad word of the line; bind(), which
// resolves issuer and allowlist names against the server's policy and throws
// PolicyError for unknown ones; and match(), which tells whether a
// certificate of a declared issuer satisfies the rule (nullopt: no).

// Require cscguard-serial [ISSUER:]SERIAL ...
struct SerialRule {
    static constexpr const char* kProvider = "cscguard-serial";
    static SerialRule parse(std::string_view line);
    void bind(const Policy& policy);  // also throws for a bare serial when several issuers are declared
    std::optional<Match> match(const Identity& identity, const Policy& policy) const;

    std::vector<SerialEntry> written;  // as on the line, resolved by bind()
    SerialSet serials;                 // after bind()
};

// Require cscguard-email ADDRESS|*@DOMAIN ...
struct EmailRule {
    static constexpr const char* kProvider = "cscguard-email";
    static EmailRule parse(std::string_view line);
    void bind(const Policy&) {}  // names no issuer or allowlist
    std::optional<Match> match(const Identity& identity, const Policy& policy) const;

    std::unordered_set<std::string> addresses;  // lower case
    std::unordered_set<std::string> domains;    // lower case, without "*@"
};

// Require cscguard-subject ATTR=VALUE ...
struct SubjectRule {
    static constexpr const char* kProvider = "cscguard-subject";
    static SubjectRule parse(std::string_view line);
    void bind(const Policy&) {}  // names no issuer or allowlist
    std::optional<Match> match(const Identity& identity, const Policy& policy) const;

    std::vector<SubjectAttribute> attributes;  // any of them
};

// Require cscguard-allowlist NAME ...
struct AllowlistRule {
    static constexpr const char* kProvider = "cscguard-allowlist";
    static AllowlistRule parse(std::string_view line);
    void bind(const Policy& policy);
    std::optional<Match> match(const Identity& identity, const Policy& policy) const;

    // Looked up in each request's policy: a reload replaces the lists.
    std::vector<std::string> allowlists;
};

// Require cscguard-valid [ISSUER ...]
struct ValidRule {
    static constexpr const char* kProvider = "cscguard-valid";
    static ValidRule parse(std::string_view line);
    void bind(const Policy& policy);
    std::optional<Match> match(const Identity& identity, const Policy& policy) const;

    std::vector<std::string> issuer_names;  // empty: any declared issuer
};

// For callers that choose a kind at run time (tests, the fuzzer); the glue
// uses the types.
enum class RuleKind { Serial, Email, Subject, Allowlist, Valid };

// "cscguard-serial", ... as written after `Require`.
const char* provider_name(RuleKind kind);

// One `Require cscguard-*` line, whichever provider.
class Rule {
public:
    template <typename KindRule>
    explicit Rule(KindRule rule) : rule_(std::move(rule)) {}

    // Throws PolicyError describing the first bad word of `line`.
    static Rule parse(RuleKind kind, std::string_view line);

    // Throws PolicyError when no issuer is declared, or as the kind's bind().
    void bind(const Policy& policy);

    // "cscguard-serial", ... as written after `Require`.
    const char* provider() const;

    std::optional<Match> match(const Identity& identity, const Policy& policy) const;

private:
    std::variant<SerialRule, EmailRule, SubjectRule, AllowlistRule, ValidRule> rule_;
};

// What the fleet's revocation cache (CSCGuardRevocationCache) said of a
// certificate; the glue asks it, policy/ only weighs the answer.
struct CacheAnswer {
    enum class State {
        NotAsked,     // no cache configured, or the certificate has no declared issuer
        NotListed,    // the cache answered: not revoked
        Revoked,      // the cache holds an entry for it
        Unavailable,  // no answer in time, unreachable, or no cscguard marker (flushed)
    };
    State state = State::NotAsked;
    CachedRevocation entry;   // when Revoked
    std::string why;          // when Unavailable
    std::string source;       // "redis:127.0.0.1:6379", for the log
    bool fail_closed = false;  // CSCGuardRevocationCacheFailure closed
};

// The outcome of one Require line for one request.
struct Verdict {
    bool granted = false;
    bool unknown_issuer = false;  // no declared CSCGuardIssuer signed the certificate
    bool outside_validity = false;  // now is before notBefore or after notAfter
    bool revoked = false;         // listed on its issuer's CRL
    bool stale_crl = false;       // its issuer's CRL is past nextUpdate + grace
    bool cache_revoked = false;   // listed in the revocation cache (revoked is set too)
    bool cache_unavailable = false;  // the cache cannot be asked and failure mode is closed
    const RevocationList* crl = nullptr;  // the CRL behind revoked / stale_crl
    const CacheAnswer* cache = nullptr;   // the answer behind cache_revoked / cache_unavailable
    const char* provider = "";    // the Require line's provider, for the log
    Match match;                  // set when granted
};

// Reasons to deny before the certificate is even looked at: a plain-HTTP
// request, or a certificate mod_ssl did not verify (SSL_CLIENT_VERIFY other
// than SUCCESS, e.g. NONE or a GENEROUS optional_no_ca forgery).
std::optional<std::string> refuse_connection(bool is_tls, std::string_view client_verify);

// Decides a verified certificate at time `now`: it must come from a declared
// issuer, be within its validity period (mod_ssl reports SUCCESS for a
// resumed TLS session whose certificate has expired since), must not be
// revoked, its issuer's CRL (if any) must be fresh, the revocation cache
// (`cache`, when asked) must not list it nor, when it fails closed, be
// unavailable, and it must satisfy the rule - in that order, for every rule.
// Builds no text. `cache` must outlive the verdict.
Verdict evaluate(const Rule& rule, const Identity& identity, const Policy& policy, std::time_t now,
                 const CacheAnswer* cache = nullptr);

// One line for the log: who, and what matched or why not. `policy` must be
// the one the verdict was made with.
std::string describe(const Verdict& verdict, const Identity& identity, const Policy& policy);

}  // namespace cscguard
