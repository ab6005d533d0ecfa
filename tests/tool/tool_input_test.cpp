// Input the CA signs or stores: subjectAltNames (one name per option, never
// split), DNS names, IP addresses, e-mail addresses, every days option, the
// CRL URL; and how the CA key is encrypted.
#include <arpa/inet.h>
#include <filesystem>
#include <fstream>
#include <sys/stat.h>

#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "policy/openssl_ptr.h"
#include "tests/support/run_command.h"
#include "tools/cscguard/tool_error.h"
#include "tests/tool/tool_harness.h"

namespace cscguard::tool::testing {
namespace {

X509Ptr parse_pem(const std::string& pem) {
    BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
    return X509Ptr(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
}

std::string text_of(const ASN1_STRING* s) {
    return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)), static_cast<std::size_t>(ASN1_STRING_length(s)));
}

std::string general_name(const GENERAL_NAME* gn) {
    switch (gn->type) {
        case GEN_DNS: return "DNS:" + text_of(gn->d.dNSName);
        case GEN_EMAIL: return "email:" + text_of(gn->d.rfc822Name);
        case GEN_URI: return "URI:" + text_of(gn->d.uniformResourceIdentifier);
        case GEN_IPADD: {
            char text[INET6_ADDRSTRLEN] = "?";
            inet_ntop(gn->d.ip->length == 4 ? AF_INET : AF_INET6, gn->d.ip->data, text, sizeof text);
            return std::string("IP:") + text;
        }
        default: return "other:" + std::to_string(gn->type);
    }
}

// The subjectAltNames of a PEM certificate, in order.
std::vector<std::string> sans_of(const std::string& pem) {
    X509Ptr cert = parse_pem(pem);
    if (!cert) return {"(not a certificate)"};
    GeneralNamesPtr names(static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert.get(), NID_subject_alt_name, nullptr, nullptr)));
    std::vector<std::string> out;
    for (int i = 0; names && i < sk_GENERAL_NAME_num(names.get()); ++i) out.push_back(general_name(sk_GENERAL_NAME_value(names.get(), i)));
    return out;
}

// The CRL distribution point names of a PEM certificate.
std::vector<std::string> crl_urls_of(const std::string& pem) {
    X509Ptr cert = parse_pem(pem);
    std::vector<std::string> out;
    auto* points = static_cast<CRL_DIST_POINTS*>(X509_get_ext_d2i(cert.get(), NID_crl_distribution_points, nullptr, nullptr));
    for (int i = 0; points && i < sk_DIST_POINT_num(points); ++i) {
        const DIST_POINT* dp = sk_DIST_POINT_value(points, i);
        if (!dp->distpoint || dp->distpoint->type != 0) {
            out.push_back("(not a full name)");
            continue;
        }
        for (int j = 0; j < sk_GENERAL_NAME_num(dp->distpoint->name.fullname); ++j) {
            out.push_back(general_name(sk_GENERAL_NAME_value(dp->distpoint->name.fullname, j)));
        }
    }
    CRL_DIST_POINTS_free(points);
    return out;
}

using cscguard::testing::run_command;

class Inputs : public ToolTest {
protected:
    void SetUp() override {
        ToolTest::SetUp();
        init();
        csr = root + "/holder.csr";
        ASSERT_EQ(run_command("openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout " + root +
                              "/holder.key -subj /CN=ignored -out " + csr).status, 0);
    }
    std::string csr;
};

// --- subjectAltNames --------------------------------------------------------

TEST_F(Inputs, ASanIsOneNameNeverSplitOnCommas) {
    const Result r = run({"issue", "server", "picture-server", "--san", "DNS:a.kitty.example,email:x@kitty.example,URI:http://evil.example"});
    EXPECT_EQ(r.code, kUsage);
    EXPECT_NE(r.err.find("--san 'DNS:a.kitty.example,email:x@kitty.example,URI:http://evil.example'"), std::string::npos) << r.err;
    EXPECT_TRUE(files_in(dir + "/certs").empty());

    // policy/email.h allows ',' in a local part: it must stay one rfc822Name.
    const Result odd = run({"issue", "client", "odd", "--email", "odd,DNS:evil.example@kitty.example"});
    ASSERT_EQ(odd.code, 0) << odd.err;
    EXPECT_EQ(sans_of(run({"show", "odd", "--pem"}).out), std::vector<std::string>{"email:odd,DNS:evil.example@kitty.example"});
}

