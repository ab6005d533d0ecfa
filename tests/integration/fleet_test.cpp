// The fleet path end to end: three real httpd nodes read one real
// redis-server (CSCGuardRevocationCache), and the real `cscguard revoke
// --push` / `cscguard push` write it.
#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <sys/stat.h>

#include <openssl/pem.h>

#include <gtest/gtest.h>

#include "policy/cache_entry.h"
#include "policy/issuer.h"
#include "tests/integration/policy_site.h"
#include "tests/support/issued_serial.h"
#include "tests/support/redis_server.h"
#include "tests/support/run_command.h"
#include "tests/support/temp_dir.h"

namespace it {
namespace {

using Clock = std::chrono::steady_clock;
using cscguard::testing::RedisServer;

double seconds_since(Clock::time_point start) {
    return std::chrono::duration<double>(Clock::now() - start).count();
}

int count_of(const std::string& text, const std::string& what) {
    int n = 0;
    for (std::size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
    return n;
}

class Fleet : public ::testing::Test {
protected:
    void SetUp() override {
        chmod(root.c_str(), 0755);  // httpd's children read pub/ and trusted.pem
        tool("init --name kitty-ca --publish-dir " + root + "/pub");
        eager = cscguard::testing::issued_serial(tool("issue client eager-client --group staff"));
        lazy = cscguard::testing::issued_serial(tool("issue client lazy-client --group staff"));
        tool("publish");
        std::system(("cat " + pki("trusted-cas.pem") + " " + root + "/pub/ca.crt > " + root + "/trusted.pem").c_str());
        std::system(("chmod -R a+rX " + root + "/pub " + root + "/trusted.pem").c_str());
        redis.start();
    }

    // `cscguard --dir ROOT/ca ARGS`; what it printed. `want` is the exit status expected.
    std::string tool(const std::string& args, int want = 0) {
        const std::string cmd = std::string(CSCGUARD_TOOL) + " --dir " + root + "/ca " + args;
        const cscguard::testing::CommandResult r = cscguard::testing::run_command(cmd);
        EXPECT_EQ(r.status, want) << cmd << "\n" << r.output;
        return r.output;
    }

    std::string site(const std::string& extra = "") const {
        const std::string pub = root + "/pub";
        return "CSCGuardIssuer kitty-ca " + pub + "/ca.crt\n"
               "CSCGuardCRL " + pub + "/crl.pem\n"
               "CSCGuardAllowlist staff " + pub + "/staff.list\n"
               "CSCGuardReloadInterval 1\n"
               "CSCGuardRevocationCache redis:127.0.0.1:" + std::to_string(redis.port()) + "\n" + extra +
               "<Directory {DIR}/docs>\n  Require all granted\n</Directory>\n"
               "<Location /staff>\n  Require cscguard-allowlist staff\n</Location>\n";
    }

    std::unique_ptr<Httpd> node(const std::string& extra = "", const std::string& mpm = "event") const {
        auto server = std::make_unique<Httpd>(site(extra), mpm, root + "/trusted.pem");
        add_pages(server->dir() + "/docs", {"staff"});
        server->start();
        return server;
    }

    Request as(const std::string& serial, int port, bool fresh = false) const {
        Request r;
        r.port = port;
        r.path = "/staff/";
        r.cert_file = root + "/ca/certs/" + serial + ".pem";
        r.key_file = root + "/ca/private/" + serial + ".key";
        r.fresh_connection = fresh;
        return r;
    }

    // The Redis key of `serial`, computed from the CA certificate as a node would.
    std::string key_of(const std::string& serial) const {
        const auto issuer = cscguard::Issuer::load("kitty-ca", root + "/pub/ca.crt");
        return cscguard::redis_key(cscguard::cache_entry_id(cscguard::issuer_key_id(issuer->certificate()),
                                                            cscguard::Serial::parse(serial)));
    }

    // Sets `key` to what the shell command `producer` prints (any bytes).
    void set_from(const std::string& key, const std::string& producer) const {
        const auto r = cscguard::testing::run_command(producer + " | redis-cli -p " + std::to_string(redis.port()) +
                                                      " -x SET " + key);
        ASSERT_EQ(r.status, 0) << r.output;
        ASSERT_NE(r.output.find("OK"), std::string::npos) << r.output;
    }

    // Waits until `request` through `client` gets `status`; how long that took
    // (seconds), or a negative number when it did not within `limit`.
    static double until_status(Client& client, const Request& request, long status, double limit) {
        const auto start = Clock::now();
        while (seconds_since(start) < limit) {
            if (client.get(request).status == status) return seconds_since(start);
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        return -1;
    }

    const cscguard::testing::TempDir temp{"cscguard-fleet"};
    const std::string root = temp.path();
    std::string eager, lazy;
    RedisServer redis;
};

TEST_F(Fleet, ARevocationPushedOnceIsInForceOnEveryNodeWithinASecondAlsoOnKeptAliveConnections) {
    tool("push " + redis.url());  // a new cache: the marker, no entries yet
    std::vector<std::unique_ptr<Httpd>> nodes;
    for (int i = 0; i < 3; ++i) nodes.push_back(node());
    std::vector<std::unique_ptr<Client>> kept;  // one kept-alive connection per node
    for (const auto& n : nodes) {
        kept.push_back(std::make_unique<Client>());
        ASSERT_EQ(kept.back()->get(as(eager, n->https_port())).status, 200) << n->error_log();
        ASSERT_EQ(kept.back()->get(as(eager, n->https_port())).new_connections, 0) << "not kept alive";
    }
    // A client that reconnects is asked about once per TTL and process, not
    // once per connection (two GETRANGEs, marker and entry, per lookup).
    const auto lookups = [this] {
        const std::string stats = redis.cli("INFO commandstats");
        const std::size_t at = stats.find("cmdstat_getrange:calls=");
        return at == std::string::npos ? 0L : std::atol(stats.c_str() + at + 23);
    };
    const long before = lookups();
    for (int i = 0; i < 20; ++i) ASSERT_EQ(fetch(as(eager, nodes[0]->https_port(), true)).status, 200);
    EXPECT_LT(lookups() - before, 20) << "every new connection asked Redis";

    // No --publish: the CRL on disk does not list it, only the cache does.
    tool("revoke eager-client --reason keyCompromise --push " + redis.url());
    const auto revoked = Clock::now();
    for (std::size_t i = 0; i < nodes.size(); ++i) {
        // The TTL (1 s) bounds how long a connection, and a process, trusts its last answer.
        Client fresh;
        EXPECT_GE(until_status(fresh, as(eager, nodes[i]->https_port(), true), 403, 3), 0) << "new connections";
        const double took = until_status(*kept[i], as(eager, nodes[i]->https_port()), 403, 3);
        const double since_revoke = seconds_since(revoked);
        EXPECT_GE(took, 0) << "node " << i << " still grants on a kept-alive connection\n" << nodes[i]->error_log();
        EXPECT_LE(since_revoke, 1.5) << "node " << i << " denied only " << since_revoke << " s after the push";
        EXPECT_EQ(kept[i]->get(as(eager, nodes[i]->https_port())).new_connections, 0) << "same connection";
        EXPECT_EQ(fetch(as(lazy, nodes[i]->https_port(), true)).status, 200);
        EXPECT_TRUE(nodes[i]->log_shows("is revoked by the revocation cache redis:127.0.0.1:" +
                                        std::to_string(redis.port()) + " (keyCompromise"));
        expect_clean_log(*nodes[i]);
    }
}

TEST_F(Fleet, AStoppedCacheLeavesTheCrlInForceSaysSoOnceAndAPushRestoresItWhenItIsBack) {
    tool("push " + redis.url());
    tool("revoke lazy-client --reason superseded --publish --no-push");  // on the CRL only
    std::vector<std::unique_ptr<Httpd>> nodes;
    for (int i = 0; i < 3; ++i) nodes.push_back(node());
    for (const auto& n : nodes) ASSERT_EQ(fetch(as(lazy, n->https_port(), true)).status, 403);

    redis.stop();
    for (const auto& n : nodes) {
        for (int i = 0; i < 8; ++i) {
            EXPECT_EQ(fetch(as(eager, n->https_port(), true)).status, 200) << "open: no 5xx, the CRL alone decides";
            EXPECT_EQ(fetch(as(lazy, n->https_port(), true)).status, 403) << "the CRL still denies";
        }
        EXPECT_TRUE(n->log_shows("CSG0301: the revocation cache redis:127.0.0.1:" + std::to_string(redis.port()) +
                                 " cannot be asked"));
        const int lines = count_of(n->error_log(), "CSG0301");
        EXPECT_GE(lines, 1);
        EXPECT_LE(lines, static_cast<int>(n->serving_children().size())) << "one line per outage and process\n"
                                                                           << n->error_log();
    }

    // Revoked while the cache is down: recorded, and the tool says it was not pushed.
    const std::string out = tool("revoke eager-client --reason keyCompromise --push " + redis.url(), 1);
    EXPECT_NE(out.find(redis.url()), std::string::npos) << out;
    for (const auto& n : nodes) EXPECT_EQ(fetch(as(eager, n->https_port(), true)).status, 200) << "not yet known";

    redis.start();  // back, empty
    tool("push " + redis.url());
    for (const auto& n : nodes) {
        Client client;
        // The lookup thread connects again at most once a second.
        EXPECT_GE(until_status(client, as(eager, n->https_port(), true), 403, 10), 0) << n->error_log();
        EXPECT_TRUE(n->log_shows("CSG0302: the revocation cache redis:127.0.0.1:" + std::to_string(redis.port()) +
                                 " answers again"));
        expect_clean_log(*n, {"CSG0301", "CSG0302"});
    }
}

TEST_F(Fleet, FailingClosedDeniesWhileTheCacheIsDownOrStalledAndNeverHangsAWorker) {
    tool("push " + redis.url());
    // TTL 0: every request asks, so what the cache does shows at once.
    const auto n = node("CSCGuardRevocationCacheFailure closed\nCSCGuardRevocationCacheTimeout 100ms\n"
                        "CSCGuardRevocationCacheTTL 0\n");
    const int port = n->https_port();
    ASSERT_EQ(fetch(as(eager, port, true)).status, 200);

    redis.freeze();  // accepts, never answers
    for (int i = 0; i < 5; ++i) {
        const auto start = Clock::now();
        EXPECT_EQ(fetch(as(eager, port, true)).status, 403);
        EXPECT_LT(seconds_since(start), 1.0) << "a request waited for a stalled cache";
    }
    EXPECT_TRUE(n->log_shows("no answer within 100 ms"));
    EXPECT_TRUE(n->log_shows("CSCGuardRevocationCacheFailure is closed"));
    redis.thaw();
    Client client;
    EXPECT_GE(until_status(client, as(eager, port, true), 200, 10), 0) << n->error_log();

    redis.stop();
    EXPECT_EQ(fetch(as(eager, port, true)).status, 403);
    redis.start();  // empty: no marker, so not trusted yet
    Client again;
    EXPECT_LT(until_status(again, as(eager, port, true), 200, 7), 0) << "an empty (flushed) cache was trusted";
    EXPECT_TRUE(n->log_shows("holds no cscguard marker"));
    tool("push " + redis.url());
    EXPECT_GE(until_status(again, as(eager, port, true), 200, 10), 0) << n->error_log();
    expect_clean_log(*n, {"CSG0301", "CSG0302"});
}

TEST_F(Fleet, HostileValuesInTheCacheAreIgnoredWithALogLineAndNeverGrant) {
    tool("push " + redis.url());
    tool("revoke lazy-client --reason superseded --publish --no-push");  // on the CRL only
    const auto n = node("CSCGuardRevocationCacheTTL 0\n");  // every request asks
    const int port = n->https_port();
    ASSERT_EQ(fetch(as(lazy, port, true)).status, 403);

    // Garbage under eager's key, a huge value under lazy's (whom the CRL revokes).
    set_from(key_of(eager), "printf '\\001\\377\\000garbage'");
    set_from(key_of(lazy), "head -c 1048576 /dev/urandom");
    EXPECT_EQ(fetch(as(eager, port, true)).status, 200) << "a value that is no entry is ignored";
    EXPECT_EQ(fetch(as(lazy, port, true)).status, 403) << "a hostile value never grants";
    EXPECT_TRUE(n->log_shows("CSG0303: the revocation cache redis:127.0.0.1:" + std::to_string(redis.port()) +
                             " holds a value under " + key_of(eager)));
    EXPECT_TRUE(n->log_shows("holds a value under " + key_of(lazy)));

    // A well-formed entry written by hand is one.
    redis.cli("SET " + key_of(eager) + " 'revoked keyCompromise 2026-01-01T00:00:00Z'");
    Client client;
    EXPECT_GE(until_status(client, as(eager, port, true), 403, 3), 0);
    expect_clean_log(*n, {"CSG0303"});
}

// A cache being filled again by `cscguard push` holds entries before the
// marker, which comes last; a flushed one may be written by hand. An entry is
// believed whatever the marker says: only "not listed" needs it. Before the
// fix a missing marker made every answer "unavailable", and failing open let
// the client the cache lists in.
TEST_F(Fleet, AnEntryIsBelievedWithoutTheMarkerButNotListedIsNot) {
    tool("push " + redis.url());
    const auto n = node("CSCGuardRevocationCacheTTL 0\n");  // every request asks
    const int port = n->https_port();
    ASSERT_EQ(fetch(as(eager, port, true)).status, 200);
    redis.cli("FLUSHALL");
    redis.cli("SET " + key_of(eager) + " 'revoked keyCompromise 2026-01-01T00:00:00Z'");
    EXPECT_EQ(fetch(as(eager, port, true)).status, 403) << "a listed revocation was ignored for want of the marker";
    EXPECT_EQ(fetch(as(lazy, port, true)).status, 200) << "failing open, the CRL decides what the cache cannot say";
    EXPECT_TRUE(n->log_shows("holds no cscguard marker for this issuer"));
    expect_clean_log(*n, {"CSG0301", "CSG0302"});
}

// A connection keeps an answer for the TTL from when Redis gave it, also when
// it took the answer from its process's: before the fix it counted from when
// it took it, and a revocation could take twice the TTL to reach it.
TEST_F(Fleet, AConnectionKeepsAnAnswerNoLongerThanTheTtlFromWhenRedisGaveIt) {
    tool("push " + redis.url());
    const auto n = node("CSCGuardRevocationCacheTTL 3\nStartServers 1\nServerLimit 1\nMinSpareThreads 1\n"
                        "MaxSpareThreads 8\nMaxRequestWorkers 8\n");  // one process: one process cache
    const int port = n->https_port();
    const auto t0 = Clock::now();
    ASSERT_EQ(fetch(as(eager, port, true)).status, 200);  // Redis asked: not listed
    std::this_thread::sleep_until(t0 + std::chrono::milliseconds(1500));
    Client kept;
    ASSERT_EQ(kept.get(as(eager, port)).status, 200);  // from the process's answer, 1.5 s old
    tool("revoke eager-client --reason keyCompromise --push " + redis.url());
    std::this_thread::sleep_until(t0 + std::chrono::milliseconds(3500));
    ASSERT_LT(seconds_since(t0), 4.4) << "too slow to tell: the connection's answer would be old either way";
    EXPECT_EQ(kept.get(as(eager, port)).status, 403) << "the connection kept an answer older than the TTL";
    expect_clean_log(*n);
}

// The lookup thread takes no signal: prefork ends a child from its SIGTERM or
// SIGHUP handler, which must run in the thread that serves (the exit waits for
// the lookup thread, and would wait for itself). Debian's httpd runs
// child_init with signals blocked, so this held here before the thread
// blocked them itself; the test keeps it so wherever the thread is started.
TEST_F(Fleet, TheLookupThreadTakesNoSignals) {
    const auto n = node("", "prefork");
    for (int i = 0; i < 100 && n->serving_children().size() < 2; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    int threads = 0;
    for (const pid_t child : n->serving_children()) {
        const std::string tasks = "/proc/" + std::to_string(child) + "/task";
        for (const auto& task : std::filesystem::directory_iterator(tasks)) {
            std::string comm;
            std::getline(std::ifstream(task.path() / "comm"), comm);
            if (comm != "cscguard-cache") continue;
            ++threads;
            std::ifstream status(task.path() / "status");
            unsigned long long blocked = 0;
            for (std::string line; std::getline(status, line);) {
                if (line.rfind("SigBlk:", 0) == 0) blocked = std::stoull(line.substr(7), nullptr, 16);
            }
            for (const int sig : {SIGTERM, SIGHUP, SIGUSR1, SIGINT, SIGALRM}) {
                EXPECT_TRUE(blocked & (1ULL << (sig - 1))) << task.path() << " takes signal " << sig;
            }
        }
    }
    EXPECT_GE(threads, 2) << "no lookup thread named cscguard-cache in the children";
    expect_clean_log(*n);
}

TEST_F(Fleet, ConfigtestRefusesAnUnknownProviderAndBadArguments) {
    const std::string base = "CSCGuardIssuer kitty-ca " + root + "/pub/ca.crt\n";
    struct Case {
        std::string lines;
        std::string says;
    } cases[] = {
        {"CSCGuardRevocationCache redsi:127.0.0.1:6379\n", "'redsi' is no cache cscguard can use"},
        {"CSCGuardRevocationCache shmcb:/tmp/x(1000)\n", "writes revocations to Redis only"},
        {"CSCGuardRevocationCache redis\n", "redis needs HOST:PORT"},
        {"CSCGuardRevocationCache redis:host:port\n", "'host:port' is not HOST:PORT"},
        {"CSCGuardRevocationCache redis:10.0.0.1:6379,10.0.0.2:6379\n", "names several servers"},
        {"CSCGuardRevocationCache redis:127.0.0.1:6379\nCSCGuardRevocationCache redis:127.0.0.1:6380\n",
         "is already set (redis:127.0.0.1:6379)"},
        {"CSCGuardRevocationCacheFailure maybe\n", "'maybe' is neither open nor closed"},
        {"CSCGuardRevocationCacheTimeout 20s\n", "is not a time from 1 ms to 10000 ms"},
        {"<VirtualHost *:80>\nCSCGuardRevocationCacheTTL 5\n</VirtualHost>\n", "cannot occur within"},
    };
    for (const Case& c : cases) {
        Httpd server(base + c.lines);
        const Httpd::ConfigTest t = server.configtest();
        EXPECT_NE(t.status, 0) << c.lines;
        EXPECT_NE(t.output.find(c.says), std::string::npos) << c.lines << "\n" << t.output;
    }
}

}  // namespace
}  // namespace it
