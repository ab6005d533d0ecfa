#include "policy/rules.h"

#include <fstream>

#include <gtest/gtest.h>

#include "policy/error.h"
#include "policy/policy_store.h"
#include "tests/support/decide.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_pki.h"

namespace cscguard {
namespace {

using testing::CertSpec;
using testing::TestCa;

// Two CAs, an allowlist, and certificates of both: the world the rules see.
class Rules : public ::testing::Test {
protected:
    void SetUp() override {
        // In a directory of this test's own: a fixed path in /tmp is shared by
        // every test process ctest --parallel runs, and by other build trees.
        const std::string list = temp / "partners.list";
        std::ofstream(list) << "kitty:0A0A  partner-bot\nacme:0B0B\n";
        store = std::make_unique<PolicyStore>(
            std::vector<std::shared_ptr<const Issuer>>{Issuer::from_pem("kitty", kitty.pem()),
                                                       Issuer::from_pem("acme", acme.pem())},
            std::vector<AllowlistSource>{{"partners", list, "test.conf:1"}}, std::vector<CrlSource>{}, 0);
        policy = store->current();
    }

    Identity id(const TestCa& ca, CertSpec spec) const { return policy->identify(ca.issue(spec)); }

    Verdict decide(RuleKind kind, std::string_view line, const Identity& identity) const {
        return testing::decide(*policy, kind, line, identity);
    }

    bool grants(RuleKind kind, std::string_view line, const Identity& identity) const {
        return decide(kind, line, identity).granted;
    }

