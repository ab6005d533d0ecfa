// revoke --push, push, suspend and resume against a real redis-server: what
// lands in the cache is read back with redis-cli and compared with what
// policy/cache_entry.h (the module's reader) says the entry must be.
#include <algorithm>
#include <chrono>
#include <fstream>
#include <optional>

#include <openssl/asn1.h>

#include "policy/cache_entry.h"
#include "policy/serial.h"
#include "tests/support/issued_serial.h"
#include "tests/support/redis_server.h"
#include "tests/support/run_command.h"
#include "tests/tool/tool_harness.h"
#include "tools/cscguard/database.h"
#include "tools/cscguard/redis_url.h"
#include "tools/cscguard/tool_error.h"
#include "tools/cscguard/x509_builder.h"

namespace cscguard::tool::testing {
namespace {

using cscguard::testing::issued_serial;
using cscguard::testing::RedisServer;
using cscguard::testing::run_command;

constexpr std::time_t kDay = 86400;

class PushTest : public ToolTest {
protected:
    void SetUp() override {
        ToolTest::SetUp();
        redis.emplace();
        redis->start();
        url = redis->url();
    }
    void TearDown() override {
        redis->stop();  // also after a failed assertion: no server outlives its test
        ToolTest::TearDown();
    }

    std::string issue(const std::string& name, const std::string& days = "365") {
        const Result r = run({"issue", "client", name, "--days", days});
        EXPECT_EQ(r.code, 0) << r.err;
        return issued_serial(r.out);
    }

    X509Ptr certificate(const std::string& file) { return load_certificate(read_text(file), file); }

    // The key the module looks up for `serial` of this CA.
    std::string key_of(const std::string& serial) {
        const X509Ptr ca = certificate(dir + "/ca.crt");
        return redis_key(cache_entry_id(issuer_key_id(*ca), Serial::parse(serial)));
    }
    std::string marker_key() { return redis_key(cache_marker_id(issuer_key_id(*certificate(dir + "/ca.crt")))); }

    std::time_t not_after(const std::string& serial) {
        const X509Ptr cert = certificate(dir + "/certs/" + serial + ".pem");
        struct tm tm {};
        EXPECT_EQ(ASN1_TIME_to_tm(X509_get0_notAfter(cert.get()), &tm), 1);
        return timegm(&tm);
    }

    std::string get(const std::string& key) { return redis->cli("GET " + key); }
    long long ttl(const std::string& key) { return std::stoll(redis->cli("TTL " + key)); }
    long long keys() { return std::stoll(redis->cli("DBSIZE")); }

    std::string database_line(const std::string& serial) {
        const std::string index = read_text(dir + "/index.txt");
        const std::size_t at = index.find("\t" + serial + "\t");
        if (at == std::string::npos) return "";
        const std::size_t start = index.rfind('\n', at);
        return index.substr(start == std::string::npos ? 0 : start + 1, index.find('\n', at) - (start == std::string::npos ? 0 : start + 1));
    }

