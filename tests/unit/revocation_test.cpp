// Revocation comes before every rule, is bound to the issuer, and a stale
// CRL denies its issuer's certificates - judged with an injected clock.
#include <gtest/gtest.h>

#include "policy/allowlist.h"

#include "policy/crl.h"
#include "policy/rules.h"
#include "tests/support/decide.h"
#include "tests/support/test_pki.h"

namespace cscguard {
namespace {

using testing::CertSpec;
using testing::CrlSpec;
using testing::decide;
using testing::TestCa;

class Revocation : public ::testing::Test {
protected:
    std::shared_ptr<const Policy> policy_with(const std::vector<std::string>& crl_pems, std::time_t grace = 0) {
        std::vector<std::shared_ptr<const RevocationList>> lists;
        for (const auto& pem : crl_pems) {
            for (auto& l : parse_crls(pem, "test.crl", issuers)) {
                lists.push_back(std::make_shared<const RevocationList>(std::move(l)));
            }
        }
        return std::make_shared<const Policy>(
            issuers, std::map<std::string, SerialTable>{{"staff", parse_allowlist("kitty:1D1D\n", "staff", {"kitty", "acme"})}},
            lists, grace);
    }

    TestCa kitty{"kitty-ca"};
    TestCa acme{"acme-ca"};
    std::vector<std::shared_ptr<const Issuer>> issuers{Issuer::from_pem("kitty", kitty.pem()),
                                                       Issuer::from_pem("acme", acme.pem())};
    std::string eager_pem = kitty.issue({{{"CN", "eager-client"}, {"emailAddress", "eager@kitty.example"}}, "1D1D"});
    std::string other_pem = kitty.issue({{{"CN", "other"}, {"emailAddress", "other@kitty.example"}}, "3333"});
};

TEST_F(Revocation, RevokedCertificateNeverGrantsOnAnyRule) {
    const auto policy = policy_with({kitty.crl({{"1D1D"}})});
    const Identity eager = policy->identify(eager_pem);
    const Identity other = policy->identify(other_pem);
    const std::vector<std::pair<RuleKind, std::string>> rules = {
        {RuleKind::Serial, "kitty:1D1D kitty:3333"},      {RuleKind::Email, "*@kitty.example"},
        {RuleKind::Subject, "CN=eager-client CN=other"}, {RuleKind::Allowlist, "staff"},
        {RuleKind::Valid, ""},                            {RuleKind::Valid, "kitty"}};
    for (const auto& [kind, line] : rules) {
        const Verdict v = decide(*policy, kind, line, eager);
        EXPECT_FALSE(v.granted) << provider_name(kind);
        EXPECT_TRUE(v.revoked) << provider_name(kind);
        EXPECT_EQ(describe(v, eager, *policy), "kitty:1D1D (emailAddress=eager@kitty.example,CN=eager-client) is revoked by test.crl");
    }
    EXPECT_TRUE(decide(*policy, RuleKind::Valid, "", other).granted);
    EXPECT_TRUE(decide(*policy, RuleKind::Serial, "kitty:3333", other).granted);
}

TEST_F(Revocation, AnotherIssuersCrlRevokingTheSameSerialChangesNothing) {
    const auto policy = policy_with({acme.crl({{"1D1D"}}), kitty.crl({})});
    const Identity eager = policy->identify(eager_pem);
    const Verdict v = decide(*policy, RuleKind::Serial, "kitty:1D1D", eager);
    EXPECT_TRUE(v.granted);
    const Identity acme_twin = policy->identify(acme.issue({{{"CN", "twin"}}, "1D1D"}));
    EXPECT_TRUE(decide(*policy, RuleKind::Valid, "", acme_twin).revoked);
}

TEST_F(Revocation, IssuerWithoutCrlIsNotChecked) {
    const auto policy = policy_with({acme.crl({{"01"}})});
    EXPECT_TRUE(decide(*policy, RuleKind::Valid, "", policy->identify(eager_pem)).granted);
}

TEST_F(Revocation, FreshStaleAndWithinGrace) {
    CrlSpec spec{{"3333"}};
    spec.this_update = -7200;
    spec.next_update = 3600;  // an hour from now
    const std::string pem = kitty.crl(spec);
    const std::time_t now = std::time(nullptr);
    const auto strict = policy_with({pem}, 0);
    const auto lenient = policy_with({pem}, 7200);
    const Identity eager = strict->identify(eager_pem);

    EXPECT_TRUE(decide(*strict, RuleKind::Valid, "", eager, now).granted);                    // fresh
    EXPECT_TRUE(decide(*strict, RuleKind::Valid, "", eager, now + 3500).granted);             // still fresh
    const Verdict stale = decide(*strict, RuleKind::Valid, "", eager, now + 3700);
    EXPECT_FALSE(stale.granted);
    EXPECT_TRUE(stale.stale_crl);
    EXPECT_TRUE(decide(*lenient, RuleKind::Valid, "", eager, now + 3700).granted);            // within grace
    EXPECT_TRUE(decide(*lenient, RuleKind::Valid, "", eager, now + 3600 + 7100).granted);
    EXPECT_TRUE(decide(*lenient, RuleKind::Valid, "", eager, now + 3600 + 7300).stale_crl);   // past grace

    const std::string text = describe(stale, eager, *strict);
    EXPECT_NE(text.find("the CRL of kitty in test.crl went stale at " + format_utc(strict->revocation("kitty")->next_update)),
              std::string::npos) << text;
}

// CSG0203 at start-up and when a request meets the CRL, and the request's
// deny line, are one text.
TEST_F(Revocation, StaleCrlMessageSaysWhenAndWhy) {
    CrlSpec spec{{}};
    spec.this_update = -7200;
    spec.next_update = 3600;
    const auto policy = policy_with({kitty.crl(spec)}, 60);
    const RevocationList& crl = *policy->revocation("kitty");
    const std::time_t now = std::time(nullptr);
    EXPECT_FALSE(is_stale(crl, now, 60));
    EXPECT_FALSE(is_stale(crl, crl.next_update + 60, 60));
    EXPECT_TRUE(is_stale(crl, crl.next_update + 61, 60));
    EXPECT_EQ(stale_crl_message(crl, 60),
              "the CRL of kitty in test.crl went stale at " + format_utc(crl.next_update + 60) + " (nextUpdate " +
                  format_utc(crl.next_update) +
                  " + CSCGuardCRLGrace): every certificate of kitty is denied until a fresh CRL is published");
    const Identity eager = policy->identify(eager_pem);
    const Verdict stale = decide(*policy, RuleKind::Valid, "", eager, crl.next_update + 61);
    ASSERT_TRUE(stale.stale_crl);
    EXPECT_EQ(describe(stale, eager, *policy),
              "kitty:1D1D (" + eager.cert.subject_dn() + "): " + stale_crl_message(crl, 60));
}

TEST_F(Revocation, StaleCrlDeniesEvenUnrevokedCertificatesOfItsIssuerOnly) {
    CrlSpec spec{{}};
    spec.this_update = -7200;
    spec.next_update = -60;  // went stale a minute ago
    const auto policy = policy_with({kitty.crl(spec), acme.crl({})});
    EXPECT_TRUE(decide(*policy, RuleKind::Valid, "", policy->identify(eager_pem)).stale_crl);
    EXPECT_TRUE(decide(*policy, RuleKind::Valid, "", policy->identify(acme.issue({{{"CN", "a"}}, "01"}))).granted);
}

TEST_F(Revocation, NewestCrlOfAnIssuerIsInForce) {
    CrlSpec old_spec{{"1D1D"}};
    old_spec.this_update = -7200;
    old_spec.number = 1;
    CrlSpec new_spec{{"3333"}};
    new_spec.this_update = -60;
    new_spec.number = 2;
    const auto policy = policy_with({kitty.crl(new_spec), kitty.crl(old_spec)});
    EXPECT_TRUE(decide(*policy, RuleKind::Valid, "", policy->identify(eager_pem)).granted);
    EXPECT_TRUE(decide(*policy, RuleKind::Valid, "", policy->identify(other_pem)).revoked);
}

// crlNumber is the CA's own count: it decides before thisUpdate (a clock can be wrong).
TEST_F(Revocation, HigherCrlNumberWinsOverALaterThisUpdate) {
    CrlSpec numbered_higher{{"1D1D"}};
    numbered_higher.this_update = -7200;
    numbered_higher.number = 0x100;
    CrlSpec later{{"3333"}};
    later.this_update = -60;
    later.number = 0xFF;
    const auto policy = policy_with({kitty.crl(later), kitty.crl(numbered_higher)});
    EXPECT_TRUE(decide(*policy, RuleKind::Valid, "", policy->identify(eager_pem)).revoked);
    EXPECT_TRUE(decide(*policy, RuleKind::Valid, "", policy->identify(other_pem)).granted);
}

// mod_ssl reports SUCCESS for a resumed TLS session whose certificate has
// expired since the full handshake: the module judges the dates itself.
TEST_F(Revocation, ExpiredOrNotYetValidCertificatesAreDenied) {
    const auto policy = policy_with({kitty.crl({})});
    CertSpec expired{{{"CN", "old"}}, "0E"};
    expired.not_before = -86400;
    expired.not_after = -60;
    const Identity old_id = policy->identify(kitty.issue(expired));
    const Verdict old_verdict = decide(*policy, RuleKind::Valid, "", old_id);
    EXPECT_FALSE(old_verdict.granted);
    EXPECT_TRUE(old_verdict.outside_validity);
    EXPECT_NE(describe(old_verdict, old_id, *policy).find("is outside its validity period"), std::string::npos);

    CertSpec future{{{"CN", "new"}}, "0F"};
    future.not_before = 3600;
    future.not_after = 7200;
    EXPECT_TRUE(decide(*policy, RuleKind::Valid, "", policy->identify(kitty.issue(future))).outside_validity);

    CertSpec current{{{"CN", "now"}}, "10"};
    EXPECT_TRUE(decide(*policy, RuleKind::Valid, "", policy->identify(kitty.issue(current))).granted);
}

}  // namespace
}  // namespace cscguard

