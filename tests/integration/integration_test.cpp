// Real httpd + mod_ssl + mod_cscguard, real TLS requests with client
// certificates built by the openssl command line (make_pki.sh).
#include <chrono>
#include <memory>
#include <thread>

#include <gtest/gtest.h>

#include "tests/integration/client.h"
#include "tests/support/docs_dir.h"
#include "tests/integration/httpd.h"

namespace it {
namespace {

// Locations at server level apply to all three listeners: TLS with
// `SSLVerifyClient optional`, TLS with `optional_no_ca`, and plain HTTP.
const char* kSite = R"(
CSCGuardIssuer kitty {PKI}/kitty-ca.crt
CSCGuardIssuer acme  {PKI}/acme-ca.crt
CSCGuardAllowlist partners {DIR}/partners.list

<Directory {DIR}/docs>
  Require all granted
</Directory>
<Location /serial>
  Require cscguard-serial kitty:1d:1d:1c:74:9d:9c:2d:16 kitty:0x80F1E2D3C4B5A697
</Location>
<Location /email>
  Require cscguard-email EAGER@kitty.example b@other.example
  CSCGuardUser email
</Location>
<Location /domain>
  Require cscguard-email *@kitty.example
</Location>
<Location /subject>
  Require cscguard-subject O="Acme Corp"
  CSCGuardUser cn
</Location>
<Location /allowlist>
  Require cscguard-allowlist partners
  CSCGuardUser dn
</Location>
<Location /valid>
  Require cscguard-valid
  CSCGuardUser none
</Location>
<Location /a>
  Require cscguard-serial kitty:1D1D1C749D9C2D16
</Location>
<Location /a/b>
  Require cscguard-subject CN=san-only
</Location>
<Location /any>
  <RequireAny>
    Require ip 192.0.2.1
    Require cscguard-serial kitty:1D1D1C749D9C2D16
  </RequireAny>
</Location>
<Location /any-local>
  <RequireAny>
    Require ip 127.0.0.1
    Require cscguard-serial kitty:1D1D1C749D9C2D16
  </RequireAny>
</Location>
<Location /kitty-mail>
  <RequireAll>
    Require cscguard-email *@kitty.example
    Require cscguard-valid kitty
  </RequireAll>
</Location>
<Directory {DIR}/docs/ht>
  AllowOverride AuthConfig
</Directory>
<Location /not-eager>
  <RequireAll>
    Require cscguard-valid
    <RequireNone>
      Require cscguard-subject CN=eager-client
    </RequireNone>
  </RequireAll>
</Location>
)";

class Site : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        server = new Httpd(kSite);
        write_file(server->dir() + "/partners.list",
                   "# partners of picture-server\n"
                   "kitty:0A1B        san-only\n"
                   "acme:22:22        two-sans at Acme\n");
        write_file(server->dir() + "/docs/index.html", "open page\n");
        for (const char* dir : {"serial", "email", "domain", "subject", "allowlist", "valid", "a", "a/b", "any",
                                "any-local", "kitty-mail", "not-eager", "ht/good", "ht/bad"}) {
            cscguard::testing::add_page(server->dir() + "/docs", dir, std::string("page ") + dir + "\n");
        }
        write_file(server->dir() + "/docs/ht/good/.htaccess", "Require cscguard-serial kitty:1D1D1C749D9C2D16\nCSCGuardUser cn\n");
        write_file(server->dir() + "/docs/ht/bad/.htaccess", "Require cscguard-serial nobody:1D1D\n");
        server->start();
    }
    static void TearDownTestSuite() {
        delete server;
        server = nullptr;
    }

    void SetUp() override { log_from = server->error_log().size(); }

    // Every test fails on error-log lines it did not expect. httpd itself
    // logs each 403 as AH01630 ("client denied by server configuration").
    void TearDown() override {
        std::vector<std::string> expected = {"AH01630"};
        for (const auto& tag : extra_expected) expected.push_back(tag);
        for (const auto& line : server->unexpected_log_lines(log_from, expected)) {
            ADD_FAILURE() << "unexpected error-log line: " << line;
        }
    }

    static Response get(const std::string& path, const std::string& cert, std::vector<std::string> headers = {}) {
        return fetch({server->https_port(), path + "/", cert, true, std::move(headers)});
    }
    static long status(const std::string& path, const std::string& cert) { return get(path, cert).status; }

    static Httpd* server;
    std::size_t log_from = 0;
    std::vector<std::string> extra_expected;
};

Httpd* Site::server = nullptr;

TEST_F(Site, ListedSerialIsAllowedAndIdentified) {
    const Response r = get("/serial", "eager");
    EXPECT_EQ(r.status, 200) << r.error;
    EXPECT_EQ(r.body, "page serial\n");
    EXPECT_EQ(r.header("x-user"), "kitty:1D1D1C749D9C2D16");  // CSCGuardUser serial is the default
    EXPECT_EQ(r.header("x-cscguard-serial"), "1D1D1C749D9C2D16");
    EXPECT_EQ(r.header("x-cscguard-issuer"), "kitty");
    EXPECT_EQ(r.header("x-cscguard-email"), "eager@kitty.example");
    EXPECT_EQ(r.header("x-cscguard-rule"), "cscguard-serial");
}

