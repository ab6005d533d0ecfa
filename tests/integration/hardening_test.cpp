// Fail-open and rollback defects found by review, each reproduced against a
// real httpd: torn and rolled-back CRLs, torn allowlists, FIFOs at policy
// paths, bad files at a graceful restart, expired certificates on resumed
// TLS sessions, HTTP/2 streams, negated rules.
#include <chrono>
#include <cstdio>
#include <thread>

#include <curl/curl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>

#include "tests/integration/policy_site.h"

namespace it {
namespace {

using namespace std::chrono_literals;

const std::string kReload = "CSCGuardReloadInterval 1\n";

std::size_t count_of(const std::string& text, const std::string& what) {
    std::size_t n = 0;
    for (std::size_t pos = text.find(what); pos != std::string::npos; pos = text.find(what, pos + 1)) ++n;
    return n;
}

// The first request after a change reaches a child that re-read its files.
void settle() { std::this_thread::sleep_for(2500ms); }

// --- 1. A torn or replaced multi-issuer CRL file never drops an issuer ---

const char* kBothCrlsSite = R"(
CSCGuardIssuer kitty {PKI}/kitty-ca.crt
CSCGuardIssuer acme  {PKI}/acme-ca.crt
CSCGuardCRL {DIR}/both.crl
CSCGuardReloadInterval 1
<Directory {DIR}/docs>
  Require cscguard-valid
</Directory>
)";

class BothCrls : public ::testing::Test {
protected:
    void SetUp() override {
        make_crl("kitty-ca", server.dir() + "/kitty.crl", 24, {kEagerSerial});
        make_crl("acme-ca", server.dir() + "/acme.crl", 24, {kEagerSerial});  // acme-twin
        both = read_file(server.dir() + "/kitty.crl") + read_file(server.dir() + "/acme.crl");
        write_file(crl(), both);
        write_file(server.dir() + "/docs/index.html", "ok\n");
    }
    std::string crl() const { return server.dir() + "/both.crl"; }
    long status(const std::string& cert) const { return fetch({server.https_port(), "/", cert}).status; }

