// End to end: certificates issued by cscguard, files published by cscguard,
// enforced by mod_cscguard in a real httpd - and a revocation published
// while it serves takes effect without a restart.
#include <sys/stat.h>

#include <gtest/gtest.h>

#include "tests/support/issued_serial.h"
#include "tests/integration/policy_site.h"
#include "tests/support/run_command.h"
#include "tests/support/temp_dir.h"

namespace it {
namespace {

class ToolEndToEnd : public ::testing::Test {
protected:
    void SetUp() override {
        chmod(root.c_str(), 0755);  // httpd's children (www-data when we are root) read pub/ and trusted.pem
        tool("init --name kitty-ca --publish-dir " + root + "/pub");
        eager = cscguard::testing::issued_serial(tool("issue client eager-client --email eager@kitty.example --group staff"));
        lazy = cscguard::testing::issued_serial(tool("issue client lazy-client --email lazy@kitty.example --group ops"));
        outsider = cscguard::testing::issued_serial(tool("issue client outsider"));
        tool("publish");
        // mod_ssl must trust the tool's CA (the server certificate stays the openssl PKI's).
        std::system(("cat " + pki("trusted-cas.pem") + " " + root + "/pub/ca.crt > " + root + "/trusted.pem").c_str());
        std::system(("chmod -R a+rX " + root + "/pub " + root + "/trusted.pem").c_str());
    }

    // `cscguard --dir ROOT/ca ARGS` as a process; what it printed.
    std::string tool(const std::string& args) {
        const std::string cmd = std::string(CSCGUARD_TOOL) + " --dir " + root + "/ca " + args;
        const cscguard::testing::CommandResult r = cscguard::testing::run_command(cmd);
        EXPECT_EQ(r.status, 0) << cmd << "\n" << r.output;
        return r.output;
    }

    Request as(const std::string& serial, const std::string& path, int port) const {
        Request r;
        r.port = port;
        r.path = path + "/";
        r.cert_file = root + "/ca/certs/" + serial + ".pem";
        r.key_file = root + "/ca/private/" + serial + ".key";
        return r;
    }

    const cscguard::testing::TempDir temp{"cscguard-e2e"};
    const std::string root = temp.path();
    std::string eager, lazy, outsider;
};

TEST_F(ToolEndToEnd, PublishedFilesAreEnforcedAndARevocationTakesEffectLive) {
    const std::string pub = root + "/pub";
    Httpd server("CSCGuardIssuer kitty-ca " + pub + "/ca.crt\n"
                 "CSCGuardCRL " + pub + "/crl.pem\n"
                 "CSCGuardAllowlist all " + pub + "/all.list\n"
                 "CSCGuardAllowlist staff " + pub + "/staff.list\n"
                 "CSCGuardReloadInterval 1\n"
                 "<Directory {DIR}/docs>\n  Require all granted\n</Directory>\n"
                 "<Location /all>\n  Require cscguard-allowlist all\n</Location>\n"
                 "<Location /staff>\n  Require cscguard-allowlist staff\n</Location>\n"
                 "<Location /mail>\n  Require cscguard-email *@kitty.example\n  CSCGuardUser email\n</Location>\n",
                 "event", root + "/trusted.pem");
    add_pages(server.dir() + "/docs", {"all", "staff", "mail"});
    server.start();
    const int port = server.https_port();
    EXPECT_EQ(fetch(as(eager, "/all", port)).status, 200);
    EXPECT_EQ(fetch(as(eager, "/staff", port)).status, 200);       // group rule
    const Response mail = fetch(as(eager, "/mail", port));         // e-mail rule (SAN from the tool)
    EXPECT_EQ(mail.status, 200);
    EXPECT_EQ(mail.header("x-user"), "eager@kitty.example");
    EXPECT_EQ(fetch(as(eager, "/all", port)).header("x-cscguard-issuer"), "kitty-ca");
    EXPECT_EQ(fetch(as(lazy, "/staff", port)).status, 403);        // ops, not staff
    EXPECT_EQ(fetch(as(outsider, "/mail", port)).status, 403);     // no e-mail

    const std::string pid = read_file(server.dir() + "/httpd.pid");
    tool("revoke eager-client --reason keyCompromise --publish");
    long status = 0;
    for (int i = 0; i < 200 && status != 403; ++i) {
        status = fetch(as(eager, "/mail", port)).status;  // the CRL denies on every rule
        if (status != 403) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    EXPECT_EQ(status, 403) << "revocation not in force 10 s after publish\n" << server.error_log();
    // That was one child; each of the others follows the new snapshot within
    // its next look (a tenth of a second, longer under ASan on a busy machine).
    status = 0;
    for (int i = 0; i < 200 && status != 403; ++i) {
        status = fetch(as(eager, "/all", port)).status;
        if (status != 403) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    EXPECT_EQ(status, 403);
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    for (int i = 0; i < 10; ++i) EXPECT_EQ(fetch(as(eager, "/all", port)).status, 403) << "request " << i;
    EXPECT_EQ(fetch(as(lazy, "/all", port)).status, 200);
    EXPECT_EQ(read_file(server.dir() + "/httpd.pid"), pid) << "no restart";
    expect_clean_log(server);
}

}  // namespace
}  // namespace it
