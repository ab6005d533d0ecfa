#include "policy/certificate.h"

#include <gtest/gtest.h>
#include <openssl/err.h>

#include "policy/error.h"
#include "tests/support/test_pki.h"

namespace cscguard {
namespace {

using testing::TestCa;
using Strings = std::vector<std::string>;

TEST(ClientCertificate, EmailsFromSubjectAndSanLowercased) {
    TestCa ca("kitty-ca");
    const auto cert = ClientCertificate::parse(ca.issue(
        {{{"CN", "eager-client"}, {"emailAddress", "Eager@Kitty.Example"}}, "1D", {"A@Partner.example", "b@other.example"}}));
    EXPECT_EQ(cert.emails(), (Strings{"eager@kitty.example", "a@partner.example", "b@other.example"}));
}

TEST(ClientCertificate, SubjectAttributesSerialAndNames) {
    TestCa ca("kitty-ca");
    const auto cert = ClientCertificate::parse(
        ca.issue({{{"C", "DE"}, {"O", "Acme Corp"}, {"OU", "R&D"}, {"OU", "Ops"}, {"CN", "eager-client"}}, "80AB"}));
    EXPECT_EQ(cert.serial().canonical(), "80AB");
    EXPECT_EQ(cert.common_name(), "eager-client");
    EXPECT_EQ(cert.subject_dn(), "CN=eager-client,OU=Ops,OU=R&D,O=Acme Corp,C=DE");
    EXPECT_EQ(cert.issuer_dn(), "O=Test CAs,CN=kitty-ca");
    ASSERT_EQ(cert.subject().size(), 5u);
    EXPECT_EQ(cert.subject()[1].oid, attribute_oid("O"));
    EXPECT_EQ(cert.subject()[1].value, "Acme Corp");
    EXPECT_TRUE(cert.emails().empty());
}

TEST(ClientCertificate, Utf8ValuesStayUtf8) {
    TestCa ca("kitty-ca");
    const auto cert = ClientCertificate::parse(ca.issue({{{"CN", "Jürgen Müller"}}, "01"}));
    EXPECT_EQ(cert.common_name(), "Jürgen Müller");
    EXPECT_EQ(cert.subject_dn(), "CN=Jürgen Müller");
}

TEST(ClientCertificate, ValueWithEmbeddedNulMatchesNothing) {
    TestCa ca("kitty-ca");
    const std::string evil("boss@kitty.example\0.evil.example", 32);
    const auto cert = ClientCertificate::parse(ca.issue({{{"CN", "x"}, {"emailAddress", evil}}, "01"}));
    EXPECT_TRUE(cert.emails().empty());
}

TEST(ClientCertificate, NoCnGivesEmpty) {
    TestCa ca("kitty-ca");
    EXPECT_EQ(ClientCertificate::parse(ca.issue({{{"O", "x"}}, "01"})).common_name(), "");
}

TEST(ClientCertificate, GarbageIsAnError) {
    EXPECT_THROW(ClientCertificate::parse("not a certificate"), PolicyError);
    EXPECT_THROW(ClientCertificate::parse(""), PolicyError);
    EXPECT_EQ(ERR_peek_error(), 0u);
}

TEST(AttributeOid, ShortLongLowercaseAndDotted) {
    EXPECT_EQ(attribute_oid("CN"), "2.5.4.3");
    EXPECT_EQ(attribute_oid("cn"), "2.5.4.3");
    EXPECT_EQ(attribute_oid("commonName"), "2.5.4.3");
    EXPECT_EQ(attribute_oid("2.5.4.3"), "2.5.4.3");
    EXPECT_EQ(attribute_oid("emailAddress"), "1.2.840.113549.1.9.1");
    EXPECT_EQ(attribute_oid("NoSuchThing"), "");
}

// An address with CR/LF could be forwarded as a header by a backend's
// RequestHeader line: it is no address and is left out.
TEST(ClientCertificate, EmailsWithControlCharactersAreLeftOut) {
    TestCa ca("kitty-ca");
    const auto cert = ClientCertificate::parse(
        ca.issue({{{"CN", "x"}, {"emailAddress", "a@x.example\r\nX-Admin: 1"}}, "1D", {"b@y.example\nZ: 1", "c@z.example"}}));
    EXPECT_EQ(cert.emails(), (Strings{"c@z.example"}));
}

TEST(SanEmails, AsWrittenInOrderWithoutNonAddresses) {
    TestCa ca("kitty-ca");
    const X509Ptr x509 = parse_pem_certificate(ca.issue(
        {{{"CN", "x"}, {"emailAddress", "dn@kitty.example"}},
         "1D",
         {"A@Partner.example", "b@y.example\nZ: 1", std::string("boss@kitty.example\0.evil.example", 32), "c@z.example"}}));
    EXPECT_EQ(san_emails(*x509), (Strings{"A@Partner.example", "c@z.example"}));  // the DN's are not SANs
    EXPECT_TRUE(san_emails(*parse_pem_certificate(ca.issue({{{"CN", "x"}}, "01"}))).empty());
    EXPECT_EQ(ERR_peek_error(), 0u);
}

TEST(ClientCertificate, ValidityPeriod) {
    TestCa ca("kitty-ca");
    testing::CertSpec spec{{{"CN", "x"}}, "01"};
    spec.not_before = -100;
    spec.not_after = 1000;
    const std::time_t now = std::time(nullptr);
    const auto cert = ClientCertificate::parse(ca.issue(spec));
    EXPECT_NEAR(static_cast<double>(cert.not_before() - now), -100, 2);
    EXPECT_NEAR(static_cast<double>(cert.not_after() - now), 1000, 2);
}

}  // namespace
}  // namespace cscguard
