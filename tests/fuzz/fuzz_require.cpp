// Fuzz target: `Require cscguard-*` lines. The first input byte picks the
// RuleKind (byte % 5: serial, email, subject, allowlist, valid), the rest is
// the line after the provider name.
//
// Covers split_words (policy/words.h), Rule::parse for every kind, then
// Rule::bind against a policy with two declared issuers (kitty, acme) and
// one allowlist (employees), and evaluate() + describe() of the bound rule
// for a real kitty-ca client certificate (tests/fuzz/fuzz_pki.h).
//
// Invariants: split_words of a line without quotes is a plain whitespace
// split; quoting every word (\ and " escaped) and splitting again gives the
// same words; Rule::parse refuses what split_words refuses.
#include <cctype>
#include <ctime>
#include <map>
#include <memory>

#include "policy/error.h"
#include "tests/fuzz/fuzz_check.h"
#include "tests/fuzz/fuzz_pki.h"
#include "policy/allowlist.h"
#include "policy/issuer.h"
#include "policy/policy.h"
#include "policy/rules.h"
#include "policy/words.h"

using namespace cscguard;
using cscguard::fuzz::shown;

namespace {

struct World {
    Policy policy;
    Identity identity;
};

const World& world() {
    static const World w = [] {
        std::map<std::string, SerialTable> allowlists;
        allowlists["employees"] = parse_allowlist("kitty:56B00CF3A574F2A9\n", "employees", {"kitty", "acme"});
        Policy policy({Issuer::from_pem("kitty", fuzz::kKittyCaCert), Issuer::from_pem("acme", fuzz::kAcmeCaCert)},
                      std::move(allowlists));
        Identity identity = policy.identify(fuzz::kEagerClientCert);
        if (identity.issuer_name != "kitty") fuzz::fail(__FILE__, __LINE__, "embedded client is not kitty's", {});
        return World{std::move(policy), std::move(identity)};
    }();
    return w;
}

std::vector<std::string> whitespace_split(std::string_view line) {
    std::vector<std::string> words;
    std::string word;
    for (char c : line) {
        if (std::isspace(static_cast<unsigned char>(c))) {
            if (!word.empty()) words.push_back(std::move(word));
            word.clear();
        } else {
            word += c;
        }
    }
    if (!word.empty()) words.push_back(std::move(word));
    return words;
}

std::string quoted(const std::vector<std::string>& words) {
    std::string line;
    for (const std::string& w : words) {
        line += line.empty() ? "\"" : " \"";
        for (char c : w) {
            if (c == '"' || c == '\\') line += '\\';
            line += c;
        }
        line += '"';
    }
    return line;
}

void check_words(std::string_view line, const std::vector<std::string>& words) {
    if (line.find_first_of("\"'") == std::string_view::npos) {
        FUZZ_CHECK_MSG(words == whitespace_split(line), "unquoted line split oddly: " + shown(line));
    }
    const std::string requoted = quoted(words);
    std::vector<std::string> again;
    try {
        again = split_words(requoted);
    } catch (const PolicyError& err) {
        fuzz::fail(__FILE__, __LINE__, "requoted words do not split", shown(requoted) + ": " + err.what());
    }
    FUZZ_CHECK_MSG(again == words, "quoting the words of " + shown(line) + " changes them: " + shown(requoted));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const World& w = world();
    const auto kind = static_cast<RuleKind>(data[0] % 5);
    const std::string_view line = fuzz::as_text(data + 1, size - 1);

    bool split_ok = true;
    try {
        check_words(line, split_words(line));
    } catch (const PolicyError&) {
        split_ok = false;
    }

    std::optional<Rule> rule;
    try {
        rule = Rule::parse(kind, line);
    } catch (const PolicyError&) {
        return 0;
    }
    FUZZ_CHECK_MSG(split_ok, std::string(provider_name(kind)) + " accepted an unsplittable line " + shown(line));
    FUZZ_CHECK(std::string_view(rule->provider()) == provider_name(kind));

    try {
        rule->bind(w.policy);
    } catch (const PolicyError&) {
        return 0;
    }
    const Verdict verdict = evaluate(*rule, w.identity, w.policy, std::time(nullptr));
    FUZZ_CHECK(!verdict.unknown_issuer && !verdict.revoked && !verdict.stale_crl);
    FUZZ_CHECK(!verdict.granted || !verdict.match.rule.empty());
    const std::string text = describe(verdict, w.identity, w.policy);
    FUZZ_CHECK(!text.empty());
    return 0;
}
