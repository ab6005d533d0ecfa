// What `publish` writes for mod_cscguard, and where: group lists that become
// empty, the publish directory stored as an absolute path, and one publish
// directory per CA.
#include <climits>
#include <cstdlib>
#include <fstream>
#include <sys/stat.h>

#include <openssl/pem.h>

#include "tests/support/issued_serial.h"
#include "policy/openssl_ptr.h"
#include "tools/cscguard/tool_error.h"
#include "tests/tool/tool_harness.h"

namespace cscguard::tool::testing {
namespace {

bool exists(const std::string& path) {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0;
}

std::string real_path(const std::string& path) {
    char buf[PATH_MAX];
    return realpath(path.c_str(), buf) ? buf : path;
}

using cscguard::testing::issued_serial;

// The lines of an allowlist that list a certificate (not comments).
std::string entries_of(const std::string& list_file) {
    std::istringstream in(read_text(list_file));
    std::string entries;
    for (std::string line; std::getline(in, line);) {
        if (!line.empty() && line[0] != '#') entries += line + "\n";
    }
    return entries;
}

// SHA-256 of a PEM certificate's DER, as AB:CD:... (openssl x509 -fingerprint).
std::string fingerprint_of(const std::string& pem_file) {
    const std::string pem = read_text(pem_file);
    BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
    X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (!cert || !X509_digest(cert.get(), EVP_sha256(), md, &len)) return "";
    std::string out;
    char hex[4];
    for (unsigned int i = 0; i < len; ++i) {
        std::snprintf(hex, sizeof hex, i ? ":%02X" : "%02X", md[i]);
        out += hex;
    }
    return out;
}

// --- item 10: a group that became empty --------------------------------

TEST_F(ToolTest, PublishEmptiesTheListOfAGroupWhoseLastMemberWasRevoked) {
    init();
    const std::string lazy = issued_serial(run({"issue", "client", "lazy-client", "--group", "staff", "--group", "ops"}).out);
    const std::string eager = issued_serial(run({"issue", "client", "eager-client", "--group", "staff"}).out);
    ASSERT_EQ(run({"publish"}).code, 0);
    ASSERT_EQ(entries_of(pub + "/ops.list"), "kitty-ca:" + lazy + "  lazy-client\n");

    const Result revoked = run({"revoke", "lazy-client", "--publish"});
    ASSERT_EQ(revoked.code, 0) << revoked.err;
    EXPECT_EQ(entries_of(pub + "/ops.list"), "") << "the revoked certificate is still allowed by ops.list";
    EXPECT_NE(read_text(pub + "/ops.list").find("# group ops of kitty-ca"), std::string::npos) << "kept, with its header";
    EXPECT_EQ(entries_of(pub + "/staff.list"), "kitty-ca:" + eager + "  eager-client\n");

    // Another directory gets the empty list as well: the group comes from the database.
    ASSERT_EQ(run({"publish", "--out", root + "/elsewhere"}).code, 0);
    EXPECT_TRUE(exists(root + "/elsewhere/ops.list"));
    EXPECT_EQ(entries_of(root + "/elsewhere/ops.list"), "");
    const Result json = run({"publish", "--json"});
    EXPECT_NE(json.out.find("\"allowlists\":[\"all\",\"ops\",\"staff\"]"), std::string::npos) << json.out;
}

TEST_F(ToolTest, PublishEmptiesAListNoDatabaseRecordNames) {
    init();
    std::ofstream(pub + "/contractors.list") << "# group contractors\nkitty-ca:0A1B  gone-client\n";
    ASSERT_EQ(run({"issue", "client", "a", "--group", "staff"}).code, 0);
    const Result r = run({"publish"});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_TRUE(exists(pub + "/contractors.list")) << "a list that disappears keeps its last content in the module";
    EXPECT_EQ(entries_of(pub + "/contractors.list"), "");
    EXPECT_NE(entries_of(pub + "/all.list"), "") << "all.list is not a group";
}

// --- item 11: absolute publish directory ---------------------------------

TEST_F(ToolTest, InitStoresTheAbsolutePublishDirectory) {
    ASSERT_EQ(mkdir((root + "/elsewhere").c_str(), 0755), 0);
    const std::string log = root + "/log";
    ASSERT_EQ(wait_for(spawn_tool({"--dir", "ca", "init", "--name", "kitty-ca", "--publish-dir", "./pub/../pub2/"}, root, log)), 0)
        << read_text(log);
    ASSERT_EQ(wait_for(spawn_tool({"--dir", "other-ca", "init", "--name", "acme-ca"}, root, log)), 0) << read_text(log);
    const std::string abs = real_path(root);
    EXPECT_NE(read_text(dir + "/cscguard.conf").find("\npublish_dir = " + abs + "/pub2\n"), std::string::npos)
        << read_text(dir + "/cscguard.conf");
    EXPECT_NE(read_text(root + "/other-ca/cscguard.conf").find("\npublish_dir = " + abs + "/other-ca/publish\n"),
              std::string::npos) << "the default follows a relative --dir";

    // Issued from the CA's parent, revoked from elsewhere: the same directory is published.
    ASSERT_EQ(wait_for(spawn_tool({"--dir", "ca", "issue", "client", "eager-client"}, root, log)), 0) << read_text(log);
    ASSERT_EQ(wait_for(spawn_tool({"--dir", "ca", "publish"}, root, log)), 0) << read_text(log);
    ASSERT_NE(entries_of(root + "/pub2/all.list"), "");
    ASSERT_EQ(wait_for(spawn_tool({"--dir", dir, "revoke", "eager-client", "--publish"}, root + "/elsewhere", log)), 0)
        << read_text(log);
    EXPECT_EQ(entries_of(root + "/pub2/all.list"), "") << "revoke --publish did not update the CA's publish directory";
    EXPECT_TRUE(files_in(root + "/elsewhere").empty()) << "published relative to the current directory";
}

TEST_F(ToolTest, ARelativePublishDirInCscguardConfIsAClearError) {
    init();
    ASSERT_EQ(run({"issue", "client", "eager-client"}).code, 0);
    const std::string conf = read_text(dir + "/cscguard.conf");
    const std::size_t at = conf.find("publish_dir = ");
    ASSERT_NE(at, std::string::npos);
    std::ofstream(dir + "/cscguard.conf") << conf.substr(0, at) << "publish_dir = pub\n" << conf.substr(conf.find('\n', at) + 1);
    ASSERT_EQ(mkdir((root + "/cwd").c_str(), 0755), 0);
    const std::string log = root + "/log";
    for (const std::vector<std::string>& words : std::vector<std::vector<std::string>>{
             {"publish"}, {"revoke", "eager-client", "--publish"}, {"crl", "refresh"}}) {
        std::vector<std::string> args{"--dir", dir};
        args.insert(args.end(), words.begin(), words.end());
        std::remove(log.c_str());
        EXPECT_EQ(wait_for(spawn_tool(args, root + "/cwd", log)), kFailure) << words[0];
        const std::string err = read_text(log);
        EXPECT_NE(err.find(dir + "/cscguard.conf"), std::string::npos) << err;
        EXPECT_NE(err.find("publish_dir = pub is a relative path"), std::string::npos) << err;
        EXPECT_NE(err.find("absolute"), std::string::npos) << err;
    }
    EXPECT_TRUE(files_in(root + "/cwd").empty()) << "published relative to the current directory";
    EXPECT_EQ(run({"list", "--valid"}).out.find("eager-client") != std::string::npos, true)
        << "the refused revoke --publish changed nothing";
    const Result doctor = run({"doctor"});
    EXPECT_EQ(doctor.code, kDoctorFound);
    EXPECT_NE(doctor.out.find("publish_dir = pub is a relative path"), std::string::npos) << doctor.out;
    // `publish --out` with an explicit directory still works.
    EXPECT_EQ(run({"publish", "--out", pub}).code, 0);
}

// --- item 12: one publish directory per CA -------------------------------

TEST_F(ToolTest, TwoCasCannotShareAPublishDirectory) {
    init();
    const std::string ours = read_text(dir + "/ca.crt");
    const std::string marker = pub + "/cscguard.owner";
    EXPECT_NE(read_text(marker).find("ca = kitty-ca\n"), std::string::npos) << read_text(marker);
    EXPECT_NE(read_text(marker).find("sha256 = " + fingerprint_of(dir + "/ca.crt") + "\n"), std::string::npos)
        << read_text(marker);

    const std::string acme = root + "/acme";
    const auto as_ca = [](const std::string& ca_dir, std::vector<std::string> words) {
        words.insert(words.begin(), {"--dir", ca_dir});
        std::ostringstream out, err;
        const int code = run_cli(words, out, err, false, std::time(nullptr));
        return Result{code, out.str(), err.str()};
    };
    const auto as_acme = [&](std::vector<std::string> words) { return as_ca(acme, std::move(words)); };
    const Result shared = as_acme({"init", "--name", "acme-ca", "--publish-dir", pub});
    EXPECT_EQ(shared.code, kConflict);
    EXPECT_NE(shared.err.find("kitty-ca"), std::string::npos) << shared.err;
    EXPECT_NE(shared.err.find(marker), std::string::npos) << shared.err;
    EXPECT_FALSE(exists(acme)) << "a refused init creates nothing";
    EXPECT_EQ(read_text(pub + "/ca.crt"), ours);

    ASSERT_EQ(as_acme({"init", "--name", "acme-ca", "--publish-dir", root + "/acme-pub"}).code, 0);
    const Result out = as_acme({"publish", "--out", pub});
    EXPECT_EQ(out.code, kConflict);
    EXPECT_NE(out.err.find("kitty-ca"), std::string::npos) << out.err;
    EXPECT_EQ(read_text(pub + "/ca.crt"), ours) << "acme-ca overwrote kitty-ca's files";
    EXPECT_EQ(read_text(pub + "/all.list").find("acme-ca"), std::string::npos);

    // A directory an older cscguard published: no marker, but kitty-ca's ca.crt.
    ASSERT_EQ(std::remove(marker.c_str()), 0);
    const Result legacy = as_acme({"publish", "--out", pub});
    EXPECT_EQ(legacy.code, kConflict);
    EXPECT_NE(legacy.err.find("kitty-ca"), std::string::npos) << legacy.err;
    EXPECT_EQ(read_text(pub + "/ca.crt"), ours);
    EXPECT_EQ(as_ca(root + "/acme2", {"init", "--name", "acme2-ca", "--publish-dir", pub}).code, kConflict);
    // The owner takes its directory back and marks it again.
    ASSERT_EQ(run({"publish"}).code, 0);
    EXPECT_NE(read_text(marker).find("ca = kitty-ca\n"), std::string::npos);
}

}  // namespace
}  // namespace cscguard::tool::testing