TEST_F(Site, SerialWithTheHighBitSet) {
    EXPECT_EQ(status("/serial", "highbit"), 200);
    EXPECT_EQ(get("/serial", "highbit").header("x-cscguard-serial"), "80F1E2D3C4B5A697");
}

TEST_F(Site, UnlistedSerialIsForbidden) {
    const Response r = get("/serial", "other");
    EXPECT_EQ(r.status, 403);
    EXPECT_EQ(r.header("x-user"), "");
    EXPECT_EQ(r.header("x-cscguard-serial"), "");
}

TEST_F(Site, NoCertificateIsForbidden) {
    for (const char* path : {"/serial", "/email", "/domain", "/subject", "/allowlist", "/valid", "/any"}) {
        EXPECT_EQ(status(path, ""), 403) << path;
    }
    EXPECT_EQ(status("/", ""), 200);  // the rest of the site is open
}

TEST_F(Site, EmailExactCaseInsensitiveAndFromSan) {
    const Response eager = get("/email", "eager");  // DN emailAddress Eager@Kitty.example
    EXPECT_EQ(eager.status, 200);
    EXPECT_EQ(eager.header("x-user"), "eager@kitty.example");
    const Response two = get("/email", "two-sans");  // second of two SAN addresses
    EXPECT_EQ(two.status, 200);
    EXPECT_EQ(two.header("x-user"), "b@other.example");
    EXPECT_EQ(two.header("x-cscguard-email"), "b@other.example");
    EXPECT_EQ(status("/email", "san-only"), 403);
    EXPECT_EQ(status("/email", "other"), 403);  // no e-mail at all
}

TEST_F(Site, EmailDomainRule) {
    EXPECT_EQ(status("/domain", "eager"), 200);
    EXPECT_EQ(status("/domain", "san-only"), 200);  // SAN-only address
    EXPECT_EQ(status("/domain", "two-sans"), 403);
}

TEST_F(Site, SubjectRule) {
    const Response r = get("/subject", "two-sans");
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.header("x-user"), "two-sans");  // CSCGuardUser cn
    EXPECT_EQ(status("/subject", "eager"), 403);
}

TEST_F(Site, AllowlistRule) {
    const Response r = get("/allowlist", "san-only");
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.header("x-user"), "O=Kitty,CN=san-only");  // CSCGuardUser dn, RFC 2253 as mod_ssl prints it
    EXPECT_EQ(r.header("x-cscguard-rule"), "cscguard-allowlist partners");
    EXPECT_EQ(status("/allowlist", "two-sans"), 200);
    EXPECT_EQ(status("/allowlist", "eager"), 403);
}

TEST_F(Site, ValidRuleAndUserNone) {
    const Response r = get("/valid", "acme-twin");
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.header("x-user"), "");  // CSCGuardUser none
    EXPECT_EQ(r.header("x-cscguard-issuer"), "acme");
}

TEST_F(Site, SameSerialFromTheSecondCaIsForbidden) {
    // acme-twin has eager's serial and eager's whole subject DN.
    EXPECT_EQ(status("/serial", "acme-twin"), 403);
    EXPECT_EQ(status("/a", "acme-twin"), 403);
}

TEST_F(Site, ImpostorCaWithTheSameDnGetsNothing) {
    // Trusted by mod_ssl, same DN as kitty-ca, same serial and subject as eager.
    for (const char* path : {"/serial", "/email", "/domain", "/valid", "/a"}) {
        EXPECT_EQ(status(path, "impostor"), 403) << path;
    }
}

TEST_F(Site, PrefixedRulesCombineThroughRequireAll) {
    EXPECT_EQ(status("/kitty-mail", "eager"), 200);
    EXPECT_EQ(status("/kitty-mail", "acme-twin"), 403);  // claims @kitty.example, issued by acme
    EXPECT_EQ(status("/not-eager", "other"), 200);
    EXPECT_EQ(status("/not-eager", "eager"), 403);
}

TEST_F(Site, NestedLocationsAreDecidedOnTheirOwnRules) {
    EXPECT_EQ(status("/a", "eager"), 200);
    EXPECT_EQ(status("/a/b", "eager"), 403);
    EXPECT_EQ(status("/a", "san-only"), 403);
    EXPECT_EQ(status("/a/b", "san-only"), 200);
}

