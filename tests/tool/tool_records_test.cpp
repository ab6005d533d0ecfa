// Every certificate the CA signs is in its database before any file of it
// exists: a certificate revoke cannot find must never be left on disk.
#include <cstdio>
#include <set>
#include <sys/stat.h>

#include "tools/cscguard/database.h"
#include "tools/cscguard/tool_error.h"
#include "tests/tool/tool_harness.h"

namespace cscguard::tool::testing {
namespace {

std::set<std::string> database_serials(const std::string& ca_dir) {
    std::set<std::string> serials;
    for (const Record& r : parse_database(read_text(ca_dir + "/index.txt"), ca_dir + "/index.txt")) serials.insert(r.serial);
    return serials;
}

// Files in certs/ and private/ (except ca.key) whose serial the database does not know.
std::vector<std::string> unrecorded_files(const std::string& ca_dir) {
    const std::set<std::string> known = database_serials(ca_dir);
    std::vector<std::string> unknown;
    for (const auto& [sub, suffix] : {std::pair{"certs", ".pem"}, std::pair{"private", ".key"}}) {
        for (const std::string& name : files_in(ca_dir + "/" + sub)) {
            if (std::string(sub) == "private" && name == "ca.key") continue;
            const bool named_by_serial = name.size() > 4 && name.substr(name.size() - 4) == suffix;
            if (!named_by_serial || !known.count(name.substr(0, name.size() - 4))) unknown.push_back(std::string(sub) + "/" + name);
        }
    }
    return unknown;
}

TEST_F(ToolTest, AnUnreadableP12PasswordSignsNothing) {
    init();
    unsetenv("CSCGUARD_TEST_UNSET_P12_PASS");
    const Result r = run({"issue", "client", "carol", "--p12", "modern", "--p12-pass", "env:CSCGUARD_TEST_UNSET_P12_PASS"});
    EXPECT_EQ(r.code, kBadSecret);
    EXPECT_NE(r.err.find("env:CSCGUARD_TEST_UNSET_P12_PASS"), std::string::npos) << r.err;
    EXPECT_TRUE(files_in(dir + "/certs").empty()) << "a certificate was signed before the secret was read";
    EXPECT_EQ(files_in(dir + "/private"), std::vector<std::string>{"ca.key"});
    EXPECT_TRUE(files_in(dir + "/p12").empty());
    EXPECT_EQ(read_text(dir + "/index.txt"), "");
    // The name is still free: nothing of the refused run counts.
    setenv("CSCGUARD_TEST_SET_P12_PASS", "carols-password", 1);
    EXPECT_EQ(run({"issue", "client", "carol", "--p12", "modern", "--p12-pass", "env:CSCGUARD_TEST_SET_P12_PASS"}).code, 0);
    EXPECT_EQ(run({"doctor"}).code, 0);
}

TEST_F(ToolTest, ACertificateIsRecordedBeforeItsFilesAreWritten) {
    init();
    // certs/ replaced by a file: writing the certificate fails after signing.
    ASSERT_EQ(std::system(("rm -rf '" + dir + "/certs' && touch '" + dir + "/certs'").c_str()), 0);
    const Result r = run({"issue", "client", "carol"});
    EXPECT_EQ(r.code, kFailure);
    EXPECT_NE(r.err.find("/certs/"), std::string::npos) << r.err;
    EXPECT_TRUE(unrecorded_files(dir).empty()) << "a file was written for a certificate the database does not know";
    EXPECT_EQ(database_serials(dir).size(), 1u) << "the signed certificate must be in the database, to be revocable";
    ASSERT_EQ(std::system(("rm -f '" + dir + "/certs' && mkdir -m 700 '" + dir + "/certs'").c_str()), 0);
    const Result doctor = run({"doctor"});
    EXPECT_EQ(doctor.code, kDoctorFound);
    EXPECT_NE(doctor.out.find(".pem is missing"), std::string::npos) << doctor.out;
    EXPECT_EQ(run({"revoke", "carol"}).code, 0) << "the recorded certificate can be revoked";
}

TEST_F(ToolTest, DoctorReportsCertificateAndKeyFilesTheDatabaseDoesNotKnow) {
    init();
    const Result issued = run({"issue", "client", "eager-client"});
    ASSERT_EQ(issued.code, 0) << issued.err;
    ASSERT_EQ(run({"doctor"}).code, 0);
    const std::string serial = *database_serials(dir).begin();
    const std::string stray = "7E57AB1E7E57AB1E7E57AB1E7E57AB1E";
    ASSERT_EQ(std::system(("cp '" + dir + "/certs/" + serial + ".pem' '" + dir + "/certs/" + stray + ".pem' && cp '" + dir +
                           "/private/" + serial + ".key' '" + dir + "/private/" + stray + ".key'").c_str()), 0);
    const Result r = run({"doctor"});
    EXPECT_EQ(r.code, kDoctorFound);
    EXPECT_NE(r.out.find("certs/" + stray + ".pem is not in index.txt"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("private/" + stray + ".key is not in index.txt"), std::string::npos) << r.out;
    EXPECT_EQ(r.out.find(serial), std::string::npos) << "the recorded certificate is fine";
    const Result json = run({"doctor", "--json"});
    EXPECT_NE(json.out.find("certs/" + stray + ".pem is not in index.txt"), std::string::npos) << json.out;
}

}  // namespace
}  // namespace cscguard::tool::testing
