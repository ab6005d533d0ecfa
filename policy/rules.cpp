#include "rules.h"

#include <cctype>

#include "email.h"
#include "error.h"
#include "issuer.h"
#include "words.h"

namespace cscguard {
namespace {

void parse_email(std::string_view word, std::unordered_set<std::string>& addresses,
                 std::unordered_set<std::string>& domains) {
    const std::string lower = ascii_lower(word);
    if (lower.rfind("*@", 0) == 0) {
        const std::string domain = lower.substr(2);
        if (!is_valid_mail_domain(domain)) throw PolicyError("'" + std::string(word) + "': '" + domain + "' is not a mail domain");
        domains.insert(domain);
        return;
    }
    if (!is_valid_email(lower)) {
        throw PolicyError("'" + std::string(word) + "' is not an e-mail address (want user@domain or *@domain)");
    }
    addresses.insert(lower);
}

SubjectAttribute parse_subject(std::string_view word) {
    const std::size_t eq = word.find('=');
    if (eq == std::string_view::npos || eq == 0) {
        throw PolicyError("'" + std::string(word) + "' is not ATTR=VALUE (e.g. CN=eager-client)");
    }
    const std::string_view attr = word.substr(0, eq);
    const std::string oid = attribute_oid(attr);
    if (oid.empty()) {
        throw PolicyError("unknown subject attribute '" + std::string(attr) +
                          "' (use CN, O, OU, C, L, ST, emailAddress, UID, DC or a dotted OID)");
    }
    if (eq + 1 == word.size()) throw PolicyError("'" + std::string(word) + "' has an empty value");
    return {oid, std::string(word.substr(eq + 1))};
}

}  // namespace

const char* provider_name(RuleKind kind) {
    switch (kind) {
        case RuleKind::Serial: return "cscguard-serial";
        case RuleKind::Email: return "cscguard-email";
        case RuleKind::Subject: return "cscguard-subject";
        case RuleKind::Allowlist: return "cscguard-allowlist";
        case RuleKind::Valid: return "cscguard-valid";
    }
    return "cscguard-?";
}

Rule Rule::parse(RuleKind kind, std::string_view line) {
    Rule rule(kind);
    const std::vector<std::string> words = split_words(line);
    if (words.empty() && kind != RuleKind::Valid) {
        throw PolicyError(std::string(provider_name(kind)) + " needs at least one argument");
    }
    for (const std::string& word : words) {
        switch (kind) {
            case RuleKind::Serial: rule.serial_entries_.push_back(parse_serial_entry(word)); break;
            case RuleKind::Email: parse_email(word, rule.addresses_, rule.domains_); break;
            case RuleKind::Subject: rule.subject_.push_back(parse_subject(word)); break;
            case RuleKind::Allowlist:
                check_name("allowlist", word);
                rule.allowlists_.push_back(word);
                break;
            case RuleKind::Valid:
                check_name("issuer", word);
                rule.valid_issuers_.push_back(word);
                break;
        }
    }
    return rule;
}

void Rule::bind(const Policy& policy) {
    if (policy.issuers().empty()) {
        throw PolicyError(std::string(provider_name(kind_)) +
                          " needs at least one CSCGuardIssuer declared");
    }
    const std::vector<std::string> declared = policy.issuer_names();
    serials_ = SerialSet();
    for (const SerialEntry& entry : serial_entries_) serials_.insert(resolve_issuer(entry, declared), entry.serial);
    for (const std::string& name : valid_issuers_) {
        if (!policy.find_issuer(name)) {
            throw PolicyError("unknown issuer '" + name + "' (declare it with CSCGuardIssuer)");
        }
    }
    for (const std::string& name : allowlists_) {
        if (!policy.find_allowlist(name)) {
            throw PolicyError("unknown allowlist '" + name + "' (declare it with CSCGuardAllowlist)");
        }
    }
}

std::optional<Match> Rule::match(const Identity& identity, const Policy& policy) const {
    const ClientCertificate& cert = identity.cert;
    // Built only on a match: a miss costs no allocation.
    auto matched = [&](std::string detail = {}, const std::string* email = nullptr) {
        std::string rule = provider_name(kind_);
        if (!detail.empty()) rule += " " + detail;
        if (!email && !cert.emails().empty()) email = &cert.emails().front();
        return Match{std::move(rule), email ? *email : std::string()};
    };
    switch (kind_) {
        case RuleKind::Serial:
            if (serials_.contains(identity.issuer, cert.serial())) return matched();
            return std::nullopt;
        case RuleKind::Email:
            for (const std::string& email : cert.emails()) {
                if (addresses_.count(email) || domains_.count(std::string(domain_of(email)))) {
                    return matched({}, &email);
                }
            }
            return std::nullopt;
        case RuleKind::Subject:
            for (const SubjectAttribute& want : subject_) {
                for (const SubjectAttribute& have : cert.subject()) {
                    if (have.oid == want.oid && have.value == want.value) return matched();
                }
            }
            return std::nullopt;
        case RuleKind::Allowlist:
            for (const std::string& name : allowlists_) {
                const SerialTable* list = policy.find_allowlist(name);
                if (list && list->contains(identity.issuer_index, cert.serial())) {
                    return matched(name);
                }
            }
            return std::nullopt;
        case RuleKind::Valid:
            if (valid_issuers_.empty()) return matched();
            for (const std::string& name : valid_issuers_) {
                if (name == identity.issuer) return matched(name);
            }
            return std::nullopt;
    }
    return std::nullopt;
}

std::optional<std::string> refuse_connection(bool is_tls, std::string_view client_verify) {
    if (!is_tls) return std::string("not a TLS connection");
    if (client_verify != "SUCCESS") {
        return "no verified client certificate (SSL_CLIENT_VERIFY=" +
               std::string(client_verify.empty() ? "unset" : client_verify) + ")";
    }
    return std::nullopt;
}

Verdict evaluate(const Rule& rule, const Identity& identity, const Policy& policy, std::time_t now) {
    Verdict verdict;
    verdict.rule = provider_name(rule.kind());
    if (identity.issuer.empty()) {
        verdict.unknown_issuer = true;
        return verdict;
    }
    if (now < identity.cert.not_before() || now > identity.cert.not_after()) {
        verdict.outside_validity = true;
        return verdict;
    }
    if (const RevocationList* crl = policy.revocation(identity.issuer)) {
        verdict.crl = crl;
        if (now > crl->next_update + policy.crl_grace()) {
            verdict.stale_crl = true;
            return verdict;
        }
        if (crl->revokes(identity.cert.serial())) {
            verdict.revoked = true;
            return verdict;
        }
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
    const std::string who = identity.issuer + ":" + cert.serial().canonical() + " (" + cert.subject_dn() + ")";
    if (verdict.outside_validity) {
        return who + " is outside its validity period (" + format_utc(cert.not_before()) + " to " +
               format_utc(cert.not_after()) + ")";
    }
    if (verdict.stale_crl) {
        return who + ": the CRL of " + identity.issuer + " in " + verdict.crl->source + " went stale at " +
               format_utc(verdict.crl->next_update + policy.crl_grace()) + " (nextUpdate " +
               format_utc(verdict.crl->next_update) + ")";
    }
    if (verdict.revoked) return who + " is revoked by " + verdict.crl->source;
    return verdict.granted ? who + " matched " + verdict.match.rule : who + " did not match " + verdict.rule;
}

}  // namespace cscguard
