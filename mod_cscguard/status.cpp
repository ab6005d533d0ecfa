// The status page, `SetHandler cscguard-status` (as mod_status's
// server-status): what this child enforces, how the policy files stand (as
// the watcher last wrote it into the state directory) and the decisions of
// every child since httpd started, counted in shared memory.
//
// The counters' memory is made once in the parent's life and kept across
// graceful restarts (ap_retained_data, as the MPMs keep their scoreboard
// data): children forked before and after a restart add to the same numbers.
#include <cstring>
#include <unistd.h>

#include "ap_mpm.h"
#include "apr_shm.h"
#include "apr_strings.h"
#include "http_protocol.h"
#include "http_request.h"
#include "mod_cscguard/module.h"

#include "policy/error.h"
#include "policy/file.h"
#include "policy/status_report.h"

APLOG_USE_MODULE(cscguard);

namespace cscguard::glue {
namespace {

constexpr const char* kHandler = "cscguard-status";
constexpr const char* kRetainedKey = "mod_cscguard-decision-counters";
constexpr std::size_t kMaxReloadStatusBytes = std::size_t{8} << 20;

DecisionCounters* g_counters = nullptr;  // this process's view; set by setup_decision_counters

struct Retained {
    apr_shm_t* shm;
};

std::string reload_status_path(const std::string& state_dir) { return state_dir + "/reload-status.json"; }

std::string cache_description(const RevocationCacheConfig* cache) {
    if (!cache) return "";
    return cache->spec + " (TTL " + std::to_string(apr_time_as_msec(cache->ttl)) + " ms, timeout " +
           std::to_string(apr_time_as_msec(cache->timeout)) + " ms, failure " + (cache->fail_closed ? "closed" : "open") +
           ")";
}

// The watcher's account of the files, when it is there and nobody but the
// parent's uid could have written it.
std::optional<ReloadStatus> read_reload_status(const Registry& reg, std::string& why) {
    if (reg.state_dir.empty()) {
        why = "the module has no state directory (see the error log at start-up)";
        return std::nullopt;
    }
    const std::string path = reload_status_path(reg.state_dir);
    try {
        FileContent file = read_policy_file(path, "the reload status", kMaxReloadStatusBytes);
        if (file.owner != reg.state_owner || (file.mode & 022)) {
            why = path + " does not belong to httpd's parent alone: not shown";
            return std::nullopt;
        }
        return parse_reload_status(file.bytes, path);
    } catch (const PolicyError& err) {
        why = err.what();
        return std::nullopt;
    }
}

// When the snapshot this process serves was published (its file's mtime),
// if the file in the state directory is still that snapshot.
std::optional<std::time_t> published_at(const Registry& reg) {
    if (reg.state_dir.empty()) return std::nullopt;
    const SnapshotHead head = peek_snapshot(reg.state_dir, reg.state_owner);
    if (!head.generation || *head.generation != reg.generation) return std::nullopt;
    return static_cast<std::time_t>(head.stamp.mtime_ns / 1000000000);
}

int status_handler(request_rec* r) {
    if (!r->handler || std::strcmp(r->handler, kHandler) != 0) return DECLINED;
    r->allowed = AP_METHOD_BIT << M_GET;
    if (r->method_number != M_GET) return HTTP_METHOD_NOT_ALLOWED;
    try {
        Registry& reg = registry();
        StatusReport report;
        report.policy = reg.policy();
        if (!report.policy) return HTTP_SERVICE_UNAVAILABLE;
        report.now = apr_time_sec(r->request_time);
        report.server = ap_get_server_description();
        report.pid = static_cast<long>(getpid());
        report.generation = reg.generation;
        report.published = published_at(reg);
        report.reload_interval = reg.reload_interval;
        report.tls_interface = ssl_interface();
        report.reload = read_reload_status(reg, report.reload_unknown);
        report.revocation_cache = cache_description(reg.revocation_cache.get());
        report.counters = g_counters;

        const std::string args = r->args ? r->args : "";
        std::string body;
        if (args == "json") {
            ap_set_content_type(r, "application/json");
            body = render_json(report);
        } else if (args == "auto") {
            ap_set_content_type(r, "text/plain; charset=utf-8");
            body = render_auto(report);
        } else if (args == "metrics") {
            ap_set_content_type(r, "text/plain; version=0.0.4; charset=utf-8");
            body = render_metrics(report);
        } else {
            ap_set_content_type(r, "text/html; charset=utf-8");
            body = render_html(report);
        }
        // A status must be fresh, and is nobody else's to keep.
        apr_table_setn(r->headers_out, "Cache-Control", "no-store");
        if (!r->header_only) ap_rwrite(body.data(), static_cast<int>(body.size()), r);
        return OK;
    } catch (const std::exception& err) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "CSG0005: internal error in the status page: %s", err.what());
        return HTTP_INTERNAL_SERVER_ERROR;
    }
}

}  // namespace

void setup_decision_counters(server_rec* s) {
    auto* retained = static_cast<Retained*>(ap_retained_data_get(kRetainedKey));
    if (!retained) {
        retained = static_cast<Retained*>(ap_retained_data_create(kRetainedKey, sizeof(Retained)));
        retained->shm = nullptr;
    }
    if (retained->shm) {
        auto* held = static_cast<DecisionCounters*>(apr_shm_baseaddr_get(retained->shm));
        if (held->layout == DecisionCounters::kLayout) {
            g_counters = held;
            return;
        }
        // Counters of another module version (upgraded under a graceful
        // restart): start anew rather than misread them.
        apr_shm_destroy(retained->shm);
        retained->shm = nullptr;
    }
    // Anonymous shared memory in the process pool: it lives as long as the
    // parent, and every child inherits it when forked.
    const apr_status_t rv = apr_shm_create(&retained->shm, sizeof(DecisionCounters), nullptr, s->process->pool);
    if (rv != APR_SUCCESS) {
        retained->shm = nullptr;
        g_counters = nullptr;
        ap_log_error(APLOG_MARK, APLOG_WARNING, rv, s,
                     "CSG0211: cannot make shared memory for the status page's decision counters: they are not "
                     "counted");
        return;
    }
    g_counters = new (apr_shm_baseaddr_get(retained->shm)) DecisionCounters();
    g_counters->since.store(static_cast<std::int64_t>(std::time(nullptr)));
}

void count_decision(const char* provider, Outcome outcome) {
    if (g_counters) g_counters->add(provider_index(provider), outcome);
}

void write_reload_status(const Registry& reg, server_rec* s) noexcept {
    if (reg.state_dir.empty() || !reg.store) return;
    static std::string last;  // per process: the watcher writes only what changed
    // Never lets an error out: it runs in the watcher's loop and after the
    // start-up snapshot, where an exception would end the watcher (restarted
    // every second) or drop the state directory.
    try {
        ReloadStatus status;
        status.generation = reg.generation;
        status.files = reg.store->health();
        const std::string unstamped = encode_reload_status(status);
        if (unstamped == last) return;
        status.written = std::time(nullptr);
        write_state_file(reload_status_path(reg.state_dir), encode_reload_status(status));
        last = unstamped;
    } catch (const std::exception& err) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, "CSG0211: cannot write the status page's file account: %s",
                     err.what());
    }
}

void register_status_handler() { ap_hook_handler(status_handler, nullptr, nullptr, APR_HOOK_MIDDLE); }

}  // namespace cscguard::glue