TEST_F(Inputs, ServerSansAreCheckedDnsNamesAndIpAddresses) {
    const Result good = run({"issue", "server", "picture-server", "--san", "DNS:*.kitty.example", "--san", "DNS:Pictures.Kitty-1.example",
                             "--san", "IP:127.0.0.1", "--san", "IP:2001:db8::1"});
    ASSERT_EQ(good.code, 0) << good.err;
    EXPECT_EQ(sans_of(run({"show", "picture-server", "--pem"}).out),
              (std::vector<std::string>{"DNS:picture-server", "DNS:*.kitty.example", "DNS:Pictures.Kitty-1.example", "IP:127.0.0.1",
                                        "IP:2001:db8::1"}));
    const Result signed_ = run({"sign", "server", csr, "--name", "api.kitty.example", "--san", "IP:::1"});
    ASSERT_EQ(signed_.code, 0) << signed_.err;
    EXPECT_EQ(sans_of(run({"show", "api.kitty.example", "--pem"}).out), (std::vector<std::string>{"DNS:api.kitty.example", "IP:::1"}));
    const std::size_t issued = files_in(dir + "/certs").size();

    const std::string label64(64, 'a');
    std::string too_long;
    while (too_long.size() < 250) too_long += std::string(60, 'b') + ".";
    too_long += "example";  // 254 characters
    for (const std::string& bad : std::vector<std::string>{"DNS:", "DNS:-a.kitty.example", "DNS:a-.kitty.example", "DNS:a..kitty.example",
                                   "DNS:a_b.kitty.example", "DNS:a b.kitty.example", "DNS:kitty.example.", "DNS:.kitty.example",
                                   "DNS:a.*.kitty.example", "DNS:*.*.kitty.example", "DNS:*", "DNS:*.example", "DNS:*kitty.example",
                                   "DNS:" + label64 + ".example", "DNS:" + too_long, "DNS:bücher.example", "DNS:1.2.3.4",
                                   "IP:999.1.1.1", "IP:1.2.3", "IP:fe80::1%eth0", "IP:kitty.example", "IP:", "email:x@kitty.example",
                                   "URI:http://kitty.example/", "dns:kitty.example"}) {
        const Result issue = run({"issue", "server", "h.kitty.example", "--san", bad});
        EXPECT_EQ(issue.code, kUsage) << bad << ": " << issue.err;
        EXPECT_NE(issue.err.find("--san '" + printable(bad) + "'"), std::string::npos) << issue.err;
        const Result sign = run({"sign", "server", csr, "--name", "h.kitty.example", "--san", bad});
        EXPECT_EQ(sign.code, kUsage) << bad << ": " << sign.err;
    }
    for (const std::string& bad_host : std::vector<std::string>{"a_b", "-a.kitty.example", "kitty..example", label64}) {
        EXPECT_EQ(run({"issue", "server", bad_host}).code, kUsage) << bad_host;
        EXPECT_EQ(run({"sign", "server", csr, "--name", bad_host}).code, kUsage) << bad_host;
    }
    EXPECT_EQ(files_in(dir + "/certs").size(), issued) << "a refused request was signed";
}

// --- e-mail addresses -----------------------------------------------------

TEST_F(Inputs, EmailAddressesAreCheckedAsTheModuleChecksThem) {
    for (const std::string& bad : std::vector<std::string>{"eager@kitty.example\r\nX-Injected: yes", "eager@kitty.example\n", "eager@kitty.example\t",
                                   "ea ger@kitty.example", "eager@kitty..example", "@kitty.example", "eager@", "eager",
                                   "eager@kitty@example", "eager*@kitty.example", "eager@kitty.example,URI:http://evil.example",
                                   "eager@kitty_example", std::string("eager\0@kitty.example", 20)}) {
        const Result issue = run({"issue", "client", "eager-client", "--email", bad});
        EXPECT_EQ(issue.code, kUsage) << bad;
        EXPECT_NE(issue.err.find("is not an e-mail address"), std::string::npos) << issue.err;
        EXPECT_EQ(issue.err.find_first_of(std::string("\r\t\0", 3)), std::string::npos) << "raw control characters in: " << issue.err;
        EXPECT_EQ(run({"sign", "client", csr, "--name", "eager-client", "--email", bad}).code, kUsage) << bad;
    }
    std::ofstream(root + "/people.csv") << "ann,ann@kitty.example,staff\ndora,dora@kitty..example,staff\n";
    const Result csv = run({"issue", "client", "--from-csv", root + "/people.csv"});
    EXPECT_EQ(csv.code, kUsage);
    EXPECT_NE(csv.err.find("people.csv:2:"), std::string::npos) << csv.err;
    EXPECT_TRUE(files_in(dir + "/certs").empty());

    const Result good = run({"issue", "client", "eager-client", "--email", "first.last+tag@mail.kitty-example.org", "--email",
                             "eager@kitty.example"});
    ASSERT_EQ(good.code, 0) << good.err;
    EXPECT_EQ(sans_of(run({"show", "eager-client", "--pem"}).out),
              (std::vector<std::string>{"email:first.last+tag@mail.kitty-example.org", "email:eager@kitty.example"}));
}

