// Declarations shared by the glue's files. Everything here is httpd-facing;
// decisions live in policy/.
#pragma once

#include <chrono>
#include <cstdint>
#include <malloc.h>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "httpd.h"
#include "http_config.h"
#include "http_log.h"

#include "mod_cscguard/revocation_cache.h"

#include "policy/decision_counters.h"
#include "policy/identity_cache.h"
#include "policy/policy.h"
#include "policy/policy_store.h"
#include "policy/rules.h"
#include "policy/snapshot.h"
#include "policy/user_mode.h"

extern "C" {
extern module AP_MODULE_DECLARE_DATA cscguard_module;
}

namespace cscguard::glue {

// A directive's place in the configuration, for error messages.
std::string where(const cmd_parms* cmd);

// The error log's level for a policy store's log line.
inline int ap_level(LogLevel level) {
    switch (level) {
        case LogLevel::Error: return APLOG_ERR;
        case LogLevel::Info: break;
    }
    return APLOG_INFO;
}

struct IssuerDecl {
    std::shared_ptr<const Issuer> issuer;
    std::string where;
};

struct RequireLine {
    Rule* rule;  // owned by the pool of the config that holds the line
    std::string where;
};

// What the configuration declares, for the whole server: issuer and allowlist
// names form one namespace, wherever (server or virtual host) they are written,
// so a Require line means the same thing in every location it reaches.
class SnapshotTaker;

struct Registry {
    std::vector<IssuerDecl> issuers;
    std::vector<AllowlistSource> allowlists;
    std::vector<CrlSource> crls;
    std::time_t crl_grace = 0;
    int reload_interval = 5;             // seconds; 0: never
    std::vector<RequireLine> pending;    // parsed before the policy existed
    std::unique_ptr<PolicyStore> store;  // built by check_config
    std::string configuration;           // store->configuration_id()
    std::string state_dir;               // DefaultRuntimeDir/cscguard; "" in configtest
    unsigned state_owner = 0;            // the uid that writes snapshots (the parent's)
    std::uint64_t generation = 0;        // of the last snapshot written or adopted by this process
    IdentityCache identities{kIdentityCacheSize};
    SnapshotTaker* parent_taker = nullptr;  // the parent's (follow_in_parent); owned by pconf
    std::unique_ptr<RevocationCacheConfig> revocation_cache;  // CSCGuardRevocationCache*; null when unset

    // The snapshot requests use (null before check_config).
    std::shared_ptr<const Policy> policy() const { return store ? store->current() : nullptr; }

    // Decoded certificates kept per process: ~1 KB each.
    static constexpr std::size_t kIdentityCacheSize = 2048;
};

// The registry of the configuration being read or served (one per pconf).
Registry& registry();
void create_registry(apr_pool_t* pconf);

// Per-directory configuration.
struct DirConf {
    UserMode user;
};

void* create_dir_conf(apr_pool_t* p, char* dir);
void* merge_dir_conf(apr_pool_t* p, void* base, void* add);
extern const command_rec directives[];

// Loads allowlists into the policy and binds every Require line; logs each
// problem with its place and returns non-OK so configtest fails.
int check_config(apr_pool_t* pconf, apr_pool_t* plog, apr_pool_t* ptemp, server_rec* s);

// Warns (CSG0103) about negated cscguard rules in the configuration that let
// a client without a good certificate in (policy/negation.h).
void warn_unprotected_negations(server_rec* s);

// The module's state directory, DefaultRuntimeDir/cscguard: made by the
// parent, writable by it alone (it runs as root), readable by the children.
// Throws PolicyError when it cannot be made safe.
std::string prepare_state_dir(apr_pool_t* p);
// Removes what writers killed before their rename left behind.
void clean_state_dir(const std::string& state_dir);
std::string snapshot_path(const std::string& state_dir);
// The last snapshot the watcher published, kept under a second name (a hard
// link): what a child forked while policy.snapshot is damaged takes, so it
// serves what the other children serve, not httpd's start-up policy.
std::string last_good_path(const std::string& state_dir);
// Writes a snapshot of `files` into the state directory (a new file, synced,
// renamed into place) and returns it, mapped from there: the writer then
// serves from the same pages as the children. Throws PolicyError (also for
// a snapshot too big to be read).
Snapshot publish_snapshot(const std::string& state_dir, std::uint64_t generation, const std::string& configuration,
                          const std::vector<const CompiledFile*>& files, const std::vector<std::string>& issuer_names);
// Writes a small file of the state directory whole (a new file renamed into
// place), readable by the children. Throws PolicyError.
void write_state_file(const std::string& path, const std::string& text);
// What a glance at the snapshot's first bytes tells (ten times a second).
struct SnapshotHead {
    std::optional<std::uint64_t> generation;
    FileStamp stamp;  // of the file looked at
    bool missing = false;
    std::string error;
};
SnapshotHead peek_snapshot(const std::string& state_dir, unsigned owner);
// The snapshot in the state directory, mapped, when it belongs to `owner`
// (the parent's uid), nobody else may write it, and it is intact (opened
// against `issuer_names`); else nothing (`why` tells which).
std::optional<Snapshot> read_snapshot(const std::string& state_dir, unsigned owner,
                                      const std::vector<std::string>& issuer_names, std::string* why = nullptr,
                                      bool last_good = false);
// A generation for a new snapshot: later than `last`, and than any a restart
// before could have written (nanoseconds of the clock).
std::uint64_t next_generation(std::uint64_t last);

// After the configuration is loaded (not in configtest, nor in httpd's first
// read of it): writes the snapshot of what the parent loaded and starts the
// watcher, the one process that re-reads policy files while httpd serves.
int post_config(apr_pool_t* pconf, apr_pool_t* plog, apr_pool_t* ptemp, server_rec* s);
void start_watcher(apr_pool_t* pconf, server_rec* s);

// Takes a process's registry to newer snapshots of its configuration: maps,
// checks and adopts them, says each problem once, and does not map a
// snapshot it refused again until it changes.
class SnapshotTaker {
public:
    SnapshotTaker(Registry& reg, server_rec* s);
    void take_newer();  // throws only what cannot be helped (out of memory)

private:
    void complain(const std::string& text);
    void adopt(const Snapshot& snapshot, const char* which);

