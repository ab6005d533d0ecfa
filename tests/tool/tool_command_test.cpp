// Every verb through the command line, good and bad cases, in-process.
#include <fcntl.h>
#include <fstream>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/support/issued_serial.h"
#include "tests/support/run_command.h"
#include "tools/cscguard/tool_error.h"
#include "tests/tool/tool_harness.h"

namespace cscguard::tool::testing {
namespace {

int mode_of(const std::string& path) {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0 ? static_cast<int>(st.st_mode & 0777) : -1;
}

using cscguard::testing::issued_serial;
using cscguard::testing::run_command;

TEST_F(ToolTest, InitCreatesAPrivateCaAndPublishesAtOnce) {
    init();
    EXPECT_EQ(mode_of(dir), 0700);
    EXPECT_EQ(mode_of(dir + "/private"), 0700);
    EXPECT_EQ(mode_of(dir + "/private/ca.key"), 0600);
    EXPECT_NE(read_text(dir + "/ca.crt").find("BEGIN CERTIFICATE"), std::string::npos);
    EXPECT_NE(read_text(pub + "/crl.pem").find("BEGIN X509 CRL"), std::string::npos);
    EXPECT_NE(read_text(pub + "/all.list").find("# all valid client certificates of kitty-ca"), std::string::npos);
    EXPECT_EQ(mode_of(pub + "/crl.pem"), 0644);
    const Result again = run({"init", "--name", "kitty-ca"});
    EXPECT_EQ(again.code, kConflict);
    EXPECT_NE(again.err.find("already holds a CA"), std::string::npos);
}

TEST_F(ToolTest, InitRefusesANonEmptyDirectory) {
    mkdir(root.c_str(), 0755);
    mkdir(dir.c_str(), 0755);
    std::ofstream(dir + "/precious.txt") << "not a CA\n";
    const Result r = run({"init", "--name", "kitty-ca"});
    EXPECT_EQ(r.code, kConflict);
    EXPECT_NE(r.err.find("is not empty"), std::string::npos);
    EXPECT_EQ(mode_of(dir), 0755) << "a refused init changes nothing";
}

TEST_F(ToolTest, InitRefusesBadNames) {
    EXPECT_EQ(run({"init", "--name", "ab"}).code, kUsage);        // reads as a serial group
    EXPECT_EQ(run({"init", "--name", "kitty ca"}).code, kUsage);
    EXPECT_EQ(run({"init"}).code, kUsage);
}

TEST_F(ToolTest, IssueClientWritesCertKeyAndDatabase) {
    init();
    const Result r = run({"issue", "client", "eager-client", "--email", "eager@kitty.example", "--group", "staff"});
    ASSERT_EQ(r.code, 0) << r.err;
    const std::string serial = issued_serial(r.out);
    ASSERT_EQ(serial.size(), 32u) << r.out;
    EXPECT_EQ(mode_of(dir + "/private/" + serial + ".key"), 0600);
    EXPECT_NE(read_text(dir + "/index.txt").find("V\t"), std::string::npos);
    EXPECT_NE(read_text(dir + "/index.txt").find("\t" + serial + "\tclient\t/CN=eager-client/OU=staff\n"), std::string::npos);
}

TEST_F(ToolTest, DuplicateNameIsAConflict) {
    init();
    ASSERT_EQ(run({"issue", "client", "eager-client"}).code, 0);
    const Result dup = run({"issue", "client", "eager-client"});
    EXPECT_EQ(dup.code, kConflict);
    EXPECT_NE(dup.err.find("cscguard renew eager-client"), std::string::npos);
    EXPECT_EQ(run({"issue", "server", "eager-client"}).code, 0);  // a server may share a client's name
}

TEST_F(ToolTest, BadIssueArguments) {
    init();
    EXPECT_EQ(run({"issue", "client", "bad name"}).code, kUsage);
    EXPECT_EQ(run({"issue", "client", "x", "--email", "not-an-address"}).code, kUsage);
    EXPECT_EQ(run({"issue", "client", "x", "--group", "all"}).code, kUsage);
    EXPECT_EQ(run({"issue", "client", "x", "--key", "ed25519"}).code, kRefused);
    EXPECT_EQ(run({"issue", "client", "x", "--p12", "rc2"}).code, kUsage);
    EXPECT_EQ(run({"issue", "gadget", "x"}).code, kUsage);
    EXPECT_EQ(run({"issue", "server", "h", "--san", "URI:x"}).code, kUsage);
    EXPECT_EQ(run({"issue", "client", "x", "--days", "0"}).code, kUsage);
}

TEST_F(ToolTest, UnknownNameOrSerialIsNotFound) {
    init();
    EXPECT_EQ(run({"show", "nobody"}).code, kNotFound);
    EXPECT_EQ(run({"revoke", "nobody"}).code, kNotFound);
    EXPECT_EQ(run({"renew", "nobody"}).code, kNotFound);
    EXPECT_EQ(run({"show", "--serial", "01"}).code, kNotFound);
    EXPECT_EQ(run({"export-p12", "nobody"}).code, kNotFound);
}

TEST_F(ToolTest, NoCaInTheDirectory) {
    const Result r = run({"list"});
    EXPECT_EQ(r.code, kNotFound);
    EXPECT_NE(r.err.find("holds no CA: create one with `cscguard init"), std::string::npos);
}

TEST_F(ToolTest, EncryptedCaKeyNeedsTheRightPassphrase) {
    {
        std::vector<std::string> words{"--ca-pass", "pass:correct horse", "init", "--name", "kitty-ca", "--publish-dir", pub};
        ASSERT_EQ(run(words).code, 0);
    }
    EXPECT_NE(read_text(dir + "/private/ca.key").find("ENCRYPTED"), std::string::npos);
    const Result none = run({"issue", "client", "a"});
    EXPECT_EQ(none.code, kBadSecret);
    const Result wrong = run({"--ca-pass", "pass:wrong", "issue", "client", "a"});
    EXPECT_EQ(wrong.code, kBadSecret);
    EXPECT_NE(wrong.err.find("wrong or missing CA passphrase"), std::string::npos);
    EXPECT_EQ(run({"--ca-pass", "pass:correct horse", "issue", "client", "a"}).code, 0);
    EXPECT_EQ(run({"list"}).code, 0);  // reading needs no passphrase
}

TEST_F(ToolTest, LockedCaFailsAfterTheTimeout) {
    init();
    const int fd = open((dir + "/.lock").c_str(), O_RDWR);
    ASSERT_EQ(flock(fd, LOCK_EX), 0);
    const Result r = run({"--lock-timeout", "0.3", "issue", "client", "a"});
    EXPECT_EQ(r.code, kLocked);
    EXPECT_NE(r.err.find("is locked by another cscguard run"), std::string::npos);
    close(fd);
    EXPECT_EQ(run({"issue", "client", "a"}).code, 0);
}

TEST_F(ToolTest, CorruptedDatabaseLineIsNamed) {
    init();
    ASSERT_EQ(run({"issue", "client", "a"}).code, 0);
    std::ofstream(dir + "/index.txt", std::ios::app) << "V\tgarbage\n";
    for (const std::vector<std::string>& words : std::vector<std::vector<std::string>>{{"list"}, {"issue", "client", "b"}, {"doctor"}}) {
        const Result r = run(words);
        EXPECT_EQ(r.code, kFailure) << words[0];
        EXPECT_NE(r.err.find("index.txt:2: corrupted database line"), std::string::npos) << r.err;
    }
}

TEST_F(ToolTest, RevokePublishAndTheFilesTheModuleReads) {
    init();
    const std::string eager = issued_serial(run({"issue", "client", "eager-client", "--group", "staff"}).out);
    const std::string lazy = issued_serial(run({"issue", "client", "lazy-client", "--group", "staff", "--group", "ops"}).out);
    ASSERT_EQ(run({"issue", "server", "picture-server"}).code, 0);
    ASSERT_EQ(run({"publish"}).code, 0);
    EXPECT_NE(read_text(pub + "/all.list").find("kitty-ca:" + eager + "  eager-client\n"), std::string::npos);
    EXPECT_NE(read_text(pub + "/ops.list").find("kitty-ca:" + lazy), std::string::npos);
    EXPECT_EQ(read_text(pub + "/ops.list").find(eager), std::string::npos);
    EXPECT_EQ(read_text(pub + "/all.list").find("picture-server"), std::string::npos) << "servers are not clients";

    const Result r = run({"revoke", "lazy-client", "--reason", "affiliationChanged", "--publish"});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(read_text(pub + "/all.list").find(lazy), std::string::npos);
    EXPECT_EQ(run({"revoke", "--serial", lazy}).code, kConflict);
    EXPECT_EQ(run({"revoke", "eager-client", "--reason", "stolen"}).code, kUsage);
    const Result listed = run({"list", "--revoked", "--json"});
    EXPECT_NE(listed.out.find("\"reason\":\"affiliationChanged\""), std::string::npos) << listed.out;
    EXPECT_EQ(listed.out.find(eager), std::string::npos);
}

TEST_F(ToolTest, PublishPrintsTheHttpdLines) {
    init();
    ASSERT_EQ(run({"issue", "client", "a", "--group", "staff"}).code, 0);
    const Result r = run({"publish", "--out", root + "/elsewhere"});
    ASSERT_EQ(r.code, 0);
    EXPECT_NE(r.out.find("CSCGuardIssuer kitty-ca " + root + "/elsewhere/ca.crt"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("CSCGuardCRL " + root + "/elsewhere/crl.pem"), std::string::npos);
    EXPECT_NE(r.out.find("CSCGuardAllowlist staff " + root + "/elsewhere/staff.list"), std::string::npos);
}

TEST_F(ToolTest, RenewKeepsOrRevokesTheOldCertificate) {
    init();
    const std::string first = issued_serial(run({"issue", "client", "eager-client", "--email", "e@kitty.example", "--group", "staff"}).out);
    const Result kept = run({"renew", "eager-client"});
    ASSERT_EQ(kept.code, 0) << kept.err;
    const std::string second = issued_serial(kept.out);
    EXPECT_NE(second, first);
    EXPECT_EQ(read_text(dir + "/private/" + second + ".key"), read_text(dir + "/private/" + first + ".key")) << "same key without --rekey";
    const Result show = run({"show", "eager-client", "--json"});
    EXPECT_NE(show.out.find("\"serial\":\"" + second + "\""), std::string::npos) << show.out;
    EXPECT_NE(show.out.find("\"emails\":[\"e@kitty.example\"]"), std::string::npos);
    EXPECT_NE(show.out.find("\"groups\":[\"staff\"]"), std::string::npos);

    const Result rekeyed = run({"renew", "eager-client", "--rekey", "--revoke-old"});
    ASSERT_EQ(rekeyed.code, 0);
    const std::string third = issued_serial(rekeyed.out);
    EXPECT_NE(read_text(dir + "/private/" + third + ".key"), read_text(dir + "/private/" + second + ".key"));
    EXPECT_NE(read_text(dir + "/index.txt").find(",superseded\t" + second), std::string::npos);
    EXPECT_EQ(run({"renew", "eager-client", "--revoke-old", "--keep-old"}).code, kUsage);
}

TEST_F(ToolTest, RenewedServerKeepsItsSans) {
    init();
    ASSERT_EQ(run({"issue", "server", "picture-server", "--san", "DNS:pictures.example", "--san", "IP:127.0.0.1",
                   "--san", "IP:::1"}).code, 0);
    const Result renewed = run({"renew", "picture-server"});
    ASSERT_EQ(renewed.code, 0) << renewed.err;
    const std::string pem = run({"show", "picture-server", "--pem"}).out;
    std::ofstream(root + "/renewed.pem") << pem;
    const std::string text = run_command("openssl x509 -in " + root + "/renewed.pem -noout -ext subjectAltName").output;
    for (const char* want : {"DNS:picture-server", "DNS:pictures.example", "IP Address:127.0.0.1", "IP Address:0:0:0:0:0:0:0:1"}) {
        EXPECT_NE(text.find(want), std::string::npos) << text;
    }
}

TEST_F(ToolTest, ListFiltersAndExpiring) {
    init();
    ASSERT_EQ(run({"issue", "client", "short", "--days", "10"}).code, 0);
    ASSERT_EQ(run({"issue", "client", "long"}).code, 0);
    ASSERT_EQ(run({"revoke", "long"}).code, 0);
    const Result expiring = run({"list", "--expiring", "30"});
    EXPECT_NE(expiring.out.find("short"), std::string::npos);
    EXPECT_EQ(expiring.out.find("long"), std::string::npos);
    const Result valid = run({"list", "--valid", "--json"});
    EXPECT_EQ(valid.out.rfind("[{", 0), 0u);
    EXPECT_EQ(valid.out.find("\"long\""), std::string::npos);
    const Result later = run({"list", "--valid"}, std::time(nullptr) + 20 * 86400L);
    EXPECT_EQ(later.out.find("short"), std::string::npos) << "expired after 10 days";
}

TEST_F(ToolTest, SignAKeptKeyCsrAndRefuseBadOnes) {
    init();
    const std::string key = root + "/holder.key", csr = root + "/holder.csr", ca_csr = root + "/ca.csr";
    ASSERT_EQ(std::system(("openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout " + key +
                           " -subj /CN=ignored -out " + csr + " 2>/dev/null").c_str()), 0);
    const Result signed_ = run({"sign", "client", csr, "--name", "partner-bot", "--email", "bot@acme.example"});
    ASSERT_EQ(signed_.code, 0) << signed_.err;
    const std::string serial = issued_serial(signed_.out);
    struct stat st {};
    EXPECT_NE(::stat((dir + "/private/" + serial + ".key").c_str(), &st), 0) << "the holder keeps the key";
    EXPECT_EQ(run({"export-p12", "partner-bot"}).code, kNotFound);
    EXPECT_NE(run({"show", "partner-bot"}).out.find("CN=partner-bot"), std::string::npos);

    ASSERT_EQ(std::system(("openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout " + key +
                           " -subj /CN=evil -addext basicConstraints=critical,CA:TRUE -out " + ca_csr + " 2>/dev/null").c_str()), 0);
    const Result ca_req = run({"sign", "client", ca_csr, "--name", "evil"});
    EXPECT_EQ(ca_req.code, kRefused);
    EXPECT_NE(ca_req.err.find("asks for CA:TRUE"), std::string::npos);

    std::ofstream(root + "/garbage.csr") << "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n";
    const Result garbage = run({"sign", "client", root + "/garbage.csr", "--name", "g"});
    EXPECT_EQ(garbage.code, kFailure);
    EXPECT_NE(garbage.err.find("not a certificate signing request"), std::string::npos);
    EXPECT_EQ(run({"sign", "client", csr}).code, kUsage);  // --name is required
}

TEST_F(ToolTest, ExportP12ShowsAGeneratedPasswordOnce) {
    init();
    ASSERT_EQ(run({"issue", "client", "a"}).code, 0);
    const Result r = run({"export-p12", "a", "modern", "--json"});
    ASSERT_EQ(r.code, 0);
    EXPECT_NE(r.out.find("\"profile\":\"modern\""), std::string::npos);
    EXPECT_NE(r.out.find("\"password\":\""), std::string::npos);
    EXPECT_EQ(mode_of(dir + "/p12/a.p12"), 0600);
    const Result chosen = run({"export-p12", "a", "--p12-pass", "pass:chosen-password"});
    EXPECT_EQ(chosen.out.find("chosen-password"), std::string::npos) << "a chosen password is never echoed";
}

TEST_F(ToolTest, CrlStatusAndRefresh) {
    init({"--crl-days", "30"});
    EXPECT_EQ(run({"crl", "status"}).code, 0);
    const std::time_t later = std::time(nullptr) + 25 * 86400L;
    const Result due = run({"crl", "status", "--json"}, later);
    EXPECT_EQ(due.code, kCrlDue);
    EXPECT_NE(due.out.find("\"due\":true"), std::string::npos);
    EXPECT_EQ(run({"crl", "status"}, std::time(nullptr) + 31 * 86400L).code, kCrlDue);
    const Result not_yet = run({"crl", "refresh", "--if-due"});
    EXPECT_NE(not_yet.out.find("not due"), std::string::npos);
    ASSERT_EQ(run({"crl", "refresh", "--if-due"}, later).code, 0);
    EXPECT_EQ(run({"crl", "status"}, later).code, 0) << "fresh again after the refresh";
}

TEST_F(ToolTest, DoctorFindsProblems) {
    init();
    EXPECT_EQ(run({"doctor"}).code, 0);
    chmod((dir + "/private/ca.key").c_str(), 0644);
    const Result r = run({"doctor"});
    EXPECT_EQ(r.code, kDoctorFound);
    EXPECT_NE(r.out.find("private/ca.key is readable by others"), std::string::npos);
    chmod((dir + "/private/ca.key").c_str(), 0600);
    EXPECT_EQ(run({"doctor"}, std::time(nullptr) + 40 * 86400L).code, kDoctorFound);  // CRL stale by then
}

TEST_F(ToolTest, HelpForEveryVerb) {
    for (const char* verb : {"init", "issue", "sign", "renew", "revoke", "publish", "crl", "list", "show", "export-p12", "doctor"}) {
        const Result r = run({verb, "--help"});
        EXPECT_EQ(r.code, 0) << verb;
        EXPECT_NE(r.out.find(std::string("cscguard ") + verb), std::string::npos) << verb;
    }
    EXPECT_NE(run({"--help"}).out.find("exit codes"), std::string::npos);
    EXPECT_EQ(run({"frobnicate"}).code, kUsage);
    EXPECT_EQ(run({}).code, kUsage);
}

TEST_F(ToolTest, FromCsvIssuesABatchOrNothing) {
    init();
    std::ofstream(root + "/people.csv") << "name,emails,groups\nann,ann@kitty.example,staff\nbob,bob@kitty.example;b@x.example,staff;ops\n";
    const Result r = run({"issue", "client", "--from-csv", root + "/people.csv"});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_NE(r.out.find("issued 2 client certificates"), std::string::npos);
    std::ofstream(root + "/bad.csv") << "carl,carl@kitty.example,staff\nann,dup@kitty.example,staff\n";
    EXPECT_EQ(run({"issue", "client", "--from-csv", root + "/bad.csv"}).code, kConflict);
    EXPECT_EQ(run({"show", "carl"}).code, kNotFound) << "nothing of a refused batch is issued";
    std::ofstream(root + "/worse.csv") << "dora,not-an-address,staff\n";
    const Result worse = run({"issue", "client", "--from-csv", root + "/worse.csv"});
    EXPECT_EQ(worse.code, kUsage);
    EXPECT_NE(worse.err.find("worse.csv:1:"), std::string::npos);
}

}  // namespace
}  // namespace cscguard::tool::testing

namespace cscguard::tool::testing {
namespace {

// list and show are read by people: dates in ISO 8601, never the database's
// YYMMDDHHMMSSZ (index.txt keeps that form for `openssl ca`).
TEST_F(ToolTest, ListAndShowWriteDatesInIso8601) {
    init();
    ASSERT_EQ(run({"issue", "client", "eager-client", "--days", "36500"}).code, 0);  // past 2049: GeneralizedTime
    ASSERT_EQ(run({"revoke", "eager-client", "--reason", "keyCompromise"}).code, 0);
    const std::string index = read_text(dir + "/index.txt");
    const std::size_t tab = index.find('\t');
    const std::string db_expiry = index.substr(tab + 1, index.find('\t', tab + 1) - tab - 1);  // YYYYMMDDHHMMSSZ
    ASSERT_EQ(db_expiry.size(), 15u) << index;
    const std::string iso_day = db_expiry.substr(0, 4) + "-" + db_expiry.substr(4, 2) + "-" + db_expiry.substr(6, 2);
    const std::string iso = iso_day + "T" + db_expiry.substr(8, 2) + ":" + db_expiry.substr(10, 2) + ":" +
                            db_expiry.substr(12, 2) + "Z";

    const Result list = run({"list"});
    EXPECT_NE(list.out.find(" " + iso_day + " "), std::string::npos) << list.out;
    EXPECT_EQ(list.out.find(db_expiry.substr(2, 6)), std::string::npos) << "the database form\n" << list.out;
    const Result show = run({"show", "eager-client"});
    EXPECT_NE(show.out.find("expires     " + iso + "\n"), std::string::npos) << show.out;
    EXPECT_NE(show.out.find("(keyCompromise, 20"), std::string::npos) << show.out;
    EXPECT_NE(show.out.find("Z)\n"), std::string::npos) << show.out;
    EXPECT_EQ(show.out.find(db_expiry), std::string::npos) << show.out;
    const Result json = run({"show", "eager-client", "--json"});
    EXPECT_NE(json.out.find("\"expires\":\"" + iso + "\""), std::string::npos) << json.out;
    EXPECT_EQ(read_text(dir + "/index.txt"), index) << "the database keeps its form";
}

}  // namespace
}  // namespace cscguard::tool
