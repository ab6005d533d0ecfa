#include "mod_cscguard/revocation_cache.h"

#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <set>
#include <thread>

#include "ap_provider.h"
#include "apr_strings.h"
#include "http_log.h"
#include "mod_cscguard/module.h"
#include "util_time.h"

#include "policy/error.h"

APLOG_USE_MODULE(cscguard);

namespace cscguard::glue {
namespace {

using Clock = std::chrono::steady_clock;

// How often a healthy cache's marker is looked at again: a flush or an
// empty restart is noticed within this, per process.
constexpr auto kMarkerCheckInterval = std::chrono::seconds(1);
// Lookups waiting beyond this many are answered "unavailable" at once.
constexpr std::size_t kMaxWaiting = 256;
// How long a stopping child waits for a lookup thread stuck in a stalled server.
constexpr auto kStopTimeout = std::chrono::seconds(1);
// Hostile entries are logged once per key per process, for this many keys.
constexpr std::size_t kMaxReportedEntries = 1024;

std::string status_text(apr_status_t status) {
    // apr_redis reports a refused or broken connection as APR_EGENERAL.
    if (status == APR_EGENERAL) return "the connection failed or Redis answered an error";
    char buf[256];
    return apr_strerror(status, buf, sizeof buf);
}

std::chrono::microseconds to_chrono(apr_interval_time_t t) { return std::chrono::microseconds(t); }

std::string milliseconds(apr_interval_time_t t) { return std::to_string(apr_time_as_msec(t)) + " ms"; }

// mod_socache_redis checks its server list only when it starts; a bad one
// must fail configtest instead.
void check_redis_servers(apr_pool_t* p, const std::string& servers) {
    if (servers.empty()) throw PolicyError("redis needs HOST:PORT (e.g. redis:127.0.0.1:6379)");
    std::size_t start = 0;
    while (true) {
        const std::size_t comma = servers.find(',', start);
        const std::string one = servers.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
        char* host = nullptr;
        char* scope = nullptr;
        apr_port_t port = 0;
        // apr takes "host:port" for a host name; only a bracketed IPv6 address has colons.
        if (one.empty() || apr_parse_addr_port(&host, &scope, &port, one.c_str(), p) != APR_SUCCESS || !host ||
            (one[0] != '[' && std::string(host).find(':') != std::string::npos)) {
            throw PolicyError("'" + one + "' is not HOST:PORT");
        }
        if (comma == std::string::npos) break;
        start = comma + 1;
    }
}

std::string loaded_providers(apr_pool_t* p) {
    apr_array_header_t* names = ap_list_provider_names(p, AP_SOCACHE_PROVIDER_GROUP, AP_SOCACHE_PROVIDER_VERSION);
    std::string list;
    for (int i = 0; names && i < names->nelts; ++i) {
        if (!list.empty()) list += ", ";
        list += APR_ARRAY_IDX(names, i, ap_list_provider_names_t).provider_name;
    }
    return list.empty() ? "none" : list;
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

apr_status_t destroy_provider(void* data) {
    auto* conf = static_cast<RevocationCacheConfig*>(data);
    if (conf->initialised) conf->provider->destroy(conf->instance, nullptr);
    conf->initialised = false;
    return APR_SUCCESS;
}

}  // namespace

// One thread per child makes every socache call; requests wait for it with
// a deadline. Health (the marker) and the one-line-per-outage log are kept
// here, per process.
class CacheClient {
public:
    CacheClient(const RevocationCacheConfig& conf, server_rec* s) : shared_(std::make_shared<Shared>(conf, s)) {
        thread_ = std::thread([shared = shared_] { run(*shared); });
    }

    ~CacheClient() {
        std::unique_lock<std::mutex> lock(shared_->mutex);
        shared_->stopping = true;
        shared_->wake.notify_all();
        if (shared_->done.wait_for(lock, kStopTimeout, [this] { return shared_->finished; })) {
            lock.unlock();
            thread_.join();
        } else {
            thread_.detach();  // stuck in a stalled server: the child exits without it
        }
    }