// `Require cscguard-email` can name neither a@x..y (an empty domain label) nor
// *@x (its '*@' means a whole domain): the tool must not put them in a
// certificate, and must say which field holds them.
TEST_F(Inputs, AddressesNoRuleCanNameAreRefusedNamingTheirField) {
    for (const std::string bad : {"a@x..y", "*@x"}) {
        const Result issue = run({"issue", "client", "eager-client", "--email", bad});
        EXPECT_EQ(issue.code, kUsage) << bad;
        EXPECT_NE(issue.err.find("--email '" + bad + "' is not an e-mail address"), std::string::npos) << issue.err;
        const Result sign = run({"sign", "client", csr, "--name", "eager-client", "--email", bad});
        EXPECT_EQ(sign.code, kUsage) << bad;
        EXPECT_NE(sign.err.find("--email '" + bad + "' is not an e-mail address"), std::string::npos) << sign.err;
    }
    std::ofstream(root + "/people.csv") << "ann,ann@kitty.example,staff\nbob,*@x,staff\ncid,a@x..y,staff\n";
    const Result csv = run({"issue", "client", "--from-csv", root + "/people.csv"});
    EXPECT_EQ(csv.code, kUsage);
    EXPECT_NE(csv.err.find("people.csv:2: the e-mail field '*@x' is not an e-mail address"), std::string::npos) << csv.err;
    EXPECT_TRUE(files_in(dir + "/certs").empty());
}

// --- days and other numbers -----------------------------------------------

TEST_F(Inputs, EveryDaysOptionIsBounded) {
    const std::string other = root + "/other";
    const auto init_other = [&](const std::vector<std::string>& extra) {
        std::vector<std::string> words{"--dir", other, "init", "--name", "other-ca", "--publish-dir", root + "/other-pub"};
        words.insert(words.end(), extra.begin(), extra.end());
        std::ostringstream out, err;
        return Result{run_cli(words, out, err, false, std::time(nullptr)), out.str(), err.str()};
    };
    const Result crl_days = init_other({"--crl-days", "3000000"});
    EXPECT_EQ(crl_days.code, kUsage);
    EXPECT_NE(crl_days.err.find("--crl-days"), std::string::npos) << crl_days.err;
    EXPECT_EQ(init_other({"--crl-days", "36501"}).code, kUsage);
    EXPECT_EQ(init_other({"--days", "36501"}).code, kUsage);
    EXPECT_TRUE(files_in(other).empty()) << "a refused init creates nothing";

    ASSERT_EQ(run({"issue", "client", "a"}).code, 0);
    EXPECT_EQ(run({"issue", "client", "b", "--days", "36501"}).code, kUsage);
    EXPECT_EQ(run({"issue", "server", "h", "--days", "3000000"}).code, kUsage);
    EXPECT_EQ(run({"sign", "client", csr, "--name", "c", "--days", "36501"}).code, kUsage);
    EXPECT_EQ(run({"renew", "a", "--days", "36501"}).code, kUsage);
    const Result expiring = run({"list", "--expiring", "3000000"});
    EXPECT_EQ(expiring.code, kUsage);
    EXPECT_NE(expiring.err.find("--expiring"), std::string::npos) << expiring.err;
    EXPECT_EQ(run({"list", "--expiring", "36500"}).code, 0);

    const Result timeout = run({"--lock-timeout", "soon", "list"});
    EXPECT_EQ(timeout.code, kUsage);
    EXPECT_NE(timeout.err.find("--lock-timeout"), std::string::npos) << timeout.err;
}

