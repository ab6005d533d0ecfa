// CRLs in a real httpd: revoked certificates get 403 on every provider,
// revocations are bound to their issuer, stale and forged CRLs never help.
#include <gtest/gtest.h>

#include "tests/integration/policy_site.h"

namespace it {
namespace {

TEST(Revocation, RevokedCertificateIsDeniedOnEveryProviderKind) {
    PolicySite site;
    write_file(site.list(), "kitty:1D1D1C749D9C2D16 eager\nkitty:0A1B san-only\n");
    make_crl("kitty-ca", site.kitty_crl(), 24, {kEagerSerial});
    site.server.start();
    for (const char* path : {"/serial", "/email", "/subject", "/allowlist", "/valid"}) {
        EXPECT_EQ(site.status(path, "eager"), 403) << path;     // revoked
        EXPECT_EQ(site.status(path, "san-only"), 200) << path;  // same rules, not revoked
    }
    EXPECT_NE(site.server.error_log().find("CSG0002: deny kitty:1D1D1C749D9C2D16"), std::string::npos);
    EXPECT_NE(site.server.error_log().find("is revoked by " + site.kitty_crl()), std::string::npos);
    expect_clean_log(site.server);
}

TEST(Revocation, AnotherIssuersCrlRevokingTheSameSerialChangesNothing) {
    PolicySite site;
    make_crl("acme-ca", site.acme_crl(), 24, {kEagerSerial});
    site.server.start();
    EXPECT_EQ(site.status("/serial", "eager"), 200);     // kitty's 1D1D... is not revoked
    EXPECT_EQ(site.status("/valid", "eager"), 200);
    EXPECT_EQ(site.status("/valid", "acme-twin"), 403);  // acme's 1D1D... is
    expect_clean_log(site.server);
}

TEST(Revocation, StaleCrlDeniesItsIssuerWithALogLineButTheServerRuns) {
    PolicySite site;
    make_crl("kitty-ca", site.kitty_crl(), -1);  // nextUpdate an hour ago, revokes nothing
    site.server.start();
    EXPECT_EQ(site.status("/valid", "eager"), 403);
    EXPECT_EQ(site.status("/valid", "san-only"), 403);
    EXPECT_EQ(site.status("/valid", "two-sans"), 200);  // acme's CRL is fresh
    const std::string log = site.server.error_log();
    const std::string line = "CSG0203: the CRL of kitty in " + site.kitty_crl() + " went stale at ";
    EXPECT_NE(log.find(line), std::string::npos) << log;
    EXPECT_NE(log.find("[cscguard:error]"), std::string::npos) << "said at error level while serving";
    expect_clean_log(site.server, {"CSG0203"});
}

// The text after "CSG0203: " on each line of `log` that holds it.
std::vector<std::string> stale_crl_messages(const std::string& log) {
    std::vector<std::string> messages;
    const std::string tag = "CSG0203: ";
    for (std::size_t at = log.find(tag); at != std::string::npos; at = log.find(tag, at)) {
        at += tag.size();
        messages.push_back(log.substr(at, log.find('\n', at) - at));
    }
    return messages;
}

TEST(Revocation, StaleCrlIsReportedInTheSameWordsAtStartupAndOnARequest) {
    PolicySite site;
    make_crl("kitty-ca", site.kitty_crl(), -1);
    const auto configtest = site.server.configtest();
    site.server.start();
    EXPECT_EQ(site.status("/valid", "eager"), 403);
    ASSERT_TRUE(site.server.log_shows("[cscguard:error]")) << site.server.error_log();

    const std::vector<std::string> at_configtest = stale_crl_messages(configtest.output);
    const std::vector<std::string> in_log = stale_crl_messages(site.server.error_log());
    ASSERT_EQ(at_configtest.size(), 1u) << configtest.output;
    ASSERT_GE(in_log.size(), 2u) << "start-up and the request: " << site.server.error_log();
    EXPECT_NE(at_configtest[0].find("the CRL of kitty in " + site.kitty_crl() + " went stale at "), std::string::npos)
        << at_configtest[0];
    for (const std::string& message : in_log) EXPECT_EQ(message, at_configtest[0]);
    expect_clean_log(site.server, {"CSG0203"});
}

TEST(Revocation, GraceKeepsARecentlyStaleCrlBelieved) {
    PolicySite site("CSCGuardCRLGrace 2h\n");
    make_crl("kitty-ca", site.kitty_crl(), -1, {"0x0A1B"});
    site.server.start();
    EXPECT_EQ(site.status("/valid", "eager"), 200);
    EXPECT_EQ(site.status("/valid", "san-only"), 403);  // still revoked
    expect_clean_log(site.server);
}

TEST(Revocation, CrlSignedByAnImpostorKeyIsRefusedAtStartup) {
    PolicySite site;
    make_crl("impostor-ca", site.kitty_crl(), 24);  // same issuer DN as kitty-ca, other key
    const auto result = site.server.configtest();
    EXPECT_NE(result.status, 0);
    EXPECT_NE(result.output.find("CSG0101: CSCGuardCRL (" + site.server.config_path() + ":"), std::string::npos)
        << result.output;
    EXPECT_NE(result.output.find("signature does not verify with the key of CSCGuardIssuer kitty"), std::string::npos)
        << result.output;
}

TEST(Revocation, GarbageCrlFailsConfigtest) {
    PolicySite site;
    write_file(site.kitty_crl(), "-----BEGIN X509 CRL-----\nnot base64\n-----END X509 CRL-----\n");
    const auto result = site.server.configtest();
    EXPECT_NE(result.status, 0);
    EXPECT_NE(result.output.find(site.kitty_crl() + ": PEM block #1 is damaged or truncated"), std::string::npos)
        << result.output;
}

TEST(Revocation, CrlOfAnUndeclaredIssuerFailsConfigtest) {
    std::string config = kPolicySite;
    const std::string acme_line = "CSCGuardIssuer acme  {PKI}/acme-ca.crt\n";
    config.erase(config.find(acme_line), acme_line.size());
    Httpd server(config);
    write_file(server.dir() + "/partners.list", "kitty:01\n");
    make_crl("kitty-ca", server.dir() + "/kitty.crl", 24);
    make_crl("acme-ca", server.dir() + "/acme.crl", 24);
    const auto result = server.configtest();
    EXPECT_NE(result.status, 0);
    EXPECT_NE(result.output.find("issuer 'O=Acme Corp,CN=acme-ca' is not a declared CSCGuardIssuer"),
              std::string::npos) << result.output;
}

}  // namespace
}  // namespace it