    CacheAnswer ask(const Bytes& id) {
        Shared& sh = *shared_;
        const auto timeout = to_chrono(sh.conf.timeout);
        std::unique_lock<std::mutex> lock(sh.mutex);
        if (sh.busy_since && Clock::now() - *sh.busy_since > timeout) {
            return sh.unavailable("no answer within " + milliseconds(sh.conf.timeout) + ": the cache is slow or stalled");
        }
        if (sh.queue.size() >= kMaxWaiting) return sh.unavailable("too many lookups are waiting for it");
        auto job = std::make_shared<Job>();
        job->id = id;
        sh.queue.push_back(job);
        sh.wake.notify_all();
        if (!sh.done.wait_for(lock, timeout, [&job] { return job->finished; })) {
            job->abandoned = true;
            return sh.unavailable("no answer within " + milliseconds(sh.conf.timeout));
        }
        return job->answer;
    }

private:
    struct Job {
        Bytes id;
        bool finished = false;
        bool abandoned = false;  // its request stopped waiting
        CacheAnswer answer;
    };

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
        // The lookup thread's own:
        std::optional<Clock::time_point> marker_seen;  // the last time the marker was read
        std::set<Bytes> reported;                      // hostile entries already logged

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
        apr_pool_t* pool = nullptr;
        apr_pool_create_unmanaged_ex(&pool, nullptr, nullptr);
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
            CacheAnswer answer = look_up(sh, pool, job->id, trouble);
            apr_pool_clear(pool);
            lock.lock();
            sh.busy_since.reset();
            if (trouble) {
                answer = sh.unavailable(*trouble);
            } else {
                sh.answered();
            }
            job->answer = std::move(answer);
            job->finished = true;
            sh.done.notify_all();
        }
        sh.finished = true;
        sh.done.notify_all();
        lock.unlock();
        apr_pool_destroy(pool);
    }

    // One socache retrieve; the value, or the status.
    static apr_status_t retrieve(Shared& sh, apr_pool_t* pool, const Bytes& id, std::string& value) {
        // One byte more than an entry may have, so an oversized one is seen as such.
        unsigned char buf[kMaxCacheValueSize + 1];
        unsigned int size = sizeof buf;
        const apr_status_t status = sh.conf.provider->retrieve(sh.conf.instance, sh.server, id.data(),
                                                               static_cast<unsigned int>(id.size()), buf, &size, pool);
        if (status == APR_SUCCESS) value.assign(reinterpret_cast<const char*>(buf), size);
        return status;
    }

    // Without the mutex. Sets `trouble` when the cache cannot be asked.
    static CacheAnswer look_up(Shared& sh, apr_pool_t* pool, const Bytes& id, std::optional<std::string>& trouble) {
        CacheAnswer answer;
        std::string value;
        // apr_redis answers "not found" for a server it gave up on, and a
        // flushed cache holds nothing: only the marker tells an empty answer
        // from a healthy one. It is read again after any trouble.
        if (!sh.marker_seen || Clock::now() - *sh.marker_seen > kMarkerCheckInterval) {
            const apr_status_t status = retrieve(sh, pool, cache_marker_id(), value);
            if (status == APR_NOTFOUND) {
                trouble = "it is down, or holds no cscguard marker: flushed or restarted empty (run `cscguard push`)";
                sh.marker_seen.reset();
                return answer;
            }
            if (status != APR_SUCCESS) {
                trouble = status_text(status);
                sh.marker_seen.reset();
                return answer;
            }
            try {
                parse_cache_marker(value);
            } catch (const PolicyError& err) {
                trouble = std::string("its cscguard marker is unreadable: ") + err.what();
                sh.marker_seen.reset();
                return answer;
            }
            sh.marker_seen = Clock::now();
        }
        const apr_status_t status = retrieve(sh, pool, id, value);
        if (status == APR_NOTFOUND) {
            answer.state = CacheAnswer::State::NotListed;
            return answer;
        }
        if (status == APR_ENOMEM || status == APR_ENOSPC) {  // larger than any entry of ours
            report_hostile(sh, id, "it is larger than " + std::to_string(kMaxCacheValueSize) + " bytes");
            answer.state = CacheAnswer::State::NotListed;
            return answer;
        }
        if (status != APR_SUCCESS) {
            trouble = status_text(status);
            sh.marker_seen.reset();
            return answer;
        }
        try {
            answer.entry = parse_cache_entry(value);
            answer.state = CacheAnswer::State::Revoked;
        } catch (const PolicyError& err) {
            report_hostile(sh, id, err.what());
            answer.state = CacheAnswer::State::NotListed;
        }
        return answer;
    }

    // A value that is no entry of ours is ignored (the CRL still decides):
    // it cannot grant, and whoever can write the cache can delete entries too.
    static void report_hostile(Shared& sh, const Bytes& id, const std::string& why) {
        if (sh.reported.size() >= kMaxReportedEntries || !sh.reported.insert(id).second) return;
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, sh.server,
                     "CSG0303: the revocation cache %s holds a value under %s that is no cscguard entry (%s); it is "
                     "ignored and the certificate is judged by its CRL",
                     sh.conf.spec.c_str(), redis_key(id).c_str(), why.c_str());
    }

    std::shared_ptr<Shared> shared_;
    std::thread thread_;
};

