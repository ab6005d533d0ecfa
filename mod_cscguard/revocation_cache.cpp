#include "mod_cscguard/revocation_cache.h"

#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <set>
#include <thread>
#include <unordered_map>

#include <pthread.h>
#include <signal.h>
#include <sys/time.h>

#include <hiredis/hiredis.h>

#include "apr_strings.h"
#include "http_log.h"
#include "mod_cscguard/module.h"
#include "util_time.h"

#include "policy/error.h"

APLOG_USE_MODULE(cscguard);

namespace cscguard::glue {
namespace {

using Clock = std::chrono::steady_clock;

// The lookup thread's own bound on connecting and on each answer: it gives
// up on a stalled Redis after this and connects anew (requests stopped
// waiting long before, at CSCGuardRevocationCacheTimeout).
constexpr timeval kSocketTimeout{1, 0};
// After a failed connection the next attempt waits this long; meanwhile
// lookups are answered "unavailable" at once, without a system call.
constexpr auto kReconnectDelay = std::chrono::seconds(1);
// The most of a value that is read: one byte more than an entry may have, so
// an oversized one is seen as such, and a huge one never fills memory.
const std::string kReadTo = std::to_string(kMaxCacheValueSize);
// Lookups waiting beyond this many are answered "unavailable" at once.
constexpr std::size_t kMaxWaiting = 256;
// How long a stopping child waits for a lookup thread stuck in a stalled server.
constexpr auto kStopTimeout = std::chrono::seconds(1);
// Hostile entries are logged once per key per process, for this many keys.
constexpr std::size_t kMaxReportedEntries = 1024;
// Answers kept per process (for CSCGuardRevocationCacheTTL): a client that
// reconnects, or opens several connections or HTTP/2 streams, is asked
// about once. Forgotten all at once when full.
constexpr std::size_t kMaxRecentAnswers = 4096;

std::chrono::microseconds to_chrono(apr_interval_time_t t) { return std::chrono::microseconds(t); }

std::string milliseconds(apr_interval_time_t t) { return std::to_string(apr_time_as_msec(t)) + " ms"; }

// "redis:HOST[:PORT]" into `conf`; PolicyError saying what is wrong.
void parse_redis_spec(apr_pool_t* p, const std::string& spec, RevocationCacheConfig& conf) {
    const std::size_t colon = spec.find(':');
    const std::string kind = spec.substr(0, colon);
    if (kind != "redis") {
        throw PolicyError("'" + kind + "' is no cache cscguard can use: `cscguard push` writes revocations to Redis " +
                          "only (write redis:HOST:PORT)");
    }
    const std::string server = colon == std::string::npos ? "" : spec.substr(colon + 1);
    if (server.empty()) throw PolicyError("redis needs HOST:PORT (e.g. redis:127.0.0.1:6379)");
    // A list would be a set of shards, each holding some keys: one server
    // (behind a Sentinel or a proxy address for high availability).
    if (server.find(',') != std::string::npos) {
        throw PolicyError("'" + server + "' names several servers; name one (the one `cscguard push` writes to)");
    }
    char* host = nullptr;
    char* scope = nullptr;
    apr_port_t port = 0;
    // apr takes "host:port" for a host name; only a bracketed IPv6 address has colons.
    if (apr_parse_addr_port(&host, &scope, &port, server.c_str(), p) != APR_SUCCESS || !host || scope ||
        (server[0] != '[' && std::string(host).find(':') != std::string::npos)) {
        throw PolicyError("'" + server + "' is not HOST:PORT");
    }
    conf.host = host;
    conf.port = port ? port : 6379;
}

RevocationCacheConfig& cache_config() {
    Registry& reg = registry();
    if (!reg.revocation_cache) reg.revocation_cache = std::make_unique<RevocationCacheConfig>();
    return *reg.revocation_cache;
}

// Directive errors in httpd's words: "CSCGuardRevocationCache: ...".
template <typename F>
const char* global_directive(cmd_parms* cmd, F&& body) {
    if (const char* err = ap_check_cmd_context(cmd, GLOBAL_ONLY)) return err;
    try {
        body();
        return nullptr;
    } catch (const std::exception& err) {
        return apr_pstrcat(cmd->pool, cmd->cmd->name, ": ", err.what(), nullptr);
    }
}

apr_interval_time_t parse_time(const char* text, const char* default_unit, apr_interval_time_t min,
                               apr_interval_time_t max) {
    apr_interval_time_t t = 0;
    if (ap_timeout_parameter_parse(text, &t, default_unit) != APR_SUCCESS || t < min || t > max) {
        throw PolicyError(std::string("'") + text + "' is not a time from " + milliseconds(min) + " to " +
                          milliseconds(max) + " (e.g. 100ms, 2s)");
    }
    return t;
}

}  // namespace

// One thread per child makes every Redis call; requests wait for it with a
// deadline. The connection, and the one-line-per-outage log, are kept here,
// per process.
class CacheClient {
public:
    CacheClient(const RevocationCacheConfig& conf, server_rec* s) : shared_(std::make_shared<Shared>(conf, s)) {
        // The thread takes no signals: prefork's handlers (SIGTERM, SIGHUP:
        // the child's exit) must run in the thread that serves, not in this
        // one, which the exit would then wait for. (httpd 2.4.71 runs
        // child_init with signals blocked; nothing promises that.)
        sigset_t all, before;
        sigfillset(&all);
        pthread_sigmask(SIG_SETMASK, &all, &before);
        try {
            thread_ = std::thread([shared = shared_] { run(*shared); });
        } catch (...) {
            pthread_sigmask(SIG_SETMASK, &before, nullptr);
            throw;
        }
        pthread_sigmask(SIG_SETMASK, &before, nullptr);
    }

