// What cscguard writes, read by independent tools: the openssl command line
// and NSS's pk12util (the way Firefox and Chromium import a .p12). Plus
// concurrent runs of the real binary.
#include <set>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/support/run_command.h"
#include "tests/tool/tool_harness.h"

namespace cscguard::tool::testing {
namespace {

using cscguard::testing::run_command;

std::string password_in(const std::string& out) {
    const std::string tag = "\"password\":\"";
    const std::size_t at = out.find(tag);
    return at == std::string::npos ? "" : out.substr(at + tag.size(), out.find('"', at + tag.size()) - at - tag.size());
}

class Interop : public ToolTest {
protected:
    void SetUp() override {
        ToolTest::SetUp();
        init();
        ASSERT_EQ(run({"issue", "client", "eager-client", "--email", "eager@kitty.example"}).code, 0);
        ASSERT_EQ(run({"issue", "server", "picture-server", "--san", "IP:127.0.0.1"}).code, 0);
        ASSERT_EQ(run({"issue", "client", "lazy-client"}).code, 0);
        ASSERT_EQ(run({"revoke", "lazy-client", "--reason", "keyCompromise", "--publish"}).code, 0);
    }
};

TEST_F(Interop, OpensslVerifiesEveryIssuedCertificate) {
    const auto [code, out] = run_command("openssl verify -CAfile " + dir + "/ca.crt " + dir + "/certs/*.pem");
    EXPECT_EQ(code, 0) << out;
    EXPECT_EQ(out.find("error"), std::string::npos) << out;
    const auto purpose = run_command("openssl verify -purpose sslclient -CAfile " + dir + "/ca.crt " + dir + "/certs/*.pem");
    EXPECT_NE(purpose.status, 0) << "the server certificate must not pass as a client";
}

TEST_F(Interop, OpensslVerifiesTheCrlAndItsReasons) {
    const auto [code, out] = run_command("openssl crl -in " + pub + "/crl.pem -CAfile " + dir + "/ca.crt -noout -text");
    EXPECT_EQ(code, 0) << out;
    EXPECT_NE(out.find("verify OK"), std::string::npos) << out;
    EXPECT_NE(out.find("Key Compromise"), std::string::npos) << out;
    EXPECT_NE(out.find("X509v3 CRL Number"), std::string::npos);
    EXPECT_NE(out.find("Next Update"), std::string::npos);
}

TEST_F(Interop, OpensslCaAcceptsTheDatabase) {
    // `openssl ca -gencrl` reads index.txt: proof it is the format openssl keeps.
    std::system(("printf '[ca]\\ndefault_ca=c\\n[c]\\ndatabase=" + dir + "/index.txt\\ncrlnumber=" + root +
                 "/crlnumber\\ndefault_md=sha256\\ndefault_crl_days=1\\n' > " + root + "/ca.cnf && echo 01 > " + root + "/crlnumber").c_str());
    const auto [code, out] = run_command("openssl ca -batch -gencrl -config " + root + "/ca.cnf -keyfile " + dir +
                                "/private/ca.key -cert " + dir + "/ca.crt -out " + root + "/openssl.crl");
    EXPECT_EQ(code, 0) << out;
    EXPECT_NE(run_command("openssl crl -in " + root + "/openssl.crl -noout -text").output.find("Key Compromise"), std::string::npos);
}

TEST_F(Interop, BothP12ProfilesOpenWithOpensslAndNss) {
    for (const char* profile : {"compat", "modern"}) {
        const std::string p12 = root + "/" + profile + ".p12";
        const Result r = run({"export-p12", "eager-client", profile, "--out", p12, "--json"});
        ASSERT_EQ(r.code, 0) << r.err;
        const std::string password = password_in(r.out);
        ASSERT_GE(password.size(), 20u);

        const auto info = run_command("openssl pkcs12 -in " + p12 + " -info -nodes -passin pass:" + password);
        EXPECT_EQ(info.status, 0) << info.output;
        EXPECT_NE(info.output.find("BEGIN PRIVATE KEY"), std::string::npos) << profile;
        EXPECT_NE(info.output.find(std::string(profile) == "compat" ? "pbeWithSHA1And3-KeyTripleDES-CBC" : "AES-256-CBC"),
                  std::string::npos) << info.output;
        EXPECT_NE(info.output.find(std::string(profile) == "compat" ? "MAC: sha1" : "MAC: sha256"), std::string::npos);
        EXPECT_NE(run_command("openssl pkcs12 -in " + p12 + " -noout -passin pass:wrong-password").status, 0);

        const std::string nss = root + "/nss-" + profile;
        ASSERT_EQ(run_command("mkdir -p " + nss + " && certutil -N -d sql:" + nss + " --empty-password").status, 0);
        const auto imported = run_command("pk12util -i " + p12 + " -d sql:" + nss + " -W '" + password + "'");
        EXPECT_EQ(imported.status, 0) << profile << ": " << imported.output;
        const auto listed = run_command("certutil -L -d sql:" + nss);
        EXPECT_NE(listed.output.find("eager-client"), std::string::npos) << listed.output;
    }
}

TEST_F(ToolTest, ConcurrentIssueRunsKeepTheDatabaseConsistent) {
    init();
    constexpr int kRuns = 6, kEach = 4;
    std::vector<pid_t> pids;
    for (int run_no = 0; run_no < kRuns; ++run_no) {
        const pid_t pid = fork();
        if (pid == 0) {
            for (int i = 0; i < kEach; ++i) {
                const std::string name = "c" + std::to_string(run_no) + "-" + std::to_string(i);
                const std::string cmd = std::string(CSCGUARD_TOOL) + " --dir " + dir + " issue client " + name + " >/dev/null";
                if (std::system(cmd.c_str()) != 0) _exit(1);
            }
            _exit(0);
        }
        pids.push_back(pid);
    }
    for (pid_t pid : pids) {
        int status = 0;
        waitpid(pid, &status, 0);
        EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    const Result listed = run({"list", "--json"});
    std::set<std::string> serials;
    for (std::size_t at = 0; (at = listed.out.find("\"serial\":\"", at)) != std::string::npos; at += 10) {
        serials.insert(listed.out.substr(at + 10, 32));
    }
    EXPECT_EQ(serials.size(), static_cast<std::size_t>(kRuns * kEach)) << listed.out;
    const Result doctor = run({"doctor"});
    EXPECT_EQ(doctor.code, 0) << doctor.out;
}

}  // namespace
}  // namespace cscguard::tool::testing
