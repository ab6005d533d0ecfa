// The watcher and the bundles in a real httpd: what happens when publishing
// fails, when the state directory is not what it should be, when a bundle is
// forged or lost, when the watcher dies.
#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <thread>

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bundle.h"
#include "policy_site.h"

namespace it {
namespace {

using namespace std::chrono_literals;

const std::string kReload = "CSCGuardReloadInterval 1\n";

std::string state_dir(const Httpd& server) { return server.dir() + "/cscguard"; }
std::string bundle_file(const Httpd& server) { return state_dir(server) + "/policy.bundle"; }

// A publish that fails is tried again every round until it succeeds: an
// accepted revocation is never left unpublished.
TEST(Watcher, AFailedPublishIsTriedAgainUntilItSucceeds) {
    PolicySite site(kReload);
    site.server.start();
    ASSERT_EQ(site.status("/valid", "eager"), 200);
    std::filesystem::remove(bundle_file(site.server));
    std::filesystem::create_directories(bundle_file(site.server) + "/in-the-way");  // rename() cannot replace it
    make_crl("kitty-ca", site.kitty_crl(), 24, {kEagerSerial});
    EXPECT_TRUE(site.server.log_shows("CSG0206: cannot hand the policy on to the children")) << site.server.error_log();
    std::this_thread::sleep_for(2s);
    EXPECT_EQ(site.status("/valid", "eager"), 200) << "not handed on yet: children keep what they have";
    std::filesystem::remove_all(bundle_file(site.server));
    EXPECT_GE(site.seconds_until("/valid", "eager", 403, 10), 0) << "the accepted revocation was never published";
    expect_clean_log(site.server, {"CSG0201", "CSG0206"});
}

// httpd fixes the state directory's mode whatever the umask or an earlier
// run made of it: children that cannot read it would never follow.
TEST(Watcher, AStateDirectoryChildrenCannotReadIsFixed) {
    PolicySite site(kReload);
    ASSERT_EQ(mkdir(state_dir(site.server).c_str(), 0700), 0);
    site.server.start();
    struct stat st {};
    ASSERT_EQ(stat(state_dir(site.server).c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0750u);
    make_crl("kitty-ca", site.kitty_crl(), 24, {kEagerSerial});
    EXPECT_GE(site.seconds_until("/valid", "eager", 403, 10), 0);
    expect_clean_log(site.server);
}

TEST(Watcher, LeftoverTemporaryFilesAreRemovedAtStart) {
    PolicySite site(kReload);
    ASSERT_EQ(mkdir(state_dir(site.server).c_str(), 0750), 0);
    const std::string leftover = state_dir(site.server) + "/.policy.bundle.AbC123";
    write_file(leftover, std::string(1000, 'x'));
    site.server.start();
    EXPECT_FALSE(std::filesystem::exists(leftover));
}

// A runtime directory others may write would let them swap the state
// directory: reloading stays off, and says why.
TEST(Watcher, ARuntimeDirectoryOthersMayWriteIsRefused) {
    PolicySite site(kReload);
    chmod(site.server.dir().c_str(), 0777);
    site.server.start();
    EXPECT_TRUE(site.server.log_shows("(DefaultRuntimeDir) must belong to root or uid")) << site.server.error_log();
    EXPECT_EQ(site.server.watcher(), -1) << "no watcher without a safe state directory";
    EXPECT_EQ(site.status("/valid", "eager"), 200) << "the start-up policy serves";
    chmod(site.server.dir().c_str(), 0755);
}

// Only bundles of the parent's uid that nobody else may write are taken: a
// compromised child (httpd's User) cannot hand the others a policy.
TEST(Watcher, AForgedBundleIsRefused) {
    PolicySite site(kReload);
    site.server.start();
    ASSERT_EQ(site.status("/allowlist", "san-only"), 403);
    cscguard::Bundle forged = cscguard::decode_bundle(read_file(bundle_file(site.server)), "real");
    forged.generation += 1000000000000ULL;  // far newer than anything the watcher writes
    for (auto& file : forged.files) {
        if (file.path == site.list()) file.bytes = "kitty:0A1B san-only\n";
        file.digest.clear();
    }
    const std::string forged_file = state_dir(site.server) + "/forged";
    write_file(forged_file, cscguard::encode_bundle(forged));
    ASSERT_EQ(chown(forged_file.c_str(), 33, 33), 0);  // www-data
    std::rename(forged_file.c_str(), bundle_file(site.server).c_str());
    EXPECT_TRUE(site.server.log_shows("the policy bundle is not a file of uid 0 that nobody else may write"))
        << site.server.error_log();
    std::this_thread::sleep_for(1s);
    EXPECT_EQ(site.status("/allowlist", "san-only"), 403) << "a bundle of another uid was taken";
    ASSERT_EQ(chown(bundle_file(site.server).c_str(), 0, 33), 0);  // the same bytes, the parent's now
    EXPECT_GE(site.seconds_until("/allowlist", "san-only", 200, 10), 0) << "the test's bundle itself was not good";
    expect_clean_log(site.server, {"CSG0201"});
}

// Without the bundle from before, a restart says that it cannot keep a CRL
// from rolling back.
TEST(Watcher, ARestartWithoutTheBundleSaysSo) {
    PolicySite site(kReload);
    site.server.start();
    std::filesystem::remove(bundle_file(site.server));
    site.server.graceful();
    EXPECT_TRUE(site.server.log_shows("CSG0204: no policy from before this restart")) << site.server.error_log();
    EXPECT_TRUE(site.server.log_shows("resuming normal operations")) << site.server.error_log();
    std::this_thread::sleep_for(1s);
    EXPECT_TRUE(site.server.running());
    EXPECT_EQ(site.status("/valid", "san-only"), 200);
    expect_clean_log(site.server, {"CSG0204", "CSG0201"});
}

}  // namespace
}  // namespace it