    // Prefork may run this from a signal handler that interrupted ask() in
    // this thread of control, holding the mutex: waiting for it would hang
    // the child, so after 100 ms of trying the thread is left to the exit.
    ~CacheClient() {
        std::unique_lock<std::mutex> lock(shared_->mutex, std::defer_lock);
        for (int i = 0; i < 100 && !lock.try_lock(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
        if (lock.owns_lock()) {
            shared_->stopping = true;
            shared_->wake.notify_all();
            if (shared_->done.wait_for(lock, kStopTimeout, [this] { return shared_->finished; })) {
                lock.unlock();
                thread_.join();
                return;
            }
        }
        thread_.detach();  // in a stalled Redis (at most kSocketTimeout): the child exits without it
    }

    // `asked` is set to when the cache gave the answer (earlier than now when
    // this process kept it), so that a connection keeps it no longer than the
    // TTL from then.
    CacheAnswer ask(Bytes marker, Bytes id, Clock::time_point& asked) {
        Shared& sh = *shared_;
        const auto timeout = to_chrono(sh.conf.timeout);
        const std::string key(id.begin(), id.end());
        std::unique_lock<std::mutex> lock(sh.mutex);
        asked = Clock::now();
        if (const auto recent = sh.recent.find(key);
            recent != sh.recent.end() && asked - recent->second.asked < to_chrono(sh.conf.ttl)) {
            asked = recent->second.asked;
            return recent->second.answer;
        }
        if (sh.busy_since && asked - *sh.busy_since > timeout) {
            return sh.unavailable("no answer within " + milliseconds(sh.conf.timeout) + ": the cache is slow or stalled");
        }
        if (sh.queue.size() >= kMaxWaiting) return sh.unavailable("too many lookups are waiting for it");
        auto job = std::make_shared<Job>();
        job->marker = std::move(marker);
        job->id = std::move(id);
        sh.queue.push_back(job);
        sh.wake.notify_all();
        if (!sh.done.wait_for(lock, timeout, [&job] { return job->finished; })) {
            job->abandoned = true;
            return sh.unavailable("no answer within " + milliseconds(sh.conf.timeout));
        }
        if (job->answer.state != CacheAnswer::State::Unavailable) {
            if (sh.recent.size() >= kMaxRecentAnswers) sh.recent.clear();
            sh.recent[key] = {job->answer, asked};
        }
        return job->answer;
    }

private:
    struct Job {
        Bytes marker;  // the issuer's marker
        Bytes id;      // the certificate's entry
        bool finished = false;
        bool abandoned = false;  // its request stopped waiting
        CacheAnswer answer;
    };

    struct ContextFree {
        void operator()(redisContext* c) const noexcept { redisFree(c); }
    };
    struct ReplyFree {
        void operator()(redisReply* r) const noexcept { freeReplyObject(r); }
    };
    using ReplyPtr = std::unique_ptr<redisReply, ReplyFree>;

    struct Shared {
        Shared(const RevocationCacheConfig& c, server_rec* s) : conf(c), server(s) {}

        const RevocationCacheConfig& conf;  // lives in pconf, which outlives every child
        server_rec* server;
        std::mutex mutex;
        std::condition_variable wake;  // jobs queued, or stopping
        std::condition_variable done;  // a job finished, or the thread did
        std::deque<std::shared_ptr<Job>> queue;
        std::optional<Clock::time_point> busy_since;  // of the lookup under way
        bool stopping = false;
        bool finished = false;
        bool in_outage = false;  // said once per outage (under mutex)
        struct Recent {
            CacheAnswer answer;
            Clock::time_point asked;
        };
        std::unordered_map<std::string, Recent> recent;  // by entry id (under mutex)
        // The lookup thread's own:
        std::unique_ptr<redisContext, ContextFree> redis;
        Clock::time_point reconnect_at{};  // no connection attempt before this
        std::string connect_error;         // why the last attempt failed
        std::set<std::string> reported;    // keys of hostile values already logged

        // Under mutex: an answer "unavailable", logged when an outage begins.
        CacheAnswer unavailable(const std::string& why) {
            if (!in_outage) {
                in_outage = true;
                ap_log_error(APLOG_MARK, APLOG_ERR, 0, server, "CSG0301: the revocation cache %s cannot be asked (%s): %s",
                             conf.spec.c_str(), why.c_str(),
                             conf.fail_closed ? "certificates of declared issuers are denied until it answers again "
                                                "(CSCGuardRevocationCacheFailure closed)"
                                              : "certificates are judged by their CRLs alone until it answers again "
                                                "(CSCGuardRevocationCacheFailure open)");
            }
            CacheAnswer answer;
            answer.state = CacheAnswer::State::Unavailable;
            answer.why = why;
            return answer;
        }

        // Under mutex: an answer from the cache.
        void answered() {
            if (in_outage) {
                in_outage = false;
                ap_log_error(APLOG_MARK, APLOG_WARNING, 0, server, "CSG0302: the revocation cache %s answers again",
                             conf.spec.c_str());
            }
        }
    };

    static void run(Shared& sh) {
        pthread_setname_np(pthread_self(), "cscguard-cache");  // as ps -L and top -H show it
        std::unique_lock<std::mutex> lock(sh.mutex);
        while (true) {
            sh.wake.wait(lock, [&sh] { return sh.stopping || !sh.queue.empty(); });
            if (sh.stopping) break;
            const std::shared_ptr<Job> job = sh.queue.front();
            sh.queue.pop_front();
            if (job->abandoned) continue;
            sh.busy_since = Clock::now();
            lock.unlock();
            std::optional<std::string> trouble;
            bool marked = false;
            CacheAnswer answer;
            try {
                answer = look_up(sh, *job, trouble, marked);
            } catch (const std::exception& err) {  // out of memory: an exception here would end the child
                trouble = std::string("cannot ask it: ") + err.what();
            }
            lock.lock();
            sh.busy_since.reset();
            if (trouble) {
                answer = sh.unavailable(*trouble);
            } else if (marked) {
                sh.answered();
            }  // else a revocation read from a cache without the marker: no end of an outage
            job->answer = std::move(answer);
            job->finished = true;
            sh.done.notify_all();
        }
        sh.finished = true;
        sh.done.notify_all();
    }

    // A connection, or why there is none (then at most one attempt a second).
    static bool connected(Shared& sh, std::optional<std::string>& trouble) {
        if (sh.redis) return true;
        if (Clock::now() < sh.reconnect_at) {
            trouble = sh.connect_error;
            return false;
        }
        sh.reconnect_at = Clock::now() + kReconnectDelay;
        std::unique_ptr<redisContext, ContextFree> redis(
            redisConnectWithTimeout(sh.conf.host.c_str(), sh.conf.port, kSocketTimeout));
        if (!redis || redis->err || redisSetTimeout(redis.get(), kSocketTimeout) != REDIS_OK) {
            sh.connect_error = std::string("cannot connect: ") + (redis && redis->errstr[0] ? redis->errstr : "out of memory");
            trouble = sh.connect_error;
            return false;
        }
        sh.redis = std::move(redis);
        return true;
    }

    // Without the mutex. Sets `trouble` when the cache cannot be asked, and
    // `marked` when it holds the issuer's marker.
    //
    // The issuer's marker and the entry are read in one round trip. An entry
    // is believed whatever the marker says (a cache being filled again by
    // `cscguard push` holds entries before its marker, which comes last); an
    // empty answer only from a cache that holds the marker, that is every
    // revocation of the issuer (a flushed one, or one that evicted entries,
    // does not). At most kMaxCacheValueSize + 1 bytes of either are read
    // (GETRANGE), so a huge value costs nothing; a missing key reads as "".
    static CacheAnswer look_up(Shared& sh, const Job& job, std::optional<std::string>& trouble, bool& marked) {
        CacheAnswer answer;
        if (!connected(sh, trouble)) return answer;
        const std::string marker_key = redis_key(job.marker);
        const std::string entry_key = redis_key(job.id);
        ReplyPtr replies[2];
        bool sent = redisAppendCommand(sh.redis.get(), "GETRANGE %b 0 %s", marker_key.data(), marker_key.size(),
                                       kReadTo.c_str()) == REDIS_OK &&
                    redisAppendCommand(sh.redis.get(), "GETRANGE %b 0 %s", entry_key.data(), entry_key.size(),
                                       kReadTo.c_str()) == REDIS_OK;
        for (ReplyPtr& reply : replies) {
            void* raw = nullptr;
            if (!sent || redisGetReply(sh.redis.get(), &raw) != REDIS_OK || !raw) {
                const bool timed_out = sh.redis->err == REDIS_ERR_IO && (errno == EAGAIN || errno == EWOULDBLOCK);
                trouble = timed_out ? std::string("no answer within 1 s") : std::string(sh.redis->errstr[0] ? sh.redis->errstr : "the connection broke");
                sh.redis.reset();  // a broken or out-of-step connection is never used again
                sh.reconnect_at = {};
                return answer;
            }
            reply.reset(static_cast<redisReply*>(raw));
        }
        const redisReply& entry = *replies[1];
        if (entry.type == REDIS_REPLY_STRING && entry.len > 0) {
            try {
                answer.entry = parse_cache_entry(std::string_view(entry.str, entry.len));
                answer.state = CacheAnswer::State::Revoked;
            } catch (const PolicyError& err) {
                report_hostile(sh, entry_key, err.what());
            }
        }
        const redisReply& marker = *replies[0];
        std::optional<std::string> unmarked;  // why "not listed" cannot be believed
        if (marker.type != REDIS_REPLY_STRING) {
            unmarked = marker.type == REDIS_REPLY_ERROR ? "it refused: " + printable(marker.str, marker.len)
                                                        : std::string("its answer is not Redis's");
        } else if (marker.len == 0) {
            unmarked = "it holds no cscguard marker for this issuer: flushed, restarted empty, entries evicted, or "
                       "never pushed to (run `cscguard push`)";
        } else {
            try {
                parse_cache_marker(std::string_view(marker.str, marker.len));
            } catch (const PolicyError& err) {
                unmarked = std::string("its cscguard marker is unreadable: ") + err.what();
            }
        }
        marked = !unmarked;
        if (answer.state == CacheAnswer::State::Revoked) return answer;
        if (unmarked) {
            trouble = unmarked;
            return answer;
        }
        answer.state = CacheAnswer::State::NotListed;
        if (entry.type != REDIS_REPLY_STRING) {  // WRONGTYPE: a list, a set... under the key
            report_hostile(sh, entry_key, entry.type == REDIS_REPLY_ERROR ? printable(entry.str, entry.len) : "not a string");
        }
        return answer;
    }

    // Redis's error text, short and printable, for the log.
    static std::string printable(const char* text, std::size_t size) {
        std::string out;
        for (std::size_t i = 0; i < size && out.size() < 120; ++i) out += (text[i] >= 0x20 && text[i] < 0x7F) ? text[i] : '?';
        return out;
    }

    // A value that is no entry of ours is ignored (the CRL still decides):
    // it cannot grant, and whoever can write the cache can delete entries too.
    static void report_hostile(Shared& sh, const std::string& key, const std::string& why) {
        if (sh.reported.size() >= kMaxReportedEntries || !sh.reported.insert(key).second) return;
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, sh.server,
                     "CSG0303: the revocation cache %s holds a value under %s that is no cscguard entry (%s); it is "
                     "ignored and the certificate is judged by its CRL",
                     sh.conf.spec.c_str(), key.c_str(), why.c_str());
    }

    std::shared_ptr<Shared> shared_;
    std::thread thread_;
};

const char* set_revocation_cache(cmd_parms* cmd, void*, const char* spec) {
    return global_directive(cmd, [&] {
        RevocationCacheConfig& conf = cache_config();
        if (!conf.spec.empty()) throw PolicyError("is already set (" + conf.spec + ")");
        parse_redis_spec(cmd->temp_pool, spec, conf);
        conf.spec = spec;
    });
}

const char* set_revocation_cache_ttl(cmd_parms* cmd, void*, const char* text) {
    return global_directive(cmd, [&] { cache_config().ttl = parse_time(text, "s", 0, apr_time_from_sec(3600)); });
}

const char* set_revocation_cache_timeout(cmd_parms* cmd, void*, const char* text) {
    return global_directive(cmd, [&] {
        cache_config().timeout = parse_time(text, "ms", apr_time_from_msec(1), apr_time_from_sec(10));
    });
}

const char* set_revocation_cache_failure(cmd_parms* cmd, void*, const char* mode) {
    return global_directive(cmd, [&] {
        const std::string m = mode;
        if (m != "open" && m != "closed") throw PolicyError("'" + m + "' is neither open nor closed");
        cache_config().fail_closed = m == "closed";
    });
}

bool check_revocation_cache(server_rec* s, const Policy& policy) {
    Registry& reg = registry();
    if (!reg.revocation_cache || reg.revocation_cache->spec.empty()) return true;
    RevocationCacheConfig& conf = *reg.revocation_cache;
    conf.issuer_keys.clear();
    for (const auto& issuer : policy.issuers()) {
        try {
            Bytes key = issuer_key_id(issuer->certificate());
            cache_entry_id(key, Serial::parse(std::string(2 * kMaxSerialOctets, 'F')));  // the longest serial fits
            conf.issuer_keys.push_back(std::move(key));
        } catch (const PolicyError& err) {
            ap_log_error(APLOG_MARK, APLOG_EMERG, 0, s, "CSG0301: CSCGuardRevocationCache %s: issuer %s: %s",
                         conf.spec.c_str(), issuer->name().c_str(), err.what());
            return false;
        }
    }
    return true;
}

void start_revocation_cache_client(apr_pool_t* pchild, server_rec* s) {
    Registry& reg = registry();
    if (!reg.revocation_cache || reg.revocation_cache->spec.empty()) return;
    reg.revocation_cache->client = pool_owned(pchild, new CacheClient(*reg.revocation_cache, s));
}

CacheAnswer ask_revocation_cache(request_rec* r, const Identity& identity) {
    const RevocationCacheConfig* conf = registry().revocation_cache.get();
    if (!conf || conf->spec.empty() || identity.issuer_name.empty()) return {};
    ConnectionState& state = connection_state(r->connection);
    const auto now = Clock::now();
    const bool answered = state.revocation.state == CacheAnswer::State::NotListed ||
                          state.revocation.state == CacheAnswer::State::Revoked;
    if (answered && state.revocation_for == &identity && now - state.revocation_asked < to_chrono(conf->ttl)) {
        return state.revocation;
    }
    CacheAnswer answer;
    Clock::time_point asked = now;
    if (!conf->client || identity.issuer_index >= conf->issuer_keys.size()) {
        answer.state = CacheAnswer::State::Unavailable;
        answer.why = "this process has no lookup thread";
    } else {
        const Bytes& key = conf->issuer_keys[identity.issuer_index];
        try {
            answer = conf->client->ask(cache_marker_id(key), cache_entry_id(key, identity.cert.serial()), asked);
        } catch (const PolicyError& err) {  // a serial too long for the cache's keys: no entry can name it
            answer.state = CacheAnswer::State::Unavailable;
            answer.why = err.what();
        }
    }
    answer.source = conf->spec;
    answer.fail_closed = conf->fail_closed;
    state.revocation = answer;
    state.revocation_for = &identity;
    state.revocation_asked = asked;
    return answer;
}

}  // namespace cscguard::glue
