// Live reload in a real httpd: allowlists and CRLs change without a restart,
// bad files never replace good ones, with every MPM, and under load.
#include <algorithm>
#include <csignal>
#include <atomic>
#include <fstream>
#include <mutex>
#include <regex>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

#include "tests/integration/policy_site.h"

namespace it {
namespace {

using Clock = std::chrono::steady_clock;

constexpr int kInterval = 1;          // CSCGuardReloadInterval for these tests
constexpr double kDeadline = 10.0;    // generous: the machines are shared and noisy

const std::string kReload = "CSCGuardReloadInterval " + std::to_string(kInterval) + "\n";

std::string pid_of(const Httpd& server) { return read_file(server.dir() + "/httpd.pid"); }

class LiveReload : public ::testing::TestWithParam<const char*> {};

TEST_P(LiveReload, RevokeThenRewriteCrlDeniesWithoutRestart) {
    PolicySite site(kReload, GetParam());
    site.server.start();
    const std::string pid = pid_of(site.server);
    ASSERT_EQ(site.status("/valid", "eager"), 200);

    make_crl("kitty-ca", site.kitty_crl(), 24, {kEagerSerial});  // written and renamed into place
    const double took = site.seconds_until("/valid", "eager", 403, kDeadline);
    ASSERT_GE(took, 0) << "revocation not in force after " << kDeadline << " s";
    RecordProperty("revocation_seconds", std::to_string(took));
    std::cout << "[ measured ] " << GetParam() << ": revocation in force after " << took << " s (interval "
              << kInterval << " s)\n";
    // Every child process must have it: many fresh connections, all denied.
    std::this_thread::sleep_for(std::chrono::milliseconds(kInterval * 1000 + 500));
    for (int i = 0; i < 20; ++i) EXPECT_EQ(site.status("/valid", "eager"), 403) << "request " << i;
    EXPECT_EQ(site.status("/valid", "san-only"), 200);
    EXPECT_EQ(pid_of(site.server), pid) << "httpd was restarted";
    EXPECT_NE(site.server.error_log().find("CSG0202: CSCGuardCRL"), std::string::npos);
    expect_clean_log(site.server);
}

TEST_P(LiveReload, AddedAllowlistSerialIsGrantedWithoutRestart) {
    PolicySite site(kReload + "LogLevel warn cscguard:debug\n", GetParam());
    site.server.start();
    ASSERT_EQ(site.status("/allowlist", "san-only"), 403);
    write_file(site.list(), "kitty:1D1D1C749D9C2D16 eager\nkitty:0a:1b san-only\n");
    const double took = site.seconds_until("/allowlist", "san-only", 200, kDeadline);
    ASSERT_GE(took, 0);
    std::cout << "[ measured ] " << GetParam() << ": allowlist entry in force after " << took << " s\n";
    std::this_thread::sleep_for(std::chrono::milliseconds(kInterval * 1000 + 500));
    for (int i = 0; i < 20; ++i) EXPECT_EQ(site.status("/allowlist", "san-only"), 200) << "request " << i;
    // Children say which snapshot they took (at debug level), by number.
    const std::string log = site.server.error_log();
    EXPECT_TRUE(std::regex_search(log, std::regex("CSG0208: took policy snapshot [0-9]+\n"))) << log;
    EXPECT_EQ(log.find("snapshot %"), std::string::npos) << "a format APR does not know: " << log;
    expect_clean_log(site.server);
}

// httpd forks new children long after start-up (load, MaxConnectionsPerChild,
// a crash); they inherit the parent's start-up policy and must take the
// newest one before serving.
TEST_P(LiveReload, ChildForkedAfterAChangeServesItFromItsFirstRequest) {
    PolicySite site(kReload, GetParam());
    site.server.start();
    ASSERT_EQ(site.status("/valid", "eager"), 200);
    make_crl("kitty-ca", site.kitty_crl(), 24, {kEagerSerial});
    ASSERT_GE(site.seconds_until("/valid", "eager", 403, kDeadline), 0);
    const std::vector<pid_t> old_children = site.server.serving_children();
    ASSERT_FALSE(old_children.empty());
    for (pid_t pid : old_children) kill(pid, SIGKILL);
    // The parent forks replacements; the first request they answer must know the revocation.
    for (int i = 0; i < 200; ++i) {
        const std::vector<pid_t> now = site.server.serving_children();
        if (!now.empty() && std::find_first_of(now.begin(), now.end(), old_children.begin(), old_children.end()) == now.end()) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    long status = 0;
    for (int i = 0; i < 100 && status != 200 && status != 403; ++i) {
        status = site.status("/valid", "eager");
        if (status == 0) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    EXPECT_EQ(status, 403) << "a new child served the start-up policy";
    EXPECT_EQ(site.status("/valid", "san-only"), 200);
    // Killed children make the parent log AH00052 / AH00166-like notices; only ours matter here.
    for (const auto& line : site.server.unexpected_log_lines(0, {"AH01630", "AH00052", "exit signal"})) {
        ADD_FAILURE() << "unexpected log line: " << line;
    }
}

// One process re-reads the files: if it dies, the parent starts another,
// which goes on from the newest snapshot - not from the parent's start-up
// policy, which it would republish with the next change.
TEST_P(LiveReload, AWatcherThatDiesIsReplaced) {
    PolicySite site(kReload, GetParam());
    site.server.start();
    const pid_t first = site.server.watcher();
    ASSERT_GT(first, 0) << "no cscguard-watch process";
    make_crl("kitty-ca", site.kitty_crl(), 24, {kEagerSerial});
    ASSERT_GE(site.seconds_until("/valid", "eager", 403, kDeadline), 0);
    write_file(site.kitty_crl(), "garbage\n");  // the revocation now lives only in the snapshot
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    kill(first, SIGKILL);
    pid_t second = -1;
    for (int i = 0; i < 300 && ((second = site.server.watcher()) <= 0 || second == first); ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ASSERT_TRUE(second > 0 && second != first) << "the parent did not start another watcher";
    write_file(site.list(), "kitty:0A1B san-only\n");
    EXPECT_GE(site.seconds_until("/allowlist", "san-only", 200, kDeadline), 0) << "changes stopped being reloaded";
    EXPECT_EQ(site.status("/valid", "eager"), 403) << "the revocation was lost";
    EXPECT_NE(site.server.error_log().find("CSG0207: the policy watcher (pid " + std::to_string(first) + ") ended"),
              std::string::npos);
    expect_clean_log(site.server, {"CSG0207", "CSG0201"});
}

INSTANTIATE_TEST_SUITE_P(EveryMpm, LiveReload, ::testing::Values("event", "worker", "prefork"),
                         [](const auto& param_info) { return std::string(param_info.param); });

TEST(Reload, GarbageAllowlistKeepsTheOldRulesAndIsLogged) {
    PolicySite site(kReload);
    site.server.start();
    ASSERT_EQ(site.status("/allowlist", "eager"), 200);
    write_file(site.list(), "kitty:1D1D1C749D9C2D16\nthis is not a serial\n");
    const std::string error = "CSG0201: CSCGuardAllowlist partners (" + site.server.config_path();
    const std::string where = site.list() + ":2: 'this' is not a serial number";
    for (int i = 0; i < 200 && site.server.error_log().find(where) == std::string::npos; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    const std::string log = site.server.error_log();
    EXPECT_NE(log.find(error), std::string::npos) << log;
    EXPECT_NE(log.find(where), std::string::npos) << log;
    EXPECT_NE(log.find("the last good version stays in force"), std::string::npos);
    EXPECT_EQ(site.status("/allowlist", "eager"), 200);     // old rules keep serving
    EXPECT_EQ(site.status("/allowlist", "san-only"), 403);  // never allow-all
    expect_clean_log(site.server, {"CSG0201"});
}

TEST(Reload, ImpostorCrlAtReloadKeepsTheRevocation) {
    PolicySite site(kReload);
    make_crl("kitty-ca", site.kitty_crl(), 24, {kEagerSerial});
    site.server.start();
    ASSERT_EQ(site.status("/valid", "eager"), 403);
    make_crl("impostor-ca", site.kitty_crl(), 24);  // would un-revoke eager if believed
    for (int i = 0; i < 200 && site.server.error_log().find("CSG0201") == std::string::npos; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    EXPECT_NE(site.server.error_log().find("signature does not verify with the key of CSCGuardIssuer kitty"),
              std::string::npos);
    EXPECT_EQ(site.status("/valid", "eager"), 403);
    expect_clean_log(site.server, {"CSG0201"});
}

TEST(Reload, DeletedCrlKeepsItsLastGoodContent) {
    PolicySite site(kReload);
    make_crl("kitty-ca", site.kitty_crl(), 24, {kEagerSerial});
    site.server.start();
    std::remove(site.kitty_crl().c_str());
    for (int i = 0; i < 200 && site.server.error_log().find("has disappeared") == std::string::npos; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    EXPECT_NE(site.server.error_log().find(site.kitty_crl() + " has disappeared"), std::string::npos);
    EXPECT_EQ(site.status("/valid", "eager"), 403);
    expect_clean_log(site.server, {"CSG0201"});
}

// CSCGuardReloadInterval 0 turns reloading off: no cscguard-watch process
// is forked, and a revocation written after the start is still not in force
// after longer than the default interval (5 s) plus a compile and the
// children's 0.1 s - so a 0 taken for "the default" fails here.
TEST(Reload, IntervalZeroNeverReloads) {
    PolicySite site("CSCGuardReloadInterval 0\n");
    site.server.start();
    EXPECT_EQ(site.server.watcher(), -1) << "a policy watcher runs although CSCGuardReloadInterval is 0";
    make_crl("kitty-ca", site.kitty_crl(), 24, {kEagerSerial});
    EXPECT_LT(site.seconds_until("/valid", "eager", 403, 8), 0) << "the revocation came into force: a reload happened";
    EXPECT_EQ(site.status("/valid", "eager"), 200);
    EXPECT_EQ(site.server.watcher(), -1);
    expect_clean_log(site.server);
}

// Keep-alive clients hammer the server while the allowlist and the CRL are
// rewritten many times. State A: eager listed, nothing revoked. State B:
// san-only listed, eager revoked. Requests that start once the last rewrite
// is older than the interval (plus slack) must get the current state's answer;
// no request may fail.
TEST(Reload, LoadWhileFilesAreRewritten) {
    PolicySite site(kReload);
    site.server.start();
    std::atomic<bool> state_b{false};
    std::atomic<Clock::rep> last_write{Clock::now().time_since_epoch().count()};
    std::atomic<bool> done{false};
    std::atomic<long> requests{0}, failed{0}, judged{0}, wrong{0};
    std::mutex report_mutex;
    std::string first_wrong;

    auto write_state = [&](bool b) {
        last_write = Clock::now().time_since_epoch().count();  // requests from now on are unsettled
        write_file(site.list(), b ? "kitty:0A1B san-only\n" : "kitty:1D1D1C749D9C2D16 eager\n");
        if (b) make_crl("kitty-ca", site.kitty_crl(), 24, {kEagerSerial});
        else make_crl("kitty-ca", site.kitty_crl(), 24);
        state_b = b;
        last_write = Clock::now().time_since_epoch().count();
    };

    auto client = [&](const std::string& cert) {
        Client c;
        while (!done) {
            const auto started = Clock::now();
            const bool b = state_b;
            const Clock::rep written = last_write;
            const bool settled =
                started - Clock::time_point(Clock::duration(written)) > std::chrono::milliseconds(kInterval * 1000 + 1000);
            const Response r = c.get({site.server.https_port(), "/allowlist/", cert});
            ++requests;
            if (r.status != 200 && r.status != 403) {
                ++failed;
                continue;
            }
            if (!settled || last_write != written) continue;  // a rewrite began meanwhile
            ++judged;
            const long want = (cert == "eager") == !b ? 200 : 403;
            if (r.status != want) {
                ++wrong;
                std::lock_guard<std::mutex> lock(report_mutex);
                if (first_wrong.empty()) first_wrong = cert + " got " + std::to_string(r.status);
            }
        }
    };

    std::vector<std::thread> clients;
    for (const char* cert : {"eager", "eager", "san-only", "san-only"}) clients.emplace_back(client, cert);
    int rewrites = 0;
    for (int cycle = 0; cycle < 3; ++cycle) {
        for (int i = 0; i < 9; ++i, ++rewrites) {  // a burst of rewrites, ending in the cycle's state
            write_state(((cycle + i) % 2) == 0);
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(kInterval * 1000 + 1800));
    }
    done = true;
    for (auto& t : clients) t.join();

    std::cout << "[ measured ] " << requests << " requests, " << rewrites << " rewrites of both files, " << judged
              << " judged after settling, " << wrong << " wrong, " << failed << " failed\n";
    RecordProperty("requests", std::to_string(requests.load()));
    EXPECT_EQ(failed, 0);
    EXPECT_EQ(wrong, 0) << first_wrong;
    EXPECT_GT(judged, 100) << "too few settled requests to judge anything";
    expect_clean_log(site.server);
}

// The watcher is told when a policy file is put in place (inotify): a
// revocation is in force at once, not at the next look a minute later.
TEST(FileEvents, ACrlRenamedIntoPlaceIsInForceLongBeforeTheInterval) {
    PolicySite site("CSCGuardReloadInterval 60\n", "prefork");
    site.server.start();
    ASSERT_EQ(site.status("/valid", "eager"), 200);
    std::this_thread::sleep_for(std::chrono::seconds(1));  // the watcher waits for its next look
    make_crl("kitty-ca", site.kitty_crl() + ".new", 24, {kEagerSerial});
    std::rename((site.kitty_crl() + ".new").c_str(), site.kitty_crl().c_str());
    const double took = site.seconds_until("/valid", "eager", 403, 10);
    ASSERT_GE(took, 0) << "not in force after 10 s (CSCGuardReloadInterval 60)";
    std::cout << "[ measured ] revocation in force after " << took << " s (CSCGuardReloadInterval 60)\n";
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    for (int i = 0; i < 10; ++i) EXPECT_EQ(site.status("/valid", "eager"), 403) << "request " << i;
    expect_clean_log(site.server);
}

// Writes the new list (san-only and eager) in two halves 3 s apart, the
// file open all the while: the half must never be taken, the whole at once
// when it is closed (CSCGuardReloadInterval 60: no look would take it).
void write_list_slowly(const PolicySite& site) {
    {
        std::ofstream out(site.list(), std::ios::binary | std::ios::trunc);  // now empty: eager not listed
        out << "kitty:0a:1b san-only\n" << std::flush;                     // half of the new list
        std::this_thread::sleep_for(std::chrono::seconds(3));
        for (int i = 0; i < 5; ++i) {
            EXPECT_EQ(site.status("/allowlist", "eager"), 200) << "the half-written list was taken";
        }
        out << "kitty:1D1D1C749D9C2D16 eager\n";
    }  // closed
    const double took = site.seconds_until("/allowlist", "san-only", 200, 10);
    ASSERT_GE(took, 0) << "the closed file was not taken within 10 s (CSCGuardReloadInterval 60)";
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    for (int i = 0; i < 5; ++i) EXPECT_EQ(site.status("/allowlist", "eager"), 200);
}

// A file rewritten in place wakes the watcher only once it is closed: a
// writer that stops half way is not read half way because of its writes.
TEST(FileEvents, AFileWrittenInPlaceIsTakenWhenClosedNotWhileWritten) {
    PolicySite site("CSCGuardReloadInterval 60\n", "prefork");
    site.server.start();
    ASSERT_EQ(site.status("/allowlist", "eager"), 200);
    std::this_thread::sleep_for(std::chrono::seconds(1));
    write_list_slowly(site);
    expect_clean_log(site.server);
}

// `mv list list.bak; gen > list` (and `install`, and editors keeping a
// backup) take the old file away before the new one is written: that does
// not wake the watcher either, only the new file's close does.
TEST(FileEvents, AFileMovedAwayAndWrittenAnewIsTakenWhenClosed) {
    PolicySite site("CSCGuardReloadInterval 60\n", "prefork");
    site.server.start();
    ASSERT_EQ(site.status("/allowlist", "eager"), 200);
    std::this_thread::sleep_for(std::chrono::seconds(1));
    ASSERT_EQ(std::rename(site.list().c_str(), (site.list() + ".bak").c_str()), 0);
    write_list_slowly(site);
    expect_clean_log(site.server);
}

// Context switches the process made of its own accord: each wake-up of a
// waiting watcher is one.
long voluntary_switches(pid_t process) {
    std::istringstream status(read_file("/proc/" + std::to_string(process) + "/status"));
    for (std::string line; std::getline(status, line);) {
        if (line.rfind("voluntary_ctxt_switches:", 0) == 0) return std::stol(line.substr(24));
    }
    return -1;
}

// httpd's logs sit in the same directory as the allowlist here, as they may
// anywhere: the requests that write them must not wake the watcher (once it
// was woken by every write in the directory: one wake-up per request).
TEST(FileEvents, WritesToOtherFilesOfTheDirectoryDoNotWakeTheWatcher) {
    PolicySite site("CSCGuardReloadInterval 60\n", "prefork");
    site.server.start();
    ASSERT_EQ(site.status("/allowlist", "eager"), 200);
    const pid_t watcher = site.server.watcher();
    ASSERT_GT(watcher, 0);
    ASSERT_EQ(site.server.dir(), site.list().substr(0, site.list().rfind('/'))) << "the logs are next to the list";
    const long before = voluntary_switches(watcher);
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < 200; ++i) ASSERT_EQ(site.status("/allowlist", "eager"), 200);  // 200 access log lines
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const long woken = voluntary_switches(watcher) - before;
    // It wakes once a second at most to look after its watches.
    EXPECT_LE(woken, static_cast<long>(seconds) + 3) << "in " << seconds << " s of requests";
    expect_clean_log(site.server);
}

}  // namespace
}  // namespace it