    Httpd server{kBothCrlsSite};
    std::string both;
};

TEST_F(BothCrls, TornInsideTheSecondBlockKeepsBothIssuersRevocations) {
    server.start();
    ASSERT_EQ(status("acme-twin"), 403);
    ASSERT_EQ(status("two-sans"), 200);
    const std::size_t second = both.find("-----BEGIN", 1);
    write_file(crl(), both.substr(0, second + (both.size() - second) / 2));
    EXPECT_TRUE(server.log_shows("PEM block #2 is damaged or truncated")) << server.error_log();
    settle();
    EXPECT_EQ(status("acme-twin"), 403) << "acme's revocations were dropped";
    EXPECT_EQ(status("eager"), 403);
    EXPECT_NE(server.error_log().find("[cscguard:error]"), std::string::npos);
    expect_clean_log(server, {"CSG0201"});
}

TEST_F(BothCrls, TornAtTheBlockBoundaryOrReplacedByAnotherIssuersCrlIsRefused) {
    server.start();
    write_file(crl(), both.substr(0, both.find("-----BEGIN", 1)));  // a valid file of kitty's CRL alone
    EXPECT_TRUE(server.log_shows("no longer holds a CRL of acme")) << server.error_log();
    settle();
    EXPECT_EQ(status("acme-twin"), 403);
    make_crl("acme-ca", server.dir() + "/acme.crl", 24, {kEagerSerial});
    write_file(crl(), read_file(server.dir() + "/acme.crl"));  // acme's (newer) CRL only: kitty would lose its CRL
    EXPECT_TRUE(server.log_shows("no longer holds a CRL of kitty")) << server.error_log();
    settle();
    EXPECT_EQ(status("eager"), 403);
    expect_clean_log(server, {"CSG0201"});
}

TEST_F(BothCrls, ConfigtestRefusesATornFile) {
    const std::size_t second = both.find("-----BEGIN", 1);
    write_file(crl(), both.substr(0, second + 40));
    const auto result = server.configtest();
    EXPECT_NE(result.status, 0);
    EXPECT_NE(result.output.find("both.crl: PEM block #2 is damaged or truncated"), std::string::npos) << result.output;
}

// --- 2. An older CRL put back never un-revokes, an old stale one never locks out ---

TEST(Rollback, OldCrlPutBackIsRefused) {
    PolicySite site(kReload);
    const std::string last_week = site.server.dir() + "/last-week.crl";
    make_crl("kitty-ca", site.kitty_crl(), 24);
    std::rename(site.kitty_crl().c_str(), last_week.c_str());
    make_crl("kitty-ca", site.kitty_crl(), 24, {kEagerSerial});  // today's: eager revoked
    site.server.start();
    ASSERT_EQ(site.status("/valid", "eager"), 403);
    write_file(site.kitty_crl(), read_file(last_week));
    EXPECT_TRUE(site.server.log_shows("is older than the one in force")) << site.server.error_log();
    settle();
    EXPECT_EQ(site.status("/valid", "eager"), 403) << "the old CRL un-revoked eager";
    EXPECT_EQ(site.status("/valid", "san-only"), 200);
    expect_clean_log(site.server, {"CSG0201"});
}

TEST(Rollback, OldStaleCrlPutBackDoesNotLockTheIssuerOut) {
    PolicySite site(kReload);
    const std::string old_stale = site.server.dir() + "/old.crl";
    make_crl("kitty-ca", site.kitty_crl(), -1);  // already stale
    std::rename(site.kitty_crl().c_str(), old_stale.c_str());
    make_crl("kitty-ca", site.kitty_crl(), 24);
    site.server.start();
    ASSERT_EQ(site.status("/valid", "san-only"), 200);
    write_file(site.kitty_crl(), read_file(old_stale));
    EXPECT_TRUE(site.server.log_shows("is older than the one in force")) << site.server.error_log();
    settle();
    EXPECT_EQ(site.status("/valid", "san-only"), 200);
    expect_clean_log(site.server, {"CSG0201"});
}

// --- 3. HTTP/2: one decode per certificate, not one per stream ---

TEST(Http2, StreamsOfOneConnectionDecodeTheCertificateOnce) {
    PolicySite site(R"(
LoadModule http2_module {MODULES}/mod_http2.so
Protocols h2 http/1.1
LogLevel warn cscguard:debug
)");
    site.server.start();
    Client client;
    for (int i = 0; i < 20; ++i) {
        const Response r = client.get({site.server.https_port(), "/valid/", "eager", true, {}, "", "", true});
        ASSERT_EQ(r.status, 200) << r.error;
        ASSERT_EQ(r.http_version, static_cast<long>(CURL_HTTP_VERSION_2_0)) << "not HTTP/2";
        if (i > 0) {
            EXPECT_EQ(r.new_connections, 0) << "request " << i << " did not reuse the connection";
        }
    }
    const std::string log = site.server.error_log();
    EXPECT_EQ(count_of(log, "CSG0001: grant"), 20u);
    EXPECT_EQ(count_of(log, "CSG0006: decoded the client certificate kitty:1D1D1C749D9C2D16"), 1u) << log;
    expect_clean_log(site.server);
}

TEST(Http2, ANewConnectionOfTheSameClientIsNotDecodedAgain) {
    PolicySite site("LogLevel warn cscguard:debug\nStartServers 1\nServerLimit 1\nMaxRequestWorkers 8\n", "worker");
    site.server.start();
    for (int i = 0; i < 5; ++i) ASSERT_EQ(site.status("/valid", "eager"), 200);  // fresh connections
    EXPECT_EQ(count_of(site.server.error_log(), "CSG0006: decoded"), 1u) << site.server.error_log();
    EXPECT_EQ(count_of(site.server.error_log(), "); this process now caches 1\n"), 1u) << site.server.error_log();
    expect_clean_log(site.server);
}

// --- 4. A torn allowlist never grants the wrong serial ---

TEST(TornAllowlist, LastLineWithoutLineEndIsRefused) {
    PolicySite site(kReload);
    write_file(site.list(), "kitty:0A1BFF someone\n");
    site.server.start();
    ASSERT_EQ(site.status("/allowlist", "san-only"), 403);
    write_file(site.list(), "kitty:0A1BFF someone\nkitty:0A1B");  // caught mid-write: san-only is 0A1B
    EXPECT_TRUE(site.server.log_shows("the last line has no line end")) << site.server.error_log();
    settle();
    EXPECT_EQ(site.status("/allowlist", "san-only"), 403) << "a torn line granted a serial";
    expect_clean_log(site.server, {"CSG0201"});
}

TEST(TornAllowlist, ConfigtestRefusesIt) {
    PolicySite site;
    write_file(site.list(), "kitty:1D1D1C749D9C2D16");
    const auto result = site.server.configtest();
    EXPECT_NE(result.status, 0);
    EXPECT_NE(result.output.find("partners.list:1: the last line has no line end"), std::string::npos) << result.output;
}

// --- 5. A FIFO at a policy path blocks nobody, and graceful restarts end ---

TEST(Fifo, AtACrlPathIsRefusedAndAGracefulRestartCompletes) {
    PolicySite site(kReload);
    make_crl("kitty-ca", site.kitty_crl(), 24, {kEagerSerial});
    site.server.start();
    ASSERT_EQ(site.status("/valid", "eager"), 403);
    std::remove(site.kitty_crl().c_str());
    ASSERT_EQ(mkfifo(site.kitty_crl().c_str(), 0644), 0);
    EXPECT_TRUE(site.server.log_shows("it is a FIFO, not a regular file")) << site.server.error_log();
    const std::vector<pid_t> old_children = site.server.children();
    site.server.graceful();
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    auto alive = [&] {
        for (pid_t pid : old_children) {
            if (kill(pid, 0) == 0 && !children_of(site.server.pid()).empty()) {
                for (pid_t now : site.server.children()) {
                    if (now == pid) return true;
                }
            }
        }
        return false;
    };
    while (alive() && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(100ms);
    EXPECT_FALSE(alive()) << "an old child never finished the graceful restart";
    ASSERT_TRUE(site.server.running()) << site.server.error_log();
    long status = 0;
    for (int i = 0; i < 100 && status == 0; ++i, std::this_thread::sleep_for(100ms)) status = site.status("/valid", "eager");
    EXPECT_EQ(status, 403) << "the revocation was lost";
    EXPECT_EQ(site.status("/valid", "san-only"), 200);
    expect_clean_log(site.server, {"CSG0201", "CSG0204"});
}

// --- 6. A bad file at a graceful restart keeps the site up ---

TEST(GracefulRestart, GarbageCrlKeepsTheLastGoodContentInsteadOfStopping) {
    PolicySite site(kReload);
    write_file(site.list(), "kitty:0A1B san-only\n");
    make_crl("kitty-ca", site.kitty_crl(), 24, {kEagerSerial});
    site.server.start();
    ASSERT_EQ(site.status("/valid", "eager"), 403);
    write_file(site.kitty_crl(), "garbage\n");
    write_file(site.list(), "this is not an allowlist\n");
    site.server.graceful();
    EXPECT_TRUE(site.server.log_shows("the version in force before the restart stays in force"))
        << site.server.error_log();
    std::this_thread::sleep_for(1s);
    ASSERT_TRUE(site.server.running()) << "httpd exited on a graceful restart:\n" << site.server.error_log();
    long status = 0;
    for (int i = 0; i < 100 && status == 0; ++i, std::this_thread::sleep_for(100ms)) status = site.status("/valid", "eager");
    EXPECT_EQ(status, 403);
    EXPECT_EQ(site.status("/allowlist", "san-only"), 200) << "the allowlist's last good content";
    EXPECT_NE(site.server.error_log().find("[cscguard:error]"), std::string::npos);
    expect_clean_log(site.server, {"CSG0201", "CSG0204"});
}

// A restart falls back to the last snapshot (DefaultRuntimeDir/cscguard): what
// the children enforced, not what the parent read at start-up.
TEST(GracefulRestart, FallsBackToWhatChildrenReloadedNotToTheStartupContent) {
    PolicySite site(kReload, "prefork");
    site.server.start();
    ASSERT_EQ(site.status("/valid", "eager"), 200);
    make_crl("kitty-ca", site.kitty_crl(), 24, {kEagerSerial});
    ASSERT_GE(site.seconds_until("/valid", "eager", 403, 10), 0);
    write_file(site.kitty_crl(), "garbage\n");
    site.server.graceful();
    EXPECT_TRUE(site.server.log_shows("the version in force before the restart stays in force"))
        << site.server.error_log();
    long status = 0;
    for (int i = 0; i < 100 && status == 0; ++i, std::this_thread::sleep_for(100ms)) status = site.status("/valid", "eager");
    EXPECT_EQ(status, 403) << "the restart rolled back to the start-up CRL";
    expect_clean_log(site.server, {"CSG0201", "CSG0204"});
}

TEST(GracefulRestart, OldCrlPutBackBeforeTheRestartIsRefused) {
    PolicySite site(kReload);
    const std::string last_week = site.server.dir() + "/last-week.crl";
    make_crl("kitty-ca", site.kitty_crl(), 24);
    std::rename(site.kitty_crl().c_str(), last_week.c_str());
    make_crl("kitty-ca", site.kitty_crl(), 24, {kEagerSerial});
    site.server.start();
    ASSERT_EQ(site.status("/valid", "eager"), 403);
    write_file(site.kitty_crl(), read_file(last_week));
    site.server.graceful();
    EXPECT_TRUE(site.server.log_shows("is older than the one in force")) << site.server.error_log();
    settle();
    EXPECT_EQ(site.status("/valid", "eager"), 403);
    expect_clean_log(site.server, {"CSG0201", "CSG0204"});
}

// Only a restart falls back: a first start (and configtest) refuses a bad
// file, whatever an earlier run of httpd recorded.
TEST(GracefulRestart, AStopAndStartWithABadFileRefusesToStart) {
    PolicySite site(kReload);
    site.server.start();
    write_file(site.kitty_crl(), "garbage\n");
    site.server.stop();
    try {
        site.server.start();
        ADD_FAILURE() << "httpd started with a garbage CRL";
    } catch (const std::runtime_error& err) {
        EXPECT_NE(std::string(err.what()).find("CSG0101: CSCGuardCRL"), std::string::npos) << err.what();
    }
}

// --- 7. An expired certificate on a resumed TLS session is denied ---

TEST(Expiry, CertificateThatExpiredSinceTheHandshakeIsDeniedOnAResumedSession) {
    PolicySite site("Header always set X-Resumed \"expr=%{SSL:SSL_SESSION_RESUMED}\"\n");
    site.server.start();
    const std::string dir = site.server.dir();
    const int seconds = 6;
    const std::string cmd = "PKI_DIR='" + pki_dir() + "' bash -c '. " + std::string(PKI_SH) +
                            " && pki_client_until " + dir + " short kitty-ca /CN=short/O=Kitty 0x5151 " +
                            std::to_string(seconds) + "' >/dev/null 2>&1";
    ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
    const auto issued = std::chrono::steady_clock::now();
    Request request{site.server.https_port(), "/valid/", ""};
    request.cert_file = dir + "/short.crt";
    request.key_file = dir + "/short.key";
    request.fresh_connection = true;
    Client client;
    const Response first = client.get(request);
    ASSERT_EQ(first.status, 200) << first.error;
    EXPECT_EQ(first.header("x-resumed"), "Initial");
    std::this_thread::sleep_until(issued + std::chrono::seconds(seconds + 2));
    const Response resumed = client.get(request);  // a new connection resuming the TLS session
    ASSERT_EQ(resumed.header("x-resumed"), "Resumed") << "status " << resumed.status << " " << resumed.error;
    EXPECT_EQ(resumed.status, 403) << "an expired certificate was let in";
    EXPECT_NE(site.server.error_log().find("is outside its validity period"), std::string::npos);
    expect_clean_log(site.server);
}

// --- 8. configtest warns about negated rules that let people in ---

TEST(NegatedRules, ConfigtestWarnsWhereANegationCanLetPeopleIn) {
    Httpd server(std::string(kPolicySite) + R"(
<Location /office>
  <RequireAll>
    Require ip 127.0.0.0/8
    Require not cscguard-serial kitty:0A1B
  </RequireAll>
</Location>
<Location /staff>
  <RequireAll>
    Require cscguard-valid kitty
    <RequireNone>
      Require cscguard-serial kitty:0A1B
    </RequireNone>
  </RequireAll>
</Location>
)");
    write_file(server.dir() + "/partners.list", "kitty:01\n");
    make_crl("kitty-ca", server.dir() + "/kitty.crl", 24);
    make_crl("acme-ca", server.dir() + "/acme.crl", 24);
    const auto result = server.configtest();
    EXPECT_EQ(result.status, 0) << result.output;
    const std::string config = read_file(server.config_path());
    const auto line_of = [&](const std::string& needle) {
        const std::size_t pos = config.find(needle);
        return std::to_string(1 + std::count(config.begin(), config.begin() + static_cast<long>(pos), '\n'));
    };
    const std::string warning = "CSG0103: Require not cscguard-serial at " + server.config_path() + ":" +
                                line_of("Require not cscguard-serial");
    EXPECT_NE(result.output.find(warning), std::string::npos) << result.output;
    EXPECT_EQ(count_of(result.output, "CSG0103"), 1u) << "the guarded /staff pattern is fine:\n" << result.output;
}

// What the warning is about, shown for real: a revoked certificate gets in.
TEST(NegatedRules, RevokedCertificateGetsThroughAnUnguardedNegation) {
    PolicySite site(R"(
<Location /office>
  <RequireAll>
    Require ip 127.0.0.0/8
    Require not cscguard-serial kitty:1D1D1C749D9C2D16
  </RequireAll>
</Location>
<Location /guarded>
  <RequireAll>
    Require ip 127.0.0.0/8
    Require cscguard-valid
    Require not cscguard-serial kitty:1D1D1C749D9C2D16
  </RequireAll>
</Location>
)");
    make_crl("kitty-ca", site.kitty_crl(), 24, {kEagerSerial});
    add_pages(site.server.dir() + "/docs", {"office", "guarded"});
    site.server.start();
    EXPECT_EQ(site.status("/office", "eager"), 200) << "httpd's semantics: a negated denial is no objection";
    EXPECT_EQ(site.status("/guarded", "eager"), 403);
    EXPECT_EQ(site.status("/guarded", "san-only"), 200);
    EXPECT_NE(site.server.error_log().find("CSG0103"), std::string::npos);
    expect_clean_log(site.server, {"CSG0103"});
}

}  // namespace
}  // namespace it