TEST_F(Inputs, NumbersInCscguardConfAreCheckedWithTheirLine) {
    std::string conf = read_text(dir + "/cscguard.conf");
    const std::size_t at = conf.find("crl_days = 30\n");
    ASSERT_NE(at, std::string::npos) << conf;
    conf.replace(at, 14, "crl_days = 3000000\n");
    std::ofstream(dir + "/cscguard.conf") << conf;
    const std::string crl = read_text(pub + "/crl.pem");
    const Result r = run({"publish"});
    EXPECT_EQ(r.code, kFailure);
    EXPECT_NE(r.err.find(dir + "/cscguard.conf:"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("crl_days"), std::string::npos) << r.err;
    EXPECT_EQ(read_text(pub + "/crl.pem"), crl) << "a CRL with an unreadable nextUpdate was published";
}

// --- the CRL URL ------------------------------------------------------------

TEST_F(Inputs, TheCrlUrlIsOneUriInEveryCertificate) {
    const std::string other = root + "/other";
    const auto init_with_url = [&](const std::string& url) {
        std::filesystem::remove_all(other);
        std::filesystem::remove_all(root + "/other-pub");
        std::ostringstream out, err;
        return run_cli({"--dir", other, "init", "--name", "other-ca", "--publish-dir", root + "/other-pub", "--crl-url", url}, out, err,
                       false, std::time(nullptr));
    };
    for (const char* bad : {"ftp://crl.kitty.example/kitty.crl", "crl.kitty.example/kitty.crl", "http://crl.kitty.example/a b.crl",
                            "http://crl.kitty.example/kitty.crl\n", "http://"}) {
        EXPECT_EQ(init_with_url(bad), kUsage) << bad;
    }
    const std::string url = "http://crl.kitty.example/kitty.crl,URI:http://evil.example/";
    ASSERT_EQ(init_with_url(url), 0);
    std::ostringstream out, err;
    ASSERT_EQ(run_cli({"--dir", other, "--json", "issue", "client", "a"}, out, err, false, std::time(nullptr)), 0) << err.str();
    const std::string json = out.str(), tag = "\"certificate\":\"";
    const std::size_t at = json.find(tag);
    ASSERT_NE(at, std::string::npos) << json;
    const std::string cert_file = json.substr(at + tag.size(), json.find('"', at + tag.size()) - at - tag.size());
    EXPECT_EQ(crl_urls_of(read_text(cert_file)), std::vector<std::string>{"URI:" + url});
}

// --- the CA key's encryption ------------------------------------------------

using SigPtr = OpenSslPtr<X509_SIG, X509_SIG_free>;
using Pbe2ParamPtr = OpenSslPtr<PBE2PARAM, PBE2PARAM_free>;
using Pbkdf2ParamPtr = OpenSslPtr<PBKDF2PARAM, PBKDF2PARAM_free>;

TEST_F(ToolTest, TheCaKeyIsEncryptedWithPbkdf2Sha256And600000Iterations) {
    ASSERT_EQ(run({"--ca-pass", "pass:correct horse", "init", "--name", "kitty-ca", "--publish-dir", pub}).code, 0);
    const std::string key_file = dir + "/private/ca.key";
    const std::string pem = read_text(key_file);
    BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
    SigPtr sig(PEM_read_bio_PKCS8(bio.get(), nullptr, nullptr, nullptr));
    ASSERT_TRUE(sig) << pem;
    const X509_ALGOR* alg = nullptr;
    X509_SIG_get0(sig.get(), &alg, nullptr);
    ASSERT_EQ(OBJ_obj2nid(alg->algorithm), NID_pbes2);
    Pbe2ParamPtr pbe2(static_cast<PBE2PARAM*>(ASN1_TYPE_unpack_sequence(ASN1_ITEM_rptr(PBE2PARAM), alg->parameter)));
    ASSERT_TRUE(pbe2);
    EXPECT_EQ(OBJ_obj2nid(pbe2->encryption->algorithm), NID_aes_256_cbc);
    ASSERT_EQ(OBJ_obj2nid(pbe2->keyfunc->algorithm), NID_id_pbkdf2);
    Pbkdf2ParamPtr kdf(static_cast<PBKDF2PARAM*>(ASN1_TYPE_unpack_sequence(ASN1_ITEM_rptr(PBKDF2PARAM), pbe2->keyfunc->parameter)));
    ASSERT_TRUE(kdf);
    EXPECT_EQ(ASN1_INTEGER_get(kdf->iter), 600000);
    ASSERT_NE(kdf->prf, nullptr) << "no PRF means HMAC-SHA1";
    EXPECT_EQ(OBJ_obj2nid(kdf->prf->algorithm), NID_hmacWithSHA256);
    ASSERT_EQ(kdf->salt->type, V_ASN1_OCTET_STRING);
    EXPECT_GE(ASN1_STRING_length(kdf->salt->value.octet_string), 16);

    // The openssl command line decrypts it with the passphrase, and only with it.
    EXPECT_EQ(run_command("openssl pkey -in " + key_file + " -passin 'pass:correct horse' -noout").status, 0);
    EXPECT_NE(run_command("openssl pkey -in " + key_file + " -passin pass:wrong -noout").status, 0);
    EXPECT_EQ(run({"--ca-pass", "pass:correct horse", "issue", "client", "a"}).code, 0);
}

}  // namespace
}  // namespace cscguard::tool::testing