    std::optional<RedisServer> redis;
    std::string url;
};

// A port nobody listens on: the stopped server's.
std::string dead_url(RedisServer& server) {
    server.stop();
    return server.url();
}

TEST_F(PushTest, RevokePushWritesTheEntryTheModuleReadsAndTheMarker) {
    init();
    const std::string serial = issue("eager-client", "30");
    const std::time_t now = std::time(nullptr);
    const Result r = run({"revoke", "eager-client", "--reason", "keyCompromise", "--push", url}, now);
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_NE(r.out.find("pushed 1 entry"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find(url), std::string::npos) << r.out;

    const std::string key = key_of(serial);
    EXPECT_EQ(get(key), format_cache_entry({"keyCompromise", now}));
    const CachedRevocation read_back = parse_cache_entry(get(key));  // what the module makes of it
    EXPECT_EQ(read_back.reason, "keyCompromise");
    EXPECT_EQ(read_back.revoked_at, now);
    const long long expected = not_after(serial) - now;
    EXPECT_GT(expected, 29 * kDay);
    EXPECT_LE(ttl(key), expected);
    EXPECT_GE(ttl(key), expected - 10) << "the entry lives as long as the certificate";

    EXPECT_EQ(get(marker_key()), format_cache_marker(now));
    EXPECT_EQ(parse_cache_marker(get(marker_key())), now);
    EXPECT_EQ(ttl(marker_key()), -1) << "the marker never expires";
    EXPECT_EQ(keys(), 2);
}

TEST_F(PushTest, MaxAgeCapsTheEntryFromTheRevocation) {
    init();
    const std::string serial = issue("eager-client", "365");
    const std::string other = issue("lazy-client", "365");
    const std::time_t now = std::time(nullptr);
    ASSERT_EQ(run({"revoke", "eager-client", "--push", url, "--push-max-age", "2"}, now).code, 0);
    EXPECT_LE(ttl(key_of(serial)), 2 * kDay);
    EXPECT_GE(ttl(key_of(serial)), 2 * kDay - 10);

    // A push a day later gives the entry the expiry the revoke gave it, not a new one.
    ASSERT_EQ(run({"revoke", "lazy-client", "--no-push"}, now).code, 0);
    const Result later = run({"push", url, "--push-max-age", "2"}, now + kDay);
    ASSERT_EQ(later.code, 0) << later.err;
    EXPECT_NE(later.out.find("pushed 2 entries"), std::string::npos) << later.out;
    EXPECT_LE(ttl(key_of(serial)), kDay);
    EXPECT_GE(ttl(key_of(serial)), kDay - 10);
    EXPECT_LE(ttl(key_of(other)), kDay);

    // Three days on, both are past their max age: nothing to send.
    ASSERT_EQ(run({"--json", "push", url, "--push-max-age", "2"}, now + 3 * kDay).out,
              "{\"push\":\"" + url + "\",\"written\":0,\"removed\":0,\"skipped_expired\":2,\"saved\":false}\n");
}

TEST_F(PushTest, PushResendsEveryRevokedUnexpiredCertificateAndSkipsExpiredOnes) {
    init();
    const std::string short_lived = issue("day-client", "1");
    const std::string revoked = issue("eager-client", "30");
    const std::string valid = issue("lazy-client", "30");
    const std::time_t now = std::time(nullptr);
    ASSERT_EQ(run({"revoke", "day-client"}, now).code, 0);
    ASSERT_EQ(run({"revoke", "eager-client", "--reason", "superseded"}, now).code, 0);
    EXPECT_EQ(keys(), 0) << "nothing pushed without --push or a push setting";

    const std::time_t later = now + 2 * kDay;  // day-client has expired by then
    const Result r = run({"push", url}, later);
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_NE(r.out.find("pushed 1 entry"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("skipped 1 revoked certificate expired"), std::string::npos) << r.out;
    EXPECT_EQ(get(key_of(revoked)), format_cache_entry({"superseded", now}));
    EXPECT_LE(ttl(key_of(revoked)), not_after(revoked) - later);
    EXPECT_GE(ttl(key_of(revoked)), not_after(revoked) - later - 10);
    EXPECT_EQ(redis->cli("EXISTS " + key_of(short_lived)), "0") << "an expired certificate gets no entry";
    EXPECT_EQ(redis->cli("EXISTS " + key_of(valid)), "0");
    EXPECT_EQ(get(marker_key()), format_cache_marker(later));
    EXPECT_EQ(keys(), 2);

    // Idempotent, and what restores a flushed cache.
    ASSERT_EQ(run({"push", url}, later).code, 0);
    EXPECT_EQ(keys(), 2);
    ASSERT_EQ(redis->cli("FLUSHALL"), "OK");
    const Result json = run({"push", url, "--json"}, later);
    ASSERT_EQ(json.code, 0) << json.err;
    EXPECT_EQ(json.out, "{\"push\":\"" + url + "\",\"written\":1,\"removed\":0,\"skipped_expired\":1,\"saved\":false}\n");
    EXPECT_EQ(get(key_of(revoked)), format_cache_entry({"superseded", now}));
    EXPECT_EQ(get(marker_key()), format_cache_marker(later));
}

TEST_F(PushTest, RevokeOnACacheWithoutTheMarkerSendsEveryRevocation) {
    init();
    const std::string first = issue("first");
    const std::string second = issue("second");
    const std::string third = issue("third");
    ASSERT_EQ(run({"push", url}).code, 0);  // the marker, no entries yet
    ASSERT_EQ(run({"revoke", "first", "--no-push"}).code, 0);
    const Result r = run({"revoke", "second", "--push", url});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(redis->cli("EXISTS " + key_of(first)), "0") << "a cache with the marker is sent what changed";
    EXPECT_EQ(redis->cli("EXISTS " + key_of(second)), "1");

    // Flushed: the marker must not come back over a cache that misses `first` and `second`.
    ASSERT_EQ(redis->cli("FLUSHALL"), "OK");
    const Result flushed = run({"revoke", "third", "--push", url});
    ASSERT_EQ(flushed.code, 0) << flushed.err;
    EXPECT_NE(flushed.out.find("held no cscguard marker"), std::string::npos) << flushed.out;
    for (const std::string& serial : {first, second, third}) EXPECT_EQ(redis->cli("EXISTS " + key_of(serial)), "1") << serial;
    EXPECT_EQ(redis->cli("EXISTS " + marker_key()), "1");
}

TEST_F(PushTest, RevokeWithRedisDownRecordsAndPublishesAndSaysSo) {
    init();
    const std::string serial = issue("eager-client");
    const std::string down = dead_url(*redis);
    const Result r = run({"revoke", "eager-client", "--publish", "--push", down});
    EXPECT_EQ(r.code, kFailure);
    EXPECT_NE(r.err.find("cannot push to " + down), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("Connection refused"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("recorded and published"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("`cscguard push`"), std::string::npos) << r.err;
    EXPECT_NE(r.out.find("revoked " + serial), std::string::npos) << r.out;
    EXPECT_EQ(database_line(serial).substr(0, 2), "R\t") << "the revocation stays recorded";
    const auto crl = run_command("openssl crl -in '" + pub + "/crl.pem' -noout -text");
    EXPECT_NE(crl.output.find(serial), std::string::npos) << "and published:\n" << crl.output;

    // Once Redis is back, push sends it.
    redis->start();
    ASSERT_EQ(run({"push", url}).code, 0);
    EXPECT_EQ(parse_cache_entry(get(key_of(serial))).reason, "unspecified");
}

TEST_F(PushTest, RevokeJsonSaysWhatWasPushedOrWhyNot) {
    init();
    issue("eager-client");
    const std::string serial = issue("lazy-client");
    const Result ok = run({"--json", "revoke", "eager-client", "--push", url});
    ASSERT_EQ(ok.code, 0) << ok.err;
    EXPECT_NE(ok.out.find("\"push\":\"" + url + "\",\"pushed\":1,\"push_removed\":0}"), std::string::npos) << ok.out;
    const std::string down = dead_url(*redis);
    const Result failed = run({"--json", "revoke", "lazy-client", "--push", down});
    EXPECT_EQ(failed.code, kFailure);
    EXPECT_NE(failed.out.find("\"revoked\":[\"" + serial + "\"]"), std::string::npos) << failed.out;
    EXPECT_NE(failed.out.find("\"pushed\":0"), std::string::npos) << failed.out;
    EXPECT_NE(failed.out.find("\"push_error\":\"cannot push to " + down), std::string::npos) << failed.out;
}

TEST_F(PushTest, AStalledRedisCostsSecondsNotAHang) {
    init();
    const std::string serial = issue("eager-client");
    redis->freeze();  // accepts connections (the kernel does), never answers
    const auto start = std::chrono::steady_clock::now();
    const Result r = run({"revoke", "eager-client", "--push", url});
    const auto took = std::chrono::steady_clock::now() - start;
    redis->thaw();
    EXPECT_EQ(r.code, kFailure);
    EXPECT_NE(r.err.find("cannot push to " + url), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("no answer within 2 s"), std::string::npos) << r.err;
    EXPECT_LT(took, std::chrono::seconds(6));
    EXPECT_EQ(database_line(serial).substr(0, 2), "R\t");
}

TEST_F(PushTest, ARedisThatRefusesTheCommandIsNamedWithItsAnswer) {
    init();
    issue("eager-client");
    ASSERT_EQ(redis->cli("CONFIG SET requirepass not-ours"), "OK");
    const Result r = run({"revoke", "eager-client", "--push", url});
    EXPECT_EQ(r.code, kFailure);
    EXPECT_NE(r.err.find("cannot push to " + url), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("NOAUTH"), std::string::npos) << r.err;
}

TEST_F(PushTest, BadUrlsAreRefusedNamingTheFlagAndChangeNothing) {
    init();
    const std::string serial = issue("eager-client");
    for (const std::string bad : {"http://127.0.0.1:6379", "rediss://127.0.0.1", "redis://", "redis://user:pw@127.0.0.1",
                                  "redis://:pw@127.0.0.1:6379", "redis://127.0.0.1:6379/0", "redis://127.0.0.1/",
                                  "redis://127.0.0.1:6379?db=1", "redis://127.0.0.1:0", "redis://127.0.0.1:65536",
                                  "redis://127.0.0.1:", "redis://127.0.0.1:63x9", "redis://::1:6379", "redis://[::1",
                                  "redis://[not-v6]:6379", "redis://[::1]x", "redis://bad_host!", "redis://*.example.com",
                                  "redis://a b", "127.0.0.1:6379"}) {
        const Result revoke = run({"revoke", "eager-client", "--push", bad});
        EXPECT_EQ(revoke.code, kUsage) << bad;
        EXPECT_NE(revoke.err.find("--push '" + bad + "'"), std::string::npos) << revoke.err;
        const Result push = run({"push", bad});
        EXPECT_EQ(push.code, kUsage) << bad;
        EXPECT_NE(push.err.find("push URL '" + bad + "'"), std::string::npos) << push.err;
    }
    EXPECT_EQ(database_line(serial).substr(0, 2), "V\t") << "a refused revoke records nothing";
    EXPECT_EQ(keys(), 0);
    const Result init_bad = run({"--dir", root + "/other", "init", "--name", "other-ca", "--push", "redis://h/1"});
    EXPECT_EQ(init_bad.code, kUsage);
    EXPECT_NE(init_bad.err.find("--push 'redis://h/1': no path"), std::string::npos) << init_bad.err;
    EXPECT_TRUE(files_in(root + "/other").empty()) << "a refused init creates nothing";
}

TEST(RedisUrl, ReadsHostAndPort) {
    RedisUrl u;
    ASSERT_EQ(parse_redis_url("redis://localhost", u), "");
    EXPECT_EQ(u.host, "localhost");
    EXPECT_EQ(u.port, 6379);
    ASSERT_EQ(parse_redis_url("redis://[::1]:7000", u), "");
    EXPECT_EQ(u.host, "::1");
    EXPECT_EQ(u.port, 7000);
    EXPECT_EQ(u.text, "redis://[::1]:7000");
    ASSERT_EQ(parse_redis_url("redis://[2001:db8::5]", u), "");
    EXPECT_EQ(u.host, "2001:db8::5");
    EXPECT_EQ(u.port, 6379);
    ASSERT_EQ(parse_redis_url("redis://10.0.0.7:65535", u), "");
    EXPECT_EQ(u.host, "10.0.0.7");
    EXPECT_EQ(u.port, 65535);
    ASSERT_EQ(parse_redis_url("redis://cache-1.kitty.example:6380", u), "");
    EXPECT_EQ(u.host, "cache-1.kitty.example");
    EXPECT_NE(parse_redis_url("redis://h:1/0", u).find("mod_cscguard reads database 0"), std::string::npos);
    EXPECT_NE(parse_redis_url("redis://u@h", u).find("no user or password"), std::string::npos);
    EXPECT_NE(parse_redis_url("rediss://h", u).find("TLS"), std::string::npos);
    EXPECT_EQ(u.host, "cache-1.kitty.example") << "a refused URL leaves the last good one";
}

TEST_F(PushTest, InitStoresThePushSettingAndRevokeUsesIt) {
    init({"--push", url, "--push-max-age", "3"});
    const std::string conf = read_text(dir + "/cscguard.conf");
    EXPECT_NE(conf.find("\npush = " + url + "\n"), std::string::npos) << conf;
    EXPECT_NE(conf.find("\npush_max_age = 3\n"), std::string::npos) << conf;

    const std::string eager = issue("eager-client");
    const std::string lazy = issue("lazy-client");
    const Result r = run({"revoke", "eager-client"});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_NE(r.out.find("to " + url), std::string::npos) << r.out;
    EXPECT_EQ(parse_cache_entry(get(key_of(eager))).reason, "unspecified");
    EXPECT_LE(ttl(key_of(eager)), 3 * kDay) << "push_max_age from cscguard.conf";
    EXPECT_GE(ttl(key_of(eager)), 3 * kDay - 10);

    ASSERT_EQ(run({"revoke", "lazy-client", "--no-push"}).code, 0);
    EXPECT_EQ(redis->cli("EXISTS " + key_of(lazy)), "0") << "--no-push";
    EXPECT_EQ(run({"revoke", "--serial", lazy, "--no-push", "--push", url}).code, kUsage);

    // push without a URL uses the setting too.
    ASSERT_EQ(redis->cli("FLUSHALL"), "OK");
    const Result push = run({"push"});
    ASSERT_EQ(push.code, 0) << push.err;
    EXPECT_EQ(redis->cli("EXISTS " + key_of(lazy)), "1");
    EXPECT_LE(ttl(key_of(lazy)), 3 * kDay);
}

TEST_F(PushTest, ACaWithoutThePushSettingPushesNothingAndPushAsksForAUrl) {
    init();  // a cscguard.conf as every init before the push setting wrote it
    EXPECT_EQ(read_text(dir + "/cscguard.conf").find("\npush"), std::string::npos);
    issue("eager-client");
    const Result r = run({"--json", "revoke", "eager-client"});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_NE(r.out.find("\"push\":\"\",\"pushed\":0"), std::string::npos) << r.out;
    EXPECT_EQ(keys(), 0);
    const Result push = run({"push"});
    EXPECT_EQ(push.code, kUsage);
    EXPECT_NE(push.err.find("kitty-ca has no push setting"), std::string::npos) << push.err;
    EXPECT_EQ(run({"revoke", "x", "--push-max-age", "3"}).code, kUsage) << "a max age without a cache";
}

TEST_F(PushTest, PushSaveStoresTheSettingOnAnExistingCa) {
    init();
    const std::string serial = issue("eager-client");
    const Result save = run({"push", url, "--push-max-age", "5", "--save"});
    ASSERT_EQ(save.code, 0) << save.err;
    EXPECT_NE(save.out.find("saved " + url), std::string::npos) << save.out;
    const std::string conf = read_text(dir + "/cscguard.conf");
    EXPECT_NE(conf.find("\npush = " + url + "\n"), std::string::npos) << conf;
    EXPECT_NE(conf.find("\npush_max_age = 5\n"), std::string::npos) << conf;
    ASSERT_EQ(run({"revoke", "eager-client"}).code, 0);
    EXPECT_LE(ttl(key_of(serial)), 5 * kDay);
    EXPECT_GE(ttl(key_of(serial)), 5 * kDay - 10);
}

TEST_F(PushTest, ABadPushSettingIsNamedWithItsLine) {
    init();
    const std::string conf = read_text(dir + "/cscguard.conf");
    const std::string line = std::to_string(std::count(conf.begin(), conf.end(), '\n') + 1);
    std::ofstream(dir + "/cscguard.conf", std::ios::app) << "push = http://cache.kitty.example\n";
    const Result r = run({"list"});
    EXPECT_EQ(r.code, kFailure);
    EXPECT_NE(r.err.find(dir + "/cscguard.conf:" + line + ": push = http://cache.kitty.example: scheme 'http'"),
              std::string::npos)
        << r.err;
}

TEST_F(PushTest, SuspendAndResume) {
    init();
    const std::string serial = issue("eager-client");
    const std::time_t now = std::time(nullptr);
    const Result suspended = run({"suspend", "eager-client", "--publish", "--push", url}, now);
    ASSERT_EQ(suspended.code, 0) << suspended.err;
    EXPECT_EQ(get(key_of(serial)), format_cache_entry({"certificateHold", now}));
    const auto held = run_command("openssl crl -in '" + pub + "/crl.pem' -noout -text");
    EXPECT_NE(held.output.find(serial), std::string::npos) << held.output;
    EXPECT_NE(held.output.find("Certificate Hold"), std::string::npos) << held.output;

    const Result resumed = run({"resume", "eager-client", "--publish", "--push", url});
    ASSERT_EQ(resumed.code, 0) << resumed.err;
    EXPECT_NE(resumed.out.find("resumed " + serial), std::string::npos) << resumed.out;
    EXPECT_NE(resumed.out.find("removed 1 entry"), std::string::npos) << resumed.out;
    EXPECT_EQ(redis->cli("EXISTS " + key_of(serial)), "0");
    EXPECT_EQ(database_line(serial).substr(0, 2), "V\t") << database_line(serial);
    EXPECT_NE(database_line(serial).find("\t\t" + serial + "\t"), std::string::npos) << "no revocation date left";
    EXPECT_EQ(database_line(serial).find("certificateHold"), std::string::npos);
    const auto crl = run_command("openssl crl -in '" + pub + "/crl.pem' -noout -text");
    EXPECT_EQ(crl.output.find(serial), std::string::npos) << "the new CRL no longer lists it:\n" << crl.output;
    EXPECT_NE(run({"list", "--valid"}).out.find(serial), std::string::npos);

    EXPECT_EQ(run({"resume", "eager-client"}).code, kNotFound) << "nothing on hold any more";
}

TEST_F(PushTest, OnlyASuspensionIsTakenBack) {
    init();
    const std::string serial = issue("eager-client");
    const std::string valid = issue("lazy-client");
    ASSERT_EQ(run({"revoke", "eager-client", "--reason", "keyCompromise", "--push", url}).code, 0);
    const Result r = run({"resume", "--serial", serial, "--push", url});
    EXPECT_EQ(r.code, kConflict);
    EXPECT_NE(r.err.find("keyCompromise"), std::string::npos) << r.err;
    EXPECT_EQ(database_line(serial).substr(0, 2), "R\t");
    EXPECT_EQ(redis->cli("EXISTS " + key_of(serial)), "1");
    EXPECT_EQ(run({"resume", "eager-client"}).code, kNotFound);
    EXPECT_EQ(run({"resume", "--serial", valid}).code, kConflict);
}

TEST_F(PushTest, AResumeThatCouldNotReachRedisIsRepairedByPush) {
    init();
    const std::string serial = issue("eager-client");
    ASSERT_EQ(run({"suspend", "eager-client", "--push", url}).code, 0);
    const Result r = run({"resume", "eager-client", "--push", "redis://127.0.0.1:1"});
    EXPECT_EQ(r.code, kFailure);
    EXPECT_NE(r.err.find("cannot push to redis://127.0.0.1:1"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("still says it is revoked"), std::string::npos) << r.err;
    EXPECT_EQ(database_line(serial).substr(0, 2), "V\t");
    EXPECT_EQ(redis->cli("EXISTS " + key_of(serial)), "1");
    const Result push = run({"push", url});
    ASSERT_EQ(push.code, 0) << push.err;
    EXPECT_NE(push.out.find("removed 1 entry"), std::string::npos) << push.out;
    EXPECT_EQ(redis->cli("EXISTS " + key_of(serial)), "0");
}

TEST_F(PushTest, HelpForThePushVerbs) {
    for (const char* verb : {"push", "suspend", "resume"}) {
        const Result r = run({verb, "--help"});
        EXPECT_EQ(r.code, 0) << verb;
        EXPECT_NE(r.out.find(std::string("cscguard ") + verb), std::string::npos) << verb;
    }
    EXPECT_NE(run({"revoke", "--help"}).out.find("--push redis://HOST[:PORT] | --no-push"), std::string::npos);
    EXPECT_NE(run({"init", "--help"}).out.find("--push redis://HOST[:PORT]"), std::string::npos);
}

}  // namespace
}  // namespace cscguard::tool::testing