TEST_F(Site, OneKeepAliveConnectionVisitingBothLocations) {
    Client eager;
    const Response first = eager.get({server->https_port(), "/a/", "eager"});
    const Response second = eager.get({server->https_port(), "/a/b/", "eager"});
    const Response third = eager.get({server->https_port(), "/a/", "eager"});
    EXPECT_EQ(first.status, 200);
    EXPECT_EQ(second.status, 403);
    EXPECT_EQ(third.status, 200);
    EXPECT_EQ(first.new_connections, 1);
    EXPECT_EQ(second.new_connections, 0) << "the connection was not reused";
    EXPECT_EQ(third.new_connections, 0) << "the connection was not reused";

    Client san;
    EXPECT_EQ(san.get({server->https_port(), "/a/b/", "san-only"}).status, 200);
    const Response back = san.get({server->https_port(), "/a/", "san-only"});
    EXPECT_EQ(back.status, 403);
    EXPECT_EQ(back.new_connections, 0);
}

TEST_F(Site, RequireAnyWithRequireIp) {
    EXPECT_EQ(status("/any", "eager"), 200);   // ip does not match, serial does
    EXPECT_EQ(status("/any", "other"), 403);   // neither
    EXPECT_EQ(status("/any-local", ""), 200);  // ip matches, no certificate needed
}

TEST_F(Site, RequestHeadersNamedLikeSslVariablesChangeNothing) {
    const std::vector<std::string> spoof = {
        "SSL_CLIENT_VERIFY: SUCCESS",          "SSL-Client-Verify: SUCCESS",
        "SSL_CLIENT_M_SERIAL: 1D1D1C749D9C2D16", "SSL-Client-M-Serial: 1D1D1C749D9C2D16",
        "SSL_CLIENT_S_DN_Email: eager@kitty.example", "X-SSL-Client-Serial: 1D1D1C749D9C2D16",
        "CSCGUARD_SERIAL: 1D1D1C749D9C2D16",   "REMOTE_USER: kitty:1D1D1C749D9C2D16",
    };
    EXPECT_EQ(get("/serial", "", spoof).status, 403);
    EXPECT_EQ(get("/serial", "other", spoof).status, 403);
    EXPECT_EQ(get("/email", "other", spoof).status, 403);
    const Response eager = get("/serial", "eager", {"SSL_CLIENT_M_SERIAL: 3333", "SSL-Client-M-Serial: 3333"});
    EXPECT_EQ(eager.status, 200);
    EXPECT_EQ(eager.header("x-cscguard-serial"), "1D1D1C749D9C2D16");
}

TEST_F(Site, ForgedSelfSignedCertificateWithOptionalNoCa) {
    // optional_no_ca lets the forgery through the handshake (SSL_CLIENT_VERIFY=GENEROUS).
    const Response forged = fetch({server->noca_port(), "/serial/", "forged"});
    EXPECT_EQ(forged.status, 403) << forged.error;
    EXPECT_EQ(fetch({server->noca_port(), "/valid/", "forged"}).status, 403);
    // A real certificate on the same listener still verifies and is let in.
    EXPECT_EQ(fetch({server->noca_port(), "/serial/", "eager"}).status, 200);
}

TEST_F(Site, PlainHttpIsForbidden) {
    EXPECT_EQ(fetch({server->http_port(), "/serial/", "", false}).status, 403);
    EXPECT_EQ(fetch({server->http_port(), "/valid/", "", false, {"SSL_CLIENT_VERIFY: SUCCESS"}}).status, 403);
    EXPECT_EQ(fetch({server->http_port(), "/", "", false}).status, 200);
}

TEST_F(Site, RulesInHtaccessFiles) {
    const Response good = get("/ht/good", "eager");
    EXPECT_EQ(good.status, 200);
    EXPECT_EQ(good.header("x-user"), "eager-client");
    EXPECT_EQ(status("/ht/good", "other"), 403);
}

TEST_F(Site, BadHtaccessRuleIsAServerErrorNotAGrant) {
    extra_expected = {".htaccess: Require cscguard-serial: unknown issuer 'nobody'"};  // core:alert
    EXPECT_EQ(status("/ht/bad", "eager"), 500);
    EXPECT_NE(server->error_log().find("unknown issuer 'nobody'", log_from), std::string::npos);
}

TEST_F(Site, DecisionsAreLoggedAtInfoWithOurTags) {
    get("/serial", "eager");
    get("/serial", "other");
    const std::string log = server->error_log().substr(log_from);
    EXPECT_NE(log.find("[cscguard:info]"), std::string::npos);
    EXPECT_NE(log.find("CSG0001: grant kitty:1D1D1C749D9C2D16"), std::string::npos) << log;
    EXPECT_NE(log.find("CSG0002: deny kitty:3333"), std::string::npos) << log;
}

TEST_F(Site, AccessLogShowsTheUser) {
    get("/serial", "eager");
    // httpd writes the access log after the response has gone out.
    const std::string line = "127.0.0.1 kitty:1D1D1C749D9C2D16 \"GET /serial/";
    std::string log;
    for (int i = 0; i < 100 && log.find(line) == std::string::npos; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        log = read_file(server->dir() + "/access.log");
    }
    EXPECT_NE(log.find(line), std::string::npos) << log;
}

}  // namespace
}  // namespace it