const char* set_revocation_cache(cmd_parms* cmd, void*, const char* spec) {
    return global_directive(cmd, [&] {
        RevocationCacheConfig& conf = cache_config();
        if (conf.provider) throw PolicyError("is already set (" + conf.spec + ")");
        const std::string text = spec;
        const std::size_t colon = text.find(':');
        const std::string name = text.substr(0, colon);
        const std::string args = colon == std::string::npos ? "" : text.substr(colon + 1);
        const auto* provider = static_cast<const ap_socache_provider_t*>(
            ap_lookup_provider(AP_SOCACHE_PROVIDER_GROUP, name.c_str(), AP_SOCACHE_PROVIDER_VERSION));
        if (!provider) {
            throw PolicyError("unknown socache provider '" + name + "' (loaded: " + loaded_providers(cmd->temp_pool) +
                              "); load it first, e.g. `a2enmod socache_redis` or LoadModule socache_redis_module");
        }
        // Only Redis can be written from outside httpd by `cscguard push`:
        // shmcb lives inside one httpd, and cscguard speaks no memcache, so
        // either would be a cache that never holds a revocation.
        if (name != "redis") {
            throw PolicyError("socache provider '" + name + "' is loaded, but `cscguard push` writes revocations to " +
                              "Redis only: use redis:HOST:PORT");
        }
        check_redis_servers(cmd->temp_pool, args);
        ap_socache_instance_t* instance = nullptr;
        if (const char* err = provider->create(&instance, args.c_str(), cmd->temp_pool, cmd->pool)) {
            throw PolicyError(err);
        }
        conf.spec = text;
        conf.provider = provider;
        conf.instance = instance;
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

bool init_revocation_cache(apr_pool_t* pconf, server_rec* s, const Policy& policy) {
    Registry& reg = registry();
    if (!reg.revocation_cache || !reg.revocation_cache->provider) return true;
    RevocationCacheConfig& conf = *reg.revocation_cache;
    try {
        conf.issuer_keys.clear();
        for (const auto& issuer : policy.issuers()) {
            Bytes key = issuer_key_id(issuer->certificate());
            cache_entry_id(key, Serial::parse("01"));  // throws for a key id no entry can hold
            conf.issuer_keys.push_back(std::move(key));
        }
    } catch (const PolicyError& err) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, 0, s, "CSG0301: CSCGuardRevocationCache %s: %s", conf.spec.c_str(),
                     err.what());
        return false;
    }
    struct ap_socache_hints hints {};
    hints.avg_id_len = 24;
    hints.avg_obj_size = 48;
    hints.expiry_interval = apr_time_from_sec(30);
    if (const apr_status_t status = conf.provider->init(conf.instance, kCacheNamespace, &hints, s, pconf)) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, status, s, "CSG0301: CSCGuardRevocationCache %s cannot start: %s",
                     conf.spec.c_str(), status_text(status).c_str());
        return false;
    }
    conf.initialised = true;
    apr_pool_cleanup_register(pconf, &conf, destroy_provider, apr_pool_cleanup_null);
    return true;
}

void start_revocation_cache_client(apr_pool_t* pchild, server_rec* s) {
    Registry& reg = registry();
    if (!reg.revocation_cache || !reg.revocation_cache->initialised) return;
    reg.revocation_cache->client = pool_owned(pchild, new CacheClient(*reg.revocation_cache, s));
}

CacheAnswer ask_revocation_cache(request_rec* r, const Identity& identity) {
    const RevocationCacheConfig* conf = registry().revocation_cache.get();
    if (!conf || !conf->provider || identity.issuer_name.empty()) return {};
    ConnectionState& state = connection_state(r->connection);
    const apr_time_t now = apr_time_now();
    const bool answered = state.revocation.state == CacheAnswer::State::NotListed ||
                          state.revocation.state == CacheAnswer::State::Revoked;
    if (answered && state.revocation_for == &identity && now - state.revocation_asked < conf->ttl) {
        return state.revocation;
    }
    CacheAnswer answer;
    if (!conf->client || identity.issuer_index >= conf->issuer_keys.size()) {
        answer.state = CacheAnswer::State::Unavailable;
        answer.why = "this process has no lookup thread";
    } else {
        answer = conf->client->ask(cache_entry_id(conf->issuer_keys[identity.issuer_index], identity.cert.serial()));
    }
    answer.source = conf->spec;
    answer.fail_closed = conf->fail_closed;
    state.revocation = answer;
    state.revocation_for = &identity;
    state.revocation_asked = now;
    return answer;
}

}  // namespace cscguard::glue
