#include "policy/rules.h"

#include <type_traits>

#include "policy/email.h"
#include "policy/error.h"
#include "policy/issuer.h"
#include "policy/words.h"

namespace cscguard {
namespace {

// The words of a line that must name at least one thing.
std::vector<std::string> arguments(const char* provider, std::string_view line) {
    std::vector<std::string> words = split_words(line);
    if (words.empty()) throw PolicyError(std::string(provider) + " needs at least one argument");
    return words;
}

// `words`, each a valid name of a `what` ("allowlist", "issuer").
std::vector<std::string> checked_names(const char* what, std::vector<std::string> words) {
    for (const std::string& word : words) check_name(what, word);
    return words;
}

// Throws for the first of `names` that `declared` does not know.
template <typename Declared>
void check_declared(const char* what, const char* directive, const std::vector<std::string>& names,
                    Declared declared) {
    for (const std::string& name : names) {
        if (!declared(name)) {
            throw PolicyError("unknown " + std::string(what) + " '" + name + "' (declare it with " + directive + ")");
        }
    }
}

// Built only on a match: a miss costs no allocation. `email` defaults to the
// certificate's first address.
Match matched(const char* provider, const ClientCertificate& cert, std::string_view detail = {},
              const std::string* email = nullptr) {
    std::string rule = provider;
    if (!detail.empty()) (rule += " ") += detail;
    if (!email && !cert.emails().empty()) email = &cert.emails().front();
    return Match{std::move(rule), email ? *email : std::string()};
}

// Calls `f` with std::type_identity of the rule type of `kind`.
template <typename F>
auto with_type_of(RuleKind kind, F&& f) {
    switch (kind) {
        case RuleKind::Serial: return f(std::type_identity<SerialRule>());
        case RuleKind::Email: return f(std::type_identity<EmailRule>());
        case RuleKind::Subject: return f(std::type_identity<SubjectRule>());
        case RuleKind::Allowlist: return f(std::type_identity<AllowlistRule>());
        case RuleKind::Valid: return f(std::type_identity<ValidRule>());
    }
    throw PolicyError("unknown rule kind " + std::to_string(static_cast<int>(kind)));
}

}  // namespace

const char* provider_name(RuleKind kind) {
    return with_type_of(kind, [](auto type) { return decltype(type)::type::kProvider; });
}

SerialRule SerialRule::parse(std::string_view line) {
    SerialRule rule;
    for (const std::string& word : arguments(kProvider, line)) rule.written.push_back(parse_serial_entry(word));
    return rule;
}

void SerialRule::bind(const Policy& policy) {
    const std::vector<std::string> declared = policy.issuer_names();
    serials = SerialSet();
    for (const SerialEntry& entry : written) serials.insert(resolve_issuer(entry, declared), entry.serial);
}

std::optional<Match> SerialRule::match(const Identity& identity, const Policy&) const {
    if (serials.contains(identity.issuer_name, identity.cert.serial())) return matched(kProvider, identity.cert);
    return std::nullopt;
}

EmailRule EmailRule::parse(std::string_view line) {
    EmailRule rule;
    for (const std::string& word : arguments(kProvider, line)) {
        const std::string lower = ascii_lower(word);
        if (lower.rfind("*@", 0) == 0) {
            const std::string domain = lower.substr(2);
            if (!is_valid_mail_domain(domain)) throw PolicyError("'" + word + "': '" + domain + "' is not a mail domain");
            rule.domains.insert(domain);
        } else if (is_valid_email(lower)) {
            rule.addresses.insert(lower);
        } else {
            throw PolicyError("'" + word + "' is not an e-mail address (want user@domain or *@domain)");
        }
    }
    return rule;
}

std::optional<Match> EmailRule::match(const Identity& identity, const Policy&) const {
    for (const std::string& email : identity.cert.emails()) {
        if (addresses.count(email) || domains.count(std::string(domain_of(email)))) {
            return matched(kProvider, identity.cert, {}, &email);
        }
    }
    return std::nullopt;
}

SubjectRule SubjectRule::parse(std::string_view line) {
    SubjectRule rule;
    for (const std::string& word : arguments(kProvider, line)) {
        const std::size_t eq = word.find('=');
        if (eq == std::string::npos || eq == 0) {
            throw PolicyError("'" + word + "' is not ATTR=VALUE (e.g. CN=eager-client)");
        }
        const std::string attr = word.substr(0, eq);
        const std::string oid = attribute_oid(attr);
        if (oid.empty()) {
            throw PolicyError("unknown subject attribute '" + attr +
                              "' (use CN, O, OU, C, L, ST, emailAddress, UID, DC or a dotted OID)");
        }
        if (eq + 1 == word.size()) throw PolicyError("'" + word + "' has an empty value");
        rule.attributes.push_back({oid, word.substr(eq + 1)});
    }
    return rule;
}

std::optional<Match> SubjectRule::match(const Identity& identity, const Policy&) const {
    for (const SubjectAttribute& want : attributes) {
        for (const SubjectAttribute& have : identity.cert.subject()) {
            if (have.oid == want.oid && have.value == want.value) return matched(kProvider, identity.cert);
        }
    }
    return std::nullopt;
}

AllowlistRule AllowlistRule::parse(std::string_view line) {
    return {checked_names("allowlist", arguments(kProvider, line))};
}

void AllowlistRule::bind(const Policy& policy) {
    check_declared("allowlist", "CSCGuardAllowlist", allowlists,
                   [&policy](const std::string& name) { return policy.find_allowlist(name) != nullptr; });
}

std::optional<Match> AllowlistRule::match(const Identity& identity, const Policy& policy) const {
    for (const std::string& name : allowlists) {
        const SerialTable* list = policy.find_allowlist(name);
        if (list && list->contains(identity.issuer_index, identity.cert.serial())) {
            return matched(kProvider, identity.cert, name);
        }
    }
    return std::nullopt;
}

ValidRule ValidRule::parse(std::string_view line) {
    return {checked_names("issuer", split_words(line))};  // no names: any declared issuer
}

void ValidRule::bind(const Policy& policy) {
    check_declared("issuer", "CSCGuardIssuer", issuer_names,
                   [&policy](const std::string& name) { return policy.find_issuer(name) != nullptr; });
}

std::optional<Match> ValidRule::match(const Identity& identity, const Policy&) const {
    if (issuer_names.empty()) return matched(kProvider, identity.cert);
    for (const std::string& name : issuer_names) {
        if (name == identity.issuer_name) return matched(kProvider, identity.cert, name);
    }
    return std::nullopt;
}

Rule Rule::parse(RuleKind kind, std::string_view line) {
    return with_type_of(kind, [line](auto type) { return Rule(decltype(type)::type::parse(line)); });
}

void Rule::bind(const Policy& policy) {
    if (policy.issuers().empty()) throw PolicyError(std::string(provider()) + " needs at least one CSCGuardIssuer declared");
    std::visit([&policy](auto& rule) { rule.bind(policy); }, rule_);
}

const char* Rule::provider() const {
    return std::visit([](const auto& rule) { return rule.kProvider; }, rule_);
}

std::optional<Match> Rule::match(const Identity& identity, const Policy& policy) const {
    return std::visit([&](const auto& rule) { return rule.match(identity, policy); }, rule_);
}

std::optional<std::string> refuse_connection(bool is_tls, std::string_view client_verify) {
    if (!is_tls) return std::string("not a TLS connection");
    if (client_verify != "SUCCESS") {
        return "no verified client certificate (SSL_CLIENT_VERIFY=" +
               std::string(client_verify.empty() ? "unset" : client_verify) + ")";
    }
    return std::nullopt;
}

Verdict evaluate(const Rule& rule, const Identity& identity, const Policy& policy, std::time_t now,
                 const CacheAnswer* cache) {
    Verdict verdict;
    verdict.provider = rule.provider();
    if (identity.issuer_name.empty()) {
        verdict.unknown_issuer = true;
        return verdict;
    }
    if (now < identity.cert.not_before() || now > identity.cert.not_after()) {
        verdict.outside_validity = true;
        return verdict;
    }
    if (const RevocationList* crl = policy.revocation(identity.issuer_name)) {
        verdict.crl = crl;
        if (is_stale(*crl, now, policy.crl_grace())) {
            verdict.stale_crl = true;
            return verdict;
        }
        if (crl->revokes(identity.cert.serial())) {
            verdict.revoked = true;
            return verdict;
        }
    }
    if (cache && cache->state == CacheAnswer::State::Revoked) {
        verdict.revoked = verdict.cache_revoked = true;
        verdict.cache = cache;
        return verdict;
    }
    if (cache && cache->state == CacheAnswer::State::Unavailable && cache->fail_closed) {
        verdict.cache_unavailable = true;
        verdict.cache = cache;
        return verdict;
    }
    if (auto match = rule.match(identity, policy)) {
        verdict.granted = true;
        verdict.match = std::move(*match);
    }
    return verdict;
}

std::string describe(const Verdict& verdict, const Identity& identity, const Policy& policy) {
    const ClientCertificate& cert = identity.cert;
    if (verdict.unknown_issuer) {
        return "serial " + cert.serial().canonical() + " (" + cert.subject_dn() +
               ") was not issued by a declared CSCGuardIssuer (issuer " + cert.issuer_dn() + ")";
    }
    const std::string who = identity.issuer_name + ":" + cert.serial().canonical() + " (" + cert.subject_dn() + ")";
    if (verdict.outside_validity) {
        return who + " is outside its validity period (" + format_utc(cert.not_before()) + " to " +
               format_utc(cert.not_after()) + ")";
    }
    if (verdict.stale_crl) return who + ": " + stale_crl_message(*verdict.crl, policy.crl_grace());
    if (verdict.cache_revoked) {
        return who + " is revoked by the revocation cache " + verdict.cache->source + " (" + verdict.cache->entry.reason +
               ", " + format_utc(verdict.cache->entry.revoked_at) + ")";
    }
    if (verdict.cache_unavailable) {
        return who + ": the revocation cache " + verdict.cache->source + " cannot be asked (" + verdict.cache->why +
               ") and CSCGuardRevocationCacheFailure is closed";
    }
    if (verdict.revoked) return who + " is revoked by " + verdict.crl->source;
    return verdict.granted ? who + " matched " + verdict.match.rule : who + " did not match " + verdict.provider;
}

}  // namespace cscguard
