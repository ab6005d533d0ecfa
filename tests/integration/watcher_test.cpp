// The watcher and the snapshots in a real httpd: what happens when publishing
// fails, when the state directory is not what it should be, when a snapshot is
// forged or lost, when the watcher dies.
#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "policy/allowlist.h"
#include "tests/integration/policy_site.h"
#include "policy/snapshot.h"

namespace it {
namespace {

using namespace std::chrono_literals;

const std::string kReload = "CSCGuardReloadInterval 1\n";

std::string state_dir(const Httpd& server) { return server.dir() + "/cscguard"; }
std::string snapshot_file(const Httpd& server) { return state_dir(server) + "/policy.snapshot"; }

// The server's snapshot as a child opens it (PolicySite declares kitty, then acme).
cscguard::Snapshot read_snapshot_file(const Httpd& server) {
    auto bytes = std::make_shared<const std::string>(read_file(snapshot_file(server)));
    return cscguard::open_snapshot(*bytes, bytes, snapshot_file(server), {"kitty", "acme"});
}

// A publish that fails is tried again every round until it succeeds: an
// accepted revocation is never left unpublished.
TEST(Watcher, AFailedPublishIsTriedAgainUntilItSucceeds) {
    PolicySite site(kReload);
    site.server.start();
    ASSERT_EQ(site.status("/valid", "eager"), 200);
    std::filesystem::remove(snapshot_file(site.server));
    std::filesystem::create_directories(snapshot_file(site.server) + "/in-the-way");  // rename() cannot replace it
    make_crl("kitty-ca", site.kitty_crl(), 24, {kEagerSerial});
    EXPECT_TRUE(site.server.log_shows("CSG0206: cannot hand the policy on to the children")) << site.server.error_log();
    std::this_thread::sleep_for(2s);
    EXPECT_EQ(site.status("/valid", "eager"), 200) << "not handed on yet: children keep what they have";
    std::filesystem::remove_all(snapshot_file(site.server));
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
    const std::string leftover = state_dir(site.server) + "/.policy.snapshot.AbC123";
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

// Only snapshots of the parent's uid that nobody else may write are taken: a
// compromised child (httpd's User) cannot hand the others a policy.
TEST(Watcher, AForgedSnapshotIsRefused) {
    PolicySite site(kReload);
    site.server.start();
    ASSERT_EQ(site.status("/allowlist", "san-only"), 403);
    const pid_t watcher = site.server.watcher();
    ASSERT_GT(watcher, 0);
    kill(watcher, SIGSTOP);  // else it would publish its own snapshot again at once
    cscguard::Snapshot forged = read_snapshot_file(site.server);
    forged.generation += 1000000000000ULL;  // far newer than anything the watcher writes
    for (auto& file : forged.files) {
        if (file.path != site.list()) continue;
        file.allowlist = cscguard::parse_allowlist("kitty:0A1B san-only\n", file.path, {"kitty", "acme"});
        file.digest = cscguard::sha256_of("forged");
    }
    const std::string forged_file = state_dir(site.server) + "/forged";
    write_file(forged_file, cscguard::encode_snapshot(forged));
    ASSERT_EQ(chown(forged_file.c_str(), 33, 33), 0);  // www-data
    std::rename(forged_file.c_str(), snapshot_file(site.server).c_str());
    EXPECT_TRUE(site.server.log_shows("the policy snapshot is not a file of uid 0 that nobody else may write"))
        << site.server.error_log();
    std::this_thread::sleep_for(1s);
    EXPECT_EQ(site.status("/allowlist", "san-only"), 403) << "a snapshot of another uid was taken";
    ASSERT_EQ(chown(snapshot_file(site.server).c_str(), 0, 33), 0);  // the same bytes, the parent's now
    EXPECT_GE(site.seconds_until("/allowlist", "san-only", 200, 10), 0) << "the test's snapshot itself was not good";
    kill(watcher, SIGCONT);  // which puts its own snapshot back, newer than the one put in its place
    EXPECT_GE(site.seconds_until("/allowlist", "san-only", 403, 10), 0) << "the watcher's snapshot was not put back";
    expect_clean_log(site.server, {"CSG0201", "CSG0206"});
}

// A watcher started after the last one died goes on from the newest snapshot;
// one of another configuration (another httpd with the same
// DefaultRuntimeDir) is nothing to go on from. It used to publish snapshots
// without the files' contents, which every child refused.
TEST(Watcher, ANewWatcherDoesNotGoOnFromAnotherConfigurationsSnapshot) {
    PolicySite site(kReload);
    site.server.start();
    const pid_t watcher = site.server.watcher();
    ASSERT_GT(watcher, 0);
    kill(watcher, SIGSTOP);
    cscguard::Snapshot other = read_snapshot_file(site.server);
    other.configuration = "another httpd";
    const std::string other_file = state_dir(site.server) + "/other";
    write_file(other_file, cscguard::encode_snapshot(other));
    ASSERT_EQ(chmod(other_file.c_str(), 0640), 0);
    ASSERT_EQ(chown(other_file.c_str(), 0, 33), 0);  // readable by the children (www-data)
    std::rename(other_file.c_str(), snapshot_file(site.server).c_str());
    kill(watcher, SIGKILL);
    EXPECT_TRUE(site.server.log_shows("found a snapshot of another configuration")) << site.server.error_log();
    make_crl("kitty-ca", site.kitty_crl() + ".new", 24, {kEagerSerial});
    std::rename((site.kitty_crl() + ".new").c_str(), site.kitty_crl().c_str());
    std::this_thread::sleep_for(2500ms);
    EXPECT_EQ(read_snapshot_file(site.server).configuration, "another httpd");
    EXPECT_EQ(site.server.error_log().find("does not match"), std::string::npos) << site.server.error_log();
    expect_clean_log(site.server, {"CSG0207"});
}

// A snapshot removed (a cleaner in /run) is published again: children forked
// after that would otherwise serve the policy of httpd's start, without the
// revocations accepted since.
TEST(Watcher, ARemovedSnapshotIsPublishedAgain) {
    PolicySite site(kReload, "prefork");
    site.server.start();
    ASSERT_EQ(site.status("/valid", "eager"), 200);
    make_crl("kitty-ca", site.kitty_crl() + ".new", 24, {kEagerSerial});
    std::rename((site.kitty_crl() + ".new").c_str(), site.kitty_crl().c_str());
    ASSERT_GE(site.seconds_until("/valid", "eager", 403, 10), 0);
    std::filesystem::remove(snapshot_file(site.server));
    EXPECT_TRUE(site.server.log_shows("was removed or replaced; publishing it again")) << site.server.error_log();
    // The line comes first, then the snapshot is written.
    for (int waited = 0; waited < 50 && !std::filesystem::exists(snapshot_file(site.server)); ++waited) {
        std::this_thread::sleep_for(100ms);
    }
    EXPECT_TRUE(std::filesystem::exists(snapshot_file(site.server)));
    for (pid_t child : site.server.serving_children()) kill(child, SIGKILL);  // new children, forked now
    std::this_thread::sleep_for(1500ms);
    for (int i = 0; i < 10; ++i) EXPECT_EQ(site.status("/valid", "eager"), 403) << "a new child serves the start-up policy";
    expect_clean_log(site.server, {"CSG0206", "AH00052"});
}

// Without the snapshot from before, a restart says that it cannot keep a CRL
// from rolling back.
TEST(Watcher, ARestartWithoutTheSnapshotSaysSo) {
    PolicySite site(kReload);
    site.server.start();
    kill(site.server.watcher(), SIGSTOP);  // else it would publish the snapshot again
    std::filesystem::remove(snapshot_file(site.server));
    site.server.graceful();
    EXPECT_TRUE(site.server.log_shows("CSG0204: no policy from before this restart")) << site.server.error_log();
    EXPECT_TRUE(site.server.log_shows("resuming normal operations")) << site.server.error_log();
    std::this_thread::sleep_for(1s);
    EXPECT_TRUE(site.server.running());
    EXPECT_EQ(site.status("/valid", "san-only"), 200);
    expect_clean_log(site.server, {"CSG0204", "CSG0201"});
}

// httpd's parent cleans up after its helper processes at a restart or stop.
// The watcher's pid was set to -1 once it had ended, and APR then signalled
// pid -1 as root - every process on the machine - whenever another child of
// the parent was still running then (here a piped logger that outlives the
// restart signal). httpd runs in a PID namespace of its own, with a
// bystander process in there that must live through the restarts.
TEST(Watcher, ARestartSignalsNoProcessButItsOwn) {
    PolicySite site(kReload + "CustomLog \"||{DIR}/logger.sh\" common\n", "prefork");
    const std::string logger = site.server.dir() + "/logger.sh";
    write_file(logger, "#!/bin/sh\ntrap '' HUP TERM\nexec cat >>" + site.server.dir() + "/piped.log\n");
    chmod(logger.c_str(), 0755);
    site.server.use_own_pid_namespace();
    site.server.start();
    const pid_t parent = site.server.pid();
    ASSERT_GT(parent, 0);
    const pid_t bystander = fork();
    ASSERT_GE(bystander, 0);
    if (bystander == 0) {
        execlp("nsenter", "nsenter", "--target", std::to_string(parent).c_str(), "--pid", "--", "sleep", "120",
               nullptr);
        _exit(127);
    }
    std::this_thread::sleep_for(500ms);
    int bystander_status = 0;
    const auto alive = [&] { return waitpid(bystander, &bystander_status, WNOHANG) == 0; };
    ASSERT_TRUE(alive()) << "nsenter did not start the bystander";

    std::size_t from = 0;
    for (int signal : {SIGHUP, SIGUSR1, SIGHUP}) {  // restart, graceful restart, restart
        const pid_t watcher = site.server.watcher();
        ASSERT_GT(watcher, 0);
        kill(watcher, SIGKILL);  // a watcher that died and was replaced...
        for (int i = 0; i < 100 && site.server.error_log().find("CSG0207", from) == std::string::npos; ++i) {
            std::this_thread::sleep_for(50ms);
        }
        ASSERT_NE(site.server.error_log().find("CSG0207", from), std::string::npos) << site.server.error_log();
        from = site.server.error_log().size();
        kill(parent, signal);  // ...then a restart
        std::this_thread::sleep_for(1500ms);
        ASSERT_EQ(site.status("/valid", "eager"), 200) << site.server.error_log();
        ASSERT_TRUE(alive()) << "a restart (signal " << signal << ") killed a process in httpd's PID namespace: " << std::hex << bystander_status;
    }
    // And a stop: the namespace ends with httpd, and with it the bystander -
    // by SIGKILL from the kernel, not by a SIGTERM from httpd.
    kill(parent, SIGTERM);
    ASSERT_EQ(waitpid(bystander, &bystander_status, 0), bystander);
    EXPECT_TRUE(WIFSIGNALED(bystander_status) && WTERMSIG(bystander_status) == SIGKILL)
        << "stopping httpd signalled a process in its PID namespace: status " << std::hex << bystander_status;
    // AH00167: the logger, which ignores SIGTERM, ends at the end of its pipe.
    expect_clean_log(site.server, {"CSG0207", "AH00171", "AH00060", "AH00167"});
}

// A snapshot that is not intact (truncated, damaged; here with a newer
// generation in its header, so the children look at it) is refused with the
// reason, and every child keeps the policy it has: never the start-up one,
// never allow-all. The watcher then puts its own back.
TEST(Watcher, ADamagedSnapshotIsRefusedAndThePolicyInForceStays) {
    PolicySite site(kReload, "prefork");
    site.server.start();
    make_crl("kitty-ca", site.kitty_crl() + ".new", 24, {kEagerSerial});
    std::rename((site.kitty_crl() + ".new").c_str(), site.kitty_crl().c_str());
    ASSERT_GE(site.seconds_until("/valid", "eager", 403, 10), 0);
    // One child denies: the others take that snapshot within a poll (0.1 s)
    // - before it is damaged, or they would rightly keep the one before.
    std::this_thread::sleep_for(1s);
    for (int i = 0; i < 10; ++i) ASSERT_EQ(site.status("/valid", "eager"), 403) << "not every child took the revocation";
    const pid_t watcher = site.server.watcher();
    ASSERT_GT(watcher, 0);
    kill(watcher, SIGSTOP);
    std::string bytes = read_file(snapshot_file(site.server));
    bytes[16 + 5] = static_cast<char>(bytes[16 + 5] + 1);  // a later generation
    bytes.resize(bytes.size() / 2);                         // torn
    const std::string damaged = state_dir(site.server) + "/damaged";
    write_file(damaged, bytes);
    ASSERT_EQ(chmod(damaged.c_str(), 0640), 0);
    ASSERT_EQ(chown(damaged.c_str(), 0, 33), 0);  // the parent's, readable by the children
    std::rename(damaged.c_str(), snapshot_file(site.server).c_str());
    EXPECT_TRUE(site.server.log_shows("not a policy snapshot: its checksum does not match")) << site.server.error_log();
    // Children forked now find the newest snapshot damaged: they take the
    // last good one the watcher published, not httpd's start-up policy.
    for (pid_t child : site.server.serving_children()) kill(child, SIGKILL);
    std::this_thread::sleep_for(1500ms);
    for (int i = 0; i < 10; ++i) EXPECT_EQ(site.status("/valid", "eager"), 403) << "the revocation was lost";
    EXPECT_EQ(site.status("/valid", "san-only"), 200);
    kill(watcher, SIGCONT);
    EXPECT_TRUE(site.server.log_shows("was removed or replaced; publishing it again")) << site.server.error_log();
    std::this_thread::sleep_for(1500ms);
    EXPECT_NO_THROW(read_snapshot_file(site.server)) << "the watcher put an intact snapshot back";
    expect_clean_log(site.server, {"CSG0201", "CSG0206", "AH00052"});
}

// The mappings of `process` that are snapshots (those replaced since show as
// deleted files).
int snapshot_mappings(pid_t process) {
    std::istringstream maps(read_file("/proc/" + std::to_string(process) + "/maps"));
    int n = 0;
    for (std::string line; std::getline(maps, line);) n += line.find("/cscguard/policy.snapshot") != std::string::npos;
    return n;
}

// Each reload maps a new snapshot; the one before is unmapped as soon as no
// request uses it, so a server that reloads all day does not grow.
TEST(Watcher, OldSnapshotsAreUnmappedAfterManyReloads) {
    PolicySite site(kReload, "prefork");
    site.server.start();
    ASSERT_EQ(site.status("/allowlist", "eager"), 200);
    const std::vector<pid_t> children = site.server.serving_children();
    ASSERT_FALSE(children.empty());
    for (int i = 0; i < 12; ++i) {
        write_file(site.list(), "kitty:1D1D1C749D9C2D16 eager\nkitty:" + std::to_string(100 + i) + "\n");
        std::this_thread::sleep_for(1100ms);
        EXPECT_EQ(site.status("/allowlist", "eager"), 200);
    }
    ASSERT_TRUE(site.server.log_shows("(2 entries)"));
    std::this_thread::sleep_for(1s);
    for (const pid_t child : children) {
        if (kill(child, 0) != 0) continue;  // replaced meanwhile
        EXPECT_LE(snapshot_mappings(child), 1) << "child " << child << " keeps old snapshots mapped";
        EXPECT_GE(snapshot_mappings(child), 1) << "child " << child << " serves from no snapshot";
    }
    EXPECT_LE(snapshot_mappings(site.server.watcher()), 1);
    // The parent follows too (httpd's monitor hook, every ten seconds): it
    // holds the current snapshot, not the one of httpd's start, which would
    // keep its pages in /run.
    const std::string parent_maps = "/proc/" + std::to_string(site.server.pid()) + "/maps";
    for (int i = 0; i < 150 && read_file(parent_maps).find("policy.snapshot (deleted)") != std::string::npos; ++i) {
        std::this_thread::sleep_for(100ms);
    }
    EXPECT_EQ(read_file(parent_maps).find("policy.snapshot (deleted)"), std::string::npos)
        << "the parent still maps a replaced snapshot after 15 s";
    EXPECT_EQ(snapshot_mappings(site.server.pid()), 1);
    expect_clean_log(site.server, {"CSG0202"});
}

}  // namespace
}  // namespace it