    testing::TempDir temp;
    TestCa kitty{"kitty-ca"};
    TestCa acme{"acme-ca"};
    TestCa impostor{"kitty-ca"};
    std::unique_ptr<PolicyStore> store;
    std::shared_ptr<const Policy> policy;
};

TEST_F(Rules, IdentifyFindsTheIssuerByKey) {
    EXPECT_EQ(id(kitty, {{{"CN", "a"}}, "01"}).issuer_name, "kitty");
    EXPECT_EQ(id(acme, {{{"CN", "a"}}, "01"}).issuer_name, "acme");
    EXPECT_EQ(id(impostor, {{{"CN", "a"}}, "01"}).issuer_name, "");
    EXPECT_EQ(policy->identify(testing::self_signed({{{"CN", "a"}}, "01"})).issuer_name, "");
}

TEST_F(Rules, SerialRuleIsIssuerBound) {
    const Identity eager = id(kitty, {{{"CN", "eager"}}, "1D1D1C749D9C2D16"});
    const Identity twin = id(acme, {{{"CN", "eager"}}, "1D1D1C749D9C2D16"});
    EXPECT_TRUE(grants(RuleKind::Serial, "kitty:1d:1d:1c:74:9d:9c:2d:16", eager));
    EXPECT_FALSE(grants(RuleKind::Serial, "kitty:1d:1d:1c:74:9d:9c:2d:16", twin));
    EXPECT_TRUE(grants(RuleKind::Serial, "kitty:01 acme:0x1D1D1C749D9C2D16", twin));
    EXPECT_FALSE(grants(RuleKind::Serial, "kitty:1D1D1C749D9C2D17", eager));
}

TEST_F(Rules, ImpostorCaWithTheSameDnAndSerialNeverMatches) {
    const Identity forged = id(impostor, {{{"CN", "eager"}}, "1D1D"});
    const Verdict verdict = decide(RuleKind::Serial, "kitty:1D1D", forged);
    EXPECT_FALSE(verdict.granted);
    EXPECT_TRUE(verdict.unknown_issuer);
    EXPECT_FALSE(grants(RuleKind::Valid, "", forged));
    EXPECT_NE(describe(verdict, forged, *policy).find("was not issued by a declared CSCGuardIssuer"), std::string::npos);
}

TEST_F(Rules, BareSerialNeedsExactlyOneIssuer) {
    Rule rule = Rule::parse(RuleKind::Serial, "1D1D");
    try {
        rule.bind(*policy);
        FAIL();
    } catch (const PolicyError& err) {
        EXPECT_NE(std::string(err.what()).find("2 issuers are declared (kitty, acme): write ISSUER:SERIAL"),
                  std::string::npos);
    }
    Policy single({Issuer::from_pem("kitty", kitty.pem())}, {});
    rule.bind(single);
    const Identity eager = single.identify(kitty.issue({{{"CN", "e"}}, "1D1D"}));
    EXPECT_TRUE(evaluate(rule, eager, single, std::time(nullptr)).granted);
}

TEST_F(Rules, EmailExactCaseInsensitiveAndDomain) {
    const Identity dn_mail = id(kitty, {{{"CN", "e"}, {"emailAddress", "Eager@Kitty.example"}}, "01"});
    const Identity san_only = id(kitty, {{{"CN", "s"}}, "02", {"san@kitty.example"}});
    const Identity two_sans = id(acme, {{{"CN", "t"}}, "03", {"a@partner.example", "b@other.example"}});
    EXPECT_TRUE(grants(RuleKind::Email, "eager@kitty.example", dn_mail));
    EXPECT_TRUE(grants(RuleKind::Email, "EAGER@KITTY.EXAMPLE", dn_mail));
    EXPECT_TRUE(grants(RuleKind::Email, "san@kitty.example", san_only));
    EXPECT_TRUE(grants(RuleKind::Email, "*@kitty.example", san_only));
    EXPECT_TRUE(grants(RuleKind::Email, "b@other.example", two_sans));
    EXPECT_FALSE(grants(RuleKind::Email, "*@kitty.example", two_sans));
    EXPECT_FALSE(grants(RuleKind::Email, "*@example", dn_mail));           // exactly that domain
    EXPECT_FALSE(grants(RuleKind::Email, "*@sub.kitty.example", dn_mail));
    EXPECT_FALSE(grants(RuleKind::Email, "eager@kitty.example.evil", dn_mail));
    const Verdict v = decide(RuleKind::Email, "*@other.example", two_sans);
    ASSERT_TRUE(v.granted);
    EXPECT_EQ(v.match.email, "b@other.example");  // the address that matched
    EXPECT_EQ(v.match.rule, "cscguard-email");
}

TEST_F(Rules, SubjectAttributesAnyOfExact) {
    const Identity acme_dev = id(acme, {{{"O", "Acme Corp"}, {"OU", "R&D"}, {"OU", "Ops"}, {"CN", "eager-client"}}, "01"});
    EXPECT_TRUE(grants(RuleKind::Subject, "CN=eager-client", acme_dev));
    EXPECT_TRUE(grants(RuleKind::Subject, R"(O="Acme Corp")", acme_dev));
    EXPECT_TRUE(grants(RuleKind::Subject, "OU=Ops", acme_dev));  // any of a repeated attribute
    EXPECT_TRUE(grants(RuleKind::Subject, "CN=nobody organizationName=\"Acme Corp\"", acme_dev));
    EXPECT_TRUE(grants(RuleKind::Subject, "2.5.4.3=eager-client", acme_dev));
    EXPECT_FALSE(grants(RuleKind::Subject, "CN=Eager-Client", acme_dev));  // values are exact
    EXPECT_FALSE(grants(RuleKind::Subject, "O=Acme", acme_dev));
    EXPECT_FALSE(grants(RuleKind::Subject, "OU=eager-client", acme_dev));  // attribute matters
}

TEST_F(Rules, AllowlistRule) {
    const Identity bot = id(kitty, {{{"CN", "bot"}}, "0A0A"});
    const Identity acme_bot = id(acme, {{{"CN", "bot"}}, "0A0A"});
    EXPECT_TRUE(grants(RuleKind::Allowlist, "partners", bot));
    EXPECT_FALSE(grants(RuleKind::Allowlist, "partners", acme_bot));  // listed under kitty only
    EXPECT_EQ(decide(RuleKind::Allowlist, "partners", bot).match.rule, "cscguard-allowlist partners");
    Rule unknown = Rule::parse(RuleKind::Allowlist, "nosuchlist");
    EXPECT_THROW(unknown.bind(*policy), PolicyError);
}

TEST_F(Rules, ValidGrantsAnyDeclaredIssuer) {
    EXPECT_TRUE(grants(RuleKind::Valid, "", id(kitty, {{{"CN", "a"}}, "01"})));
    EXPECT_TRUE(grants(RuleKind::Valid, "", id(acme, {{{"CN", "a"}}, "01"})));
}

TEST_F(Rules, ValidCanBeLimitedToIssuers) {
    const Identity k = id(kitty, {{{"CN", "a"}}, "01"});
    const Identity a = id(acme, {{{"CN", "a"}}, "01"});
    EXPECT_TRUE(grants(RuleKind::Valid, "kitty", k));
    EXPECT_FALSE(grants(RuleKind::Valid, "kitty", a));
    EXPECT_TRUE(grants(RuleKind::Valid, "kitty acme", a));
    EXPECT_EQ(decide(RuleKind::Valid, "acme", a).match.rule, "cscguard-valid acme");
    Rule unknown = Rule::parse(RuleKind::Valid, "nobody");
    EXPECT_THROW(unknown.bind(*policy), PolicyError);
}

TEST_F(Rules, NothingBindsWithoutIssuers) {
    Policy empty({}, {});
    Rule rule = Rule::parse(RuleKind::Valid, "");
    EXPECT_THROW(rule.bind(empty), PolicyError);
}

struct BadLine {
    RuleKind kind;
    const char* line;
    const char* message;
};

void PrintTo(const BadLine& b, std::ostream* os) { *os << provider_name(b.kind) << " " << b.line; }

class RuleSyntax : public ::testing::TestWithParam<BadLine> {};

TEST_P(RuleSyntax, IsRefusedWithTheBadWord) {
    try {
        Rule::parse(GetParam().kind, GetParam().line);
        FAIL() << GetParam().line;
    } catch (const PolicyError& err) {
        EXPECT_EQ(std::string(err.what()), GetParam().message);
    }
}

INSTANTIATE_TEST_SUITE_P(
    EveryError, RuleSyntax,
    ::testing::Values(
        BadLine{RuleKind::Serial, "", "cscguard-serial needs at least one argument"},
        BadLine{RuleKind::Serial, "kitty:xyz", "'xyz' is not a serial number: 'x' at position 1 is not a hexadecimal digit"},
        BadLine{RuleKind::Email, "eager", "'eager' is not an e-mail address (want user@domain or *@domain)"},
        BadLine{RuleKind::Email, "a@b@c", "'a@b@c' is not an e-mail address (want user@domain or *@domain)"},
        BadLine{RuleKind::Email, "@kitty.example", "'@kitty.example' is not an e-mail address (want user@domain or *@domain)"},
        BadLine{RuleKind::Email, "*@", "'*@': '' is not a mail domain"},
        BadLine{RuleKind::Email, "*@bad..domain", "'*@bad..domain': 'bad..domain' is not a mail domain"},
        BadLine{RuleKind::Email, "a*b@kitty.example", "'a*b@kitty.example' is not an e-mail address (want user@domain or *@domain)"},
        BadLine{RuleKind::Subject, "eager-client", "'eager-client' is not ATTR=VALUE (e.g. CN=eager-client)"},
        BadLine{RuleKind::Subject, "XX=1", "unknown subject attribute 'XX' (use CN, O, OU, C, L, ST, emailAddress, UID, DC or a dotted OID)"},
        BadLine{RuleKind::Subject, "CN=", "'CN=' has an empty value"},
        BadLine{RuleKind::Subject, "O=\"Acme Corp", "unterminated \" quote"},
        BadLine{RuleKind::Allowlist, "", "cscguard-allowlist needs at least one argument"},
        BadLine{RuleKind::Allowlist, "a/b", "'a/b' is not a valid allowlist name: use a letter first, then letters, digits, '.', '_' or '-' (and not a 1-2 digit hex group like 'ab')"},
        BadLine{RuleKind::Valid, "kitty:01", "'kitty:01' is not a valid issuer name: use a letter first, then letters, digits, '.', '_' or '-' (and not a 1-2 digit hex group like 'ab')"}));

TEST(RefuseConnection, OnlyVerifiedTlsPasses) {
    EXPECT_EQ(refuse_connection(false, "SUCCESS"), "not a TLS connection");
    EXPECT_FALSE(refuse_connection(true, "SUCCESS"));
    for (const char* v : {"NONE", "GENEROUS", "FAILED:certificate has expired", "success", "SUCCESS ", ""}) {
        EXPECT_TRUE(refuse_connection(true, v)) << v;
    }
}

}  // namespace
}  // namespace cscguard