namespace cscguard {
namespace {

// The fleet's revocation cache: its answer weighed by policy/ (the glue asks).
class CacheRevocation : public Revocation {
protected:
    Verdict with(const CacheAnswer& answer, const std::string& crl) {
        policy = policy_with({crl});
        Rule rule = Rule::parse(RuleKind::Valid, "");
        rule.bind(*policy);
        eager = std::make_unique<Identity>(policy->identify(eager_pem));
        return evaluate(rule, *eager, *policy, std::time(nullptr), &answer);
    }

    static CacheAnswer answer(CacheAnswer::State state, bool fail_closed = false) {
        CacheAnswer a;
        a.state = state;
        a.entry = {"keyCompromise", 1795824000};
        a.why = "connection refused";
        a.source = "redis:127.0.0.1:6379";
        a.fail_closed = fail_closed;
        return a;
    }

    std::shared_ptr<const Policy> policy;
    std::unique_ptr<Identity> eager;
};

TEST_F(CacheRevocation, AnEntryDeniesAsTheCrlWouldAndTheLogNamesTheCache) {
    const CacheAnswer revoked = answer(CacheAnswer::State::Revoked);
    const Verdict v = with(revoked, kitty.crl({}));
    EXPECT_FALSE(v.granted);
    EXPECT_TRUE(v.revoked);
    EXPECT_TRUE(v.cache_revoked);
    EXPECT_EQ(describe(v, *eager, *policy),
              "kitty:1D1D (emailAddress=eager@kitty.example,CN=eager-client) is revoked by the revocation cache "
              "redis:127.0.0.1:6379 (keyCompromise, 2026-11-28 00:00:00 UTC)");
}

TEST_F(CacheRevocation, NoEntryOrAnOutageFailingOpenLeavesTheCrlToDecide) {
    for (const auto state : {CacheAnswer::State::NotAsked, CacheAnswer::State::NotListed, CacheAnswer::State::Unavailable}) {
        const CacheAnswer a = answer(state);
        EXPECT_TRUE(with(a, kitty.crl({})).granted);
        const Verdict on_crl = with(a, kitty.crl({{"1D1D"}}));
        EXPECT_FALSE(on_crl.granted);
        EXPECT_TRUE(on_crl.revoked);
        EXPECT_FALSE(on_crl.cache_revoked);
    }
}

TEST_F(CacheRevocation, AnOutageFailingClosedDeniesAndSaysWhy) {
    const CacheAnswer down = answer(CacheAnswer::State::Unavailable, true);
    const Verdict v = with(down, kitty.crl({}));
    EXPECT_FALSE(v.granted);
    EXPECT_TRUE(v.cache_unavailable);
    EXPECT_NE(describe(v, *eager, *policy).find("the revocation cache redis:127.0.0.1:6379 cannot be asked (connection "
                                                "refused) and CSCGuardRevocationCacheFailure is closed"),
              std::string::npos);
    // Failing closed only weighs an outage: an answer "not listed" grants.
    EXPECT_TRUE(with(answer(CacheAnswer::State::NotListed, true), kitty.crl({})).granted);
}

}  // namespace
}  // namespace cscguard