    Registry& reg_;
    server_rec* server_;
    std::string last_error_;            // said once, not ten times a second
    std::optional<FileStamp> refused_;  // the snapshot file refused last
};

// In the parent, whenever the MPM runs its monitor hook (every ten seconds
// or so): takes a newer snapshot, so children forked
// from now on start from it, and the parent holds no old one in /run.
int follow_in_parent(apr_pool_t* pconf, server_rec* s);

// Starts the thread that takes new snapshots in this child process (after it
// took the newest one: a child never serves an older version than another).
void start_follower(apr_pool_t* pchild, server_rec* s);

// mod_ssl's view of the connection (ssl_vars.cpp): ap_ssl_* on httpd 2.4.47+,
// mod_ssl's optional functions before (or with -DCSCGUARD_SSL_OPTIONAL_FN=ON).
void retrieve_ssl_functions();  // the optional_fn_retrieve hook
const char* ssl_interface();    // which of the two, for the start-up log
bool connection_is_tls(conn_rec* c);
const char* ssl_variable(request_rec* r, const char* name);  // null when mod_ssl has none

// Registers the cscguard-* authz providers.
void register_providers(apr_pool_t* p);

// The status page (SetHandler cscguard-status), status.cpp.
void register_status_handler();
// Maps the decision counters every process adds to (post_config, in the
// parent, before children are forked); kept across graceful restarts.
void setup_decision_counters(server_rec* s);
// Counts one decision of a Require line (no-op without the counters).
void count_decision(const char* provider, Outcome outcome);
// Writes the files' health (PolicyStore::health) into the state directory
// for the status page, when it changed since this process wrote it last.
void write_reload_status(const Registry& reg, server_rec* s) noexcept;

// What the module keeps per connection.
struct ConnectionState {
    std::string pem;                          // mod_ssl's SSL_CLIENT_CERT ...
    std::shared_ptr<const Identity> identity;  // ... decoded
    CacheAnswer revocation;                    // the revocation cache's last answer ...
    const Identity* revocation_for = nullptr;  // ... for this identity ...
    std::chrono::steady_clock::time_point revocation_asked;  // ... asked then (a clock never set back)
};
ConnectionState& connection_state(conn_rec* c);

// The decoded client certificate of the request: kept on the connection
// for keep-alive requests, and in the process's IdentityCache for new
// connections and HTTP/2 streams (again after a renegotiation changes the
// certificate). Throws PolicyError when mod_ssl's certificate cannot be decoded.
const Identity& request_identity(request_rec* r, const Policy& policy, const char* pem);

// Gives the heap's free pages back to the system after the tables compiled
// from a million entries went to a snapshot: the parent would otherwise pass
// them on to every child it forks, and the watcher would keep them.
inline void trim_heap() { malloc_trim(0); }

// Runs `delete` on a C++ object when its pool goes away.
template <typename T>
apr_status_t destroy(void* object) {
    delete static_cast<T*>(object);
    return APR_SUCCESS;
}

template <typename T>
T* pool_owned(apr_pool_t* pool, T* object) {
    apr_pool_cleanup_register(pool, object, destroy<T>, apr_pool_cleanup_null);
    return object;
}

}  // namespace cscguard::glue
