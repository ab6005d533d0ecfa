// The status page (SetHandler cscguard-status): what a process of httpd
// enforces and how its files and decisions stand, gathered by the glue and
// written here as HTML for people, JSON for tools, and mod_status-style
// `?auto` and Prometheus `?metrics` text for monitoring.
//
// It shows what admins already see in the error log and the configuration
// (file paths, CA names, CRL numbers and dates, counts, reload errors), never
// the serials or addresses an allowlist holds, nor a client's certificate.
#pragma once

#include <cstdint>
#include <ctime>
#include <optional>
#include <string>
#include <vector>

#include "policy/decision_counters.h"
#include "policy/policy.h"
#include "policy/policy_store.h"

namespace cscguard {

// What the watcher (the process that reads policy files) last wrote about
// them into the state directory, for the children to show.
struct ReloadStatus {
    std::uint64_t generation = 0;  // of the snapshot the watcher published last
    std::time_t written = 0;
    std::vector<FileHealth> files;
};

// As JSON (what the watcher writes), and back. parse_reload_status throws
// PolicyError naming `origin` and the field for anything else.
std::string encode_reload_status(const ReloadStatus& status);
ReloadStatus parse_reload_status(std::string_view text, const std::string& origin);

struct StatusReport {
    std::time_t now = 0;
    std::string server;  // "Apache/2.4.62 (Debian)"
    long pid = 0;        // the child that answered
    std::uint64_t generation = 0;       // the snapshot this child serves
    std::optional<std::time_t> published;  // when that snapshot was written, when known
    int reload_interval = 0;
    std::shared_ptr<const Policy> policy;  // what this child enforces
    std::optional<ReloadStatus> reload;    // the watcher's account of the files ...
    std::string reload_unknown;            // ... or why there is none
    std::string tls_interface;             // how the module asks mod_ssl (ssl_vars.cpp)
    std::string revocation_cache;          // "redis:HOST:PORT (TTL 1s, timeout 100ms, failure open)"; "" when off
    const DecisionCounters* counters = nullptr;  // null: not counted (no shared memory)
};

// A CRL's state at `now`: "fresh", "in grace" (past nextUpdate, within
// CSCGuardCRLGrace) or "stale" (every certificate of its issuer is denied).
std::string crl_state(const RevocationList& crl, std::time_t now, std::time_t grace);

std::string render_html(const StatusReport& report);
std::string render_json(const StatusReport& report);
std::string render_auto(const StatusReport& report);     // "Key: value" lines, as mod_status ?auto
std::string render_metrics(const StatusReport& report);  // Prometheus text format 0.0.4

}  // namespace cscguard
