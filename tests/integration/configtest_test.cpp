// `apachectl configtest` (httpd -t) must fail, naming the directive, file and
// line, for every kind of bad cscguard configuration - and pass a good one.
#include <gtest/gtest.h>

#include "tests/integration/httpd.h"

namespace it {
namespace {

struct BadConfig {
    const char* name;
    const char* site;          // appended to the base configuration
    const char* culprit;       // text on the line the error must name
    const char* message;       // what the error must say
    const char* list = "";     // content of {DIR}/partners.list
};

void PrintTo(const BadConfig& c, std::ostream* os) { *os << c.name; }

// 1-based line of the first line of `config` containing `needle`.
int line_of(const std::string& config, const std::string& needle) {
    const std::size_t pos = config.find(needle);
    if (pos == std::string::npos) return -1;
    return 1 + static_cast<int>(std::count(config.begin(), config.begin() + static_cast<long>(pos), '\n'));
}

const char* kIssuers = "CSCGuardIssuer kitty {PKI}/kitty-ca.crt\nCSCGuardIssuer acme {PKI}/acme-ca.crt\n";

std::string site(const char* body) { return std::string(kIssuers) + body; }

class ConfigTest : public ::testing::TestWithParam<BadConfig> {};

TEST_P(ConfigTest, FailsNamingFileLineAndReason) {
    const BadConfig& bad = GetParam();
    Httpd server(bad.site);
    write_file(server.dir() + "/partners.list", bad.list);
    const Httpd::ConfigTest result = server.configtest();
    EXPECT_NE(result.status, 0) << result.output;
    EXPECT_NE(result.output.find(bad.message), std::string::npos) << result.output;
    const std::string config = read_file(server.config_path());
    const std::string place_a = "line " + std::to_string(line_of(config, bad.culprit)) + " of " + server.config_path();
    const std::string place_b = server.config_path() + ":" + std::to_string(line_of(config, bad.culprit));
    EXPECT_TRUE(result.output.find(place_a) != std::string::npos || result.output.find(place_b) != std::string::npos)
        << "expected '" << place_a << "' or '" << place_b << "' in:\n" << result.output;
}

const BadConfig kBadConfigs[] = {
    {"MalformedSerial", "<Location /x>\n  Require cscguard-serial kitty:xyz\n</Location>\n",
     "Require cscguard-serial kitty:xyz",
     "Require cscguard-serial: 'xyz' is not a serial number: 'x' at position 1 is not a hexadecimal digit"},
    {"MalformedAddress", "<Location /x>\n  Require cscguard-email eager.kitty.example\n</Location>\n",
     "Require cscguard-email", "Require cscguard-email: 'eager.kitty.example' is not an e-mail address"},
    {"UnknownSubjectAttribute", "<Location /x>\n  Require cscguard-subject XX=1\n</Location>\n",
     "Require cscguard-subject", "unknown subject attribute 'XX'"},
    {"UnknownIssuerInRequire", "<Location /x>\n  Require cscguard-serial nobody:01\n</Location>\n",
     "Require cscguard-serial nobody", "CSG0102: Require cscguard-serial at"},
    {"UnknownIssuerNamesTheDeclaredOnes", "<Location /x>\n  Require cscguard-serial nobody:01\n</Location>\n",
     "Require cscguard-serial nobody", "unknown issuer 'nobody' (declared with CSCGuardIssuer: kitty, acme)"},
    {"UnknownAllowlist", "<Location /x>\n  Require cscguard-allowlist partners\n</Location>\n",
     "Require cscguard-allowlist", "unknown allowlist 'partners' (declare it with CSCGuardAllowlist)"},
    {"BareSerialWithTwoIssuers", "<Location /x>\n  Require cscguard-serial 01\n</Location>\n",
     "Require cscguard-serial 01", "write ISSUER:SERIAL"},
    {"UnknownIssuerInValid", "<Location /x>\n  Require cscguard-valid kitty nobody\n</Location>\n",
     "Require cscguard-valid", "unknown issuer 'nobody'"},
    {"UnreadableCaFile", "CSCGuardIssuer extra {DIR}/missing-ca.pem\n", "CSCGuardIssuer extra",
     "CSCGuardIssuer: "},
    {"UnreadableCaFileSaysWhy", "CSCGuardIssuer extra {DIR}/missing-ca.pem\n", "CSCGuardIssuer extra",
     "missing-ca.pem: cannot read CA certificate"},
    {"GarbageCaFile", "CSCGuardIssuer extra {DIR}/partners.list\n", "CSCGuardIssuer extra",
     "partners.list: no certificate found (expected PEM or DER)", "this is not a certificate\n"},
    {"LeafCertificateAsCa", "CSCGuardIssuer extra {PKI}/eager.crt\n", "CSCGuardIssuer extra",
     "is not a CA certificate"},
    {"DuplicateIssuerName", "CSCGuardIssuer  kitty {PKI}/acme-ca.crt\n", "CSCGuardIssuer  kitty",
     "issuer 'kitty' is already declared at"},
    {"InvalidIssuerName", "CSCGuardIssuer ab {PKI}/acme-ca.crt\n", "CSCGuardIssuer ab",
     "'ab' is not a valid issuer name"},
    {"AllowlistSyntaxError", "CSCGuardAllowlist partners {DIR}/partners.list\n", "CSCGuardAllowlist partners",
     "partners.list:3: 'not-a-serial' is not a serial number", "# partners\nkitty:01\nnot-a-serial label\n"},
    {"AllowlistUnknownIssuer", "CSCGuardAllowlist partners {DIR}/partners.list\n", "CSCGuardAllowlist partners",
     "partners.list:1: unknown issuer 'nobody'", "nobody:01\n"},
    {"AllowlistMissingFile", "CSCGuardAllowlist partners {DIR}/nope.list\n", "CSCGuardAllowlist partners",
     "nope.list: cannot read allowlist: No such file or directory"},
    {"BadUserMode", "<Location /x>\n  CSCGuardUser uid\n</Location>\n", "CSCGuardUser uid",
     "CSCGuardUser: 'uid' is not one of serial, email, cn, dn, none"},
    {"IssuerInsideLocation", "<Location /x>\n  CSCGuardIssuer other {PKI}/acme-ca.crt\n</Location>\n",
     "CSCGuardIssuer other", "CSCGuardIssuer not allowed in <Location> context"},
};

std::vector<BadConfig> with_issuers() {
    std::vector<BadConfig> out;
    static std::vector<std::string> sites;
    sites.reserve(std::size(kBadConfigs));
    for (BadConfig c : kBadConfigs) {
        sites.push_back(site(c.site));
        c.site = sites.back().c_str();
        out.push_back(c);
    }
    return out;
}

INSTANTIATE_TEST_SUITE_P(EveryKind, ConfigTest, ::testing::ValuesIn(with_issuers()),
                         [](const auto& param_info) { return std::string(param_info.param.name); });

TEST(ConfigTestControl, ValidRuleWithoutAnyIssuerFails) {
    Httpd server("<Location /x>\n  Require cscguard-valid\n</Location>\n");
    const auto result = server.configtest();
    EXPECT_NE(result.status, 0);
    EXPECT_NE(result.output.find("needs at least one CSCGuardIssuer declared"), std::string::npos) << result.output;
}

// conf/example-site.conf, pointed at the test PKI, must stay a valid configuration.
TEST(ConfigTestControl, ExampleSiteConfigurationPasses) {
    std::string example = read_file(EXAMPLE_SITE);
    ASSERT_FALSE(example.empty());
    for (const auto& [from, to] : std::vector<std::pair<std::string, std::string>>{
             {"/etc/ssl/cscguard/", "{PKI}/"},
             {"/etc/ssl/private/", "{PKI}/"},
             {"/etc/apache2/cscguard/", "{DIR}/"},
             {"/var/www/picture-server", "{DIR}/docs"},
             {"${APACHE_LOG_DIR}", "{DIR}"},
             {"*:443", "127.0.0.1:{HTTPS}"}}) {
        for (std::size_t pos = 0; (pos = example.find(from, pos)) != std::string::npos; pos += to.size()) {
            example.replace(pos, from.size(), to);
        }
    }
    Httpd server(example);
    write_file(server.dir() + "/employees.list", "kitty:D1D11C749D9C2D16 eager-client\n");
    const auto result = server.configtest();
    EXPECT_EQ(result.status, 0) << result.output;
}

TEST(ConfigTestControl, GoodConfigurationPasses) {
    Httpd server(site("CSCGuardAllowlist partners {DIR}/partners.list\n"
                      "<Location /x>\n"
                      "  Require cscguard-serial kitty:01 acme:d1:d1\n"
                      "  Require cscguard-email *@kitty.example\n"
                      "  Require cscguard-subject O=\"Acme Corp\"\n"
                      "  Require cscguard-allowlist partners\n"
                      "  Require cscguard-valid kitty\n"
                      "  CSCGuardUser email\n"
                      "</Location>\n"));
    write_file(server.dir() + "/partners.list", "kitty:01\n");
    const auto result = server.configtest();
    EXPECT_EQ(result.status, 0) << result.output;
    EXPECT_NE(result.output.find("Syntax OK"), std::string::npos) << result.output;
}

}  // namespace
}  // namespace it
