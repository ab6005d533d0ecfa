// Directives, per-directory merge and the configuration check.
#include <string>

#include <unistd.h>

#include "apr_strings.h"
#include "http_core.h"
#include "mod_cscguard/module.h"
#include "unixd.h"

#include "policy/error.h"

APLOG_USE_MODULE(cscguard);

namespace cscguard::glue {
namespace {

Registry* current_registry = nullptr;

apr_status_t forget_registry(void* registry) {
    if (current_registry == registry) current_registry = nullptr;
    delete static_cast<Registry*>(registry);
    return APR_SUCCESS;
}

// Start-up problems that do not stop the server, for the error log.
LogSink startup_log(server_rec* s) {
    return [s](LogLevel level, const std::string& text) {
        ap_log_error(APLOG_MARK, ap_level(level), 0, s, "CSG0204: %s", text.c_str());
    };
}

// Turns an exception into the error string httpd prints as
// "Syntax error on line N of FILE: ..." (configtest fails).
template <typename F>
const char* directive(cmd_parms* cmd, F&& body) {
    try {
        body();
        return nullptr;
    } catch (const std::exception& err) {
        return apr_pstrcat(cmd->pool, cmd->cmd->name, ": ", err.what(), nullptr);
    }
}

std::string absolute_path(cmd_parms* cmd, const char* file) {
    const char* path = ap_server_root_relative(cmd->pool, file);
    if (!path) throw PolicyError(std::string("invalid path '") + file + "'");
    return path;
}

const char* set_issuer(cmd_parms* cmd, void*, const char* name, const char* file) {
    return directive(cmd, [&] {
        Registry& reg = registry();
        for (const auto& decl : reg.issuers) {
            if (decl.issuer->name() == name) {
                throw PolicyError(std::string("issuer '") + name + "' is already declared at " + decl.where);
            }
        }
        reg.issuers.push_back({Issuer::load(name, absolute_path(cmd, file)), where(cmd)});
    });
}

const char* set_allowlist(cmd_parms* cmd, void*, const char* name, const char* file) {
    return directive(cmd, [&] {
        Registry& reg = registry();
        check_name("allowlist", name);
        for (const auto& decl : reg.allowlists) {
            if (decl.name == name) {
                throw PolicyError(std::string("allowlist '") + name + "' is already declared at " + decl.declared_at);
            }
        }
        // The file is read once every CSCGuardIssuer is known (check_config).
        reg.allowlists.push_back({name, absolute_path(cmd, file), where(cmd)});
    });
}

const char* add_crl(cmd_parms* cmd, void*, const char* file) {
    return directive(cmd, [&] {
        // Read, like allowlists, once every CSCGuardIssuer is known.
        registry().crls.push_back({absolute_path(cmd, file), where(cmd)});
    });
}

const char* set_crl_grace(cmd_parms* cmd, void*, const char* text) {
    if (const char* err = ap_check_cmd_context(cmd, GLOBAL_ONLY)) return err;
    return directive(cmd, [&] { registry().crl_grace = parse_duration(text); });
}

const char* set_reload_interval(cmd_parms* cmd, void*, const char* text) {
    if (const char* err = ap_check_cmd_context(cmd, GLOBAL_ONLY)) return err;
    return directive(cmd, [&] {
        const std::time_t seconds = parse_duration(text);
        if (seconds > 86400) throw PolicyError(std::string("'") + text + "' is longer than a day");
        registry().reload_interval = static_cast<int>(seconds);
    });
}

// httpd declares directive handlers as `const char *(*)()` under C++; going
// through void(*)() tells the compiler the cast is deliberate.
template <typename F>
cmd_func handler(F* fn) {
    return reinterpret_cast<cmd_func>(reinterpret_cast<void (*)()>(fn));
}

const char* set_user(cmd_parms* cmd, void* dconf, const char* mode) {
    return directive(cmd, [&] { static_cast<DirConf*>(dconf)->user = parse_user_mode(mode); });
}

}  // namespace

std::string where(const cmd_parms* cmd) {
    if (!cmd->directive || !cmd->directive->filename) return "(unknown place)";
    return std::string(cmd->directive->filename) + ":" + std::to_string(cmd->directive->line_num);
}

Registry& registry() {
    // pre_config creates it before any directive is read.
    return *current_registry;
}

void create_registry(apr_pool_t* pconf) {
    current_registry = new Registry();
    apr_pool_cleanup_register(pconf, current_registry, forget_registry, apr_pool_cleanup_null);
}

void* create_dir_conf(apr_pool_t* p, char*) {
    auto* conf = static_cast<DirConf*>(apr_palloc(p, sizeof(DirConf)));
    conf->user = UserMode::Unset;
    return conf;
}

void* merge_dir_conf(apr_pool_t* p, void* base_conf, void* add_conf) {
    const auto* base = static_cast<const DirConf*>(base_conf);
    const auto* add = static_cast<const DirConf*>(add_conf);
    auto* merged = static_cast<DirConf*>(apr_palloc(p, sizeof(DirConf)));
    merged->user = merge_user_mode(base->user, add->user);
    return merged;
}

const command_rec directives[] = {
    AP_INIT_TAKE2("CSCGuardIssuer", handler(set_issuer), nullptr, RSRC_CONF,
                  "NAME FILE: a CA (PEM or DER certificate) whose client certificates rules name as NAME"),
    AP_INIT_TAKE2("CSCGuardAllowlist", handler(set_allowlist), nullptr, RSRC_CONF,
                  "NAME FILE: a file of [ISSUER:]SERIAL lines, used by Require cscguard-allowlist NAME"),
    AP_INIT_TAKE1("CSCGuardCRL", handler(add_crl), nullptr, RSRC_CONF,
                  "FILE: CRLs (PEM, may hold several, or DER) of declared issuers; repeatable"),
    AP_INIT_TAKE1("CSCGuardCRLGrace", handler(set_crl_grace), nullptr, RSRC_CONF,
                  "DURATION: believe a CRL this long past its nextUpdate (default 0; e.g. 12h)"),
    AP_INIT_TAKE1("CSCGuardReloadInterval", handler(set_reload_interval), nullptr, RSRC_CONF,
                  "SECONDS: how often changed allowlists and CRLs are re-read (default 5; 0 = never)"),
    AP_INIT_TAKE1("CSCGuardRevocationCache", handler(set_revocation_cache), nullptr, RSRC_CONF,
                  "redis:HOST:PORT: a Redis holding revocations shared by a fleet (`cscguard revoke --push`)"),
    AP_INIT_TAKE1("CSCGuardRevocationCacheTTL", handler(set_revocation_cache_ttl), nullptr, RSRC_CONF,
                  "TIME: a connection asks the revocation cache again after this (default 1s; 0 = every request)"),
    AP_INIT_TAKE1("CSCGuardRevocationCacheTimeout", handler(set_revocation_cache_timeout), nullptr, RSRC_CONF,
                  "TIME: the longest a request waits for the revocation cache (default 100ms)"),
    AP_INIT_TAKE1("CSCGuardRevocationCacheFailure", handler(set_revocation_cache_failure), nullptr, RSRC_CONF,
                  "open|closed: when the revocation cache cannot be asked, judge by CRLs alone (open, default) or "
                  "deny (closed)"),
    AP_INIT_TAKE1("CSCGuardUser", handler(set_user), nullptr, OR_AUTHCFG,
                  "serial|email|cn|dn|none: what REMOTE_USER becomes when a cscguard rule grants"),
    {nullptr, {nullptr}, nullptr, 0, RAW_ARGS, nullptr},
};

int check_config(apr_pool_t*, apr_pool_t*, apr_pool_t*, server_rec* s) {
    Registry& reg = registry();
    std::vector<std::shared_ptr<const Issuer>> issuers;
    for (const auto& decl : reg.issuers) issuers.push_back(decl.issuer);
    // At a restart a file that is bad now keeps the version in force before
    // it (the last snapshot): only a first start, configtest and `httpd -k ...`
    // refuse a bad file. httpd reads its configuration twice at a start
    // (generations 0 and 1); every restart counts one more.
    std::optional<Snapshot> before;
    if (ap_state_query(AP_SQ_RUN_MODE) == AP_SQ_RM_NORMAL && ap_state_query(AP_SQ_CONFIG_GEN) >= 2) {
        std::string why;
        std::vector<std::string> names;
        for (const auto& issuer : issuers) names.push_back(issuer->name());
        try {
            before = read_snapshot(prepare_state_dir(s->process->pconf), geteuid(), names, &why);
        } catch (const PolicyError& err) {
            why = err.what();
        }
        if (!before) {
            ap_log_error(APLOG_MARK, APLOG_ERR, 0, s,
                         "CSG0204: no policy from before this restart (%s): the files on disk are trusted as at a "
                         "first start, also a CRL that rolls back",
                         why.c_str());
        }
    }
    try {
        reg.store = std::make_unique<PolicyStore>(std::move(issuers), reg.allowlists, reg.crls, reg.crl_grace,
                                                  before ? &*before : nullptr, startup_log(s));
        reg.configuration = reg.store->configuration_id();
    } catch (const std::exception& err) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, 0, s, "CSG0101: %s", err.what());
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    const std::shared_ptr<const Policy> policy = reg.policy();
    bool ok = true;
    for (const RequireLine& line : reg.pending) {
        try {
            line.rule->bind(*policy);
        } catch (const std::exception& err) {
            ap_log_error(APLOG_MARK, APLOG_EMERG, 0, s, "CSG0102: Require %s at %s: %s",
                         line.rule->provider(), line.where.c_str(), err.what());
            ok = false;
        }
    }
    reg.pending.clear();
    if (!check_revocation_cache(s, *policy)) ok = false;
    warn_unprotected_negations(s);
    // A stale CRL is no configuration error (the server must run and answer
    // 403), but the admin should hear of it at once.
    const std::time_t now = apr_time_sec(apr_time_now());
    for (const auto& decl : reg.issuers) {
        const RevocationList* crl = policy->revocation(decl.issuer->name());
        if (crl && is_stale(*crl, now, policy->crl_grace())) {
            ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, "CSG0203: %s",
                         stale_crl_message(*crl, policy->crl_grace()).c_str());
        }
    }
    // A declared issuer that no CRL file covers is not checked for revocation
    // at all - fine when meant, a hole when a file lost its CRL before start.
    if (!reg.crls.empty()) {
        for (const auto& decl : reg.issuers) {
            if (!policy->revocation(decl.issuer->name())) {
                ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s,
                             "CSG0105: no CSCGuardCRL file holds a CRL of issuer %s (declared at %s): its "
                             "certificates are not checked for revocation",
                             decl.issuer->name().c_str(), decl.where.c_str());
            }
        }
    }
    return ok ? OK : HTTP_INTERNAL_SERVER_ERROR;
}

int post_config(apr_pool_t* pconf, apr_pool_t*, apr_pool_t*, server_rec* s) {
    // Not in configtest or in httpd's first read of its configuration (which is
    // also all that `httpd -k graceful` does before it signals the server).
    if (ap_state_query(AP_SQ_RUN_MODE) != AP_SQ_RM_NORMAL ||
        ap_state_query(AP_SQ_MAIN_STATE) == AP_SQ_MS_CREATE_PRE_CONFIG) {
        return OK;
    }
    setup_decision_counters(s);
    Registry& reg = registry();
    if (!reg.store) return OK;
    bool published = false;
    try {
        reg.state_dir = prepare_state_dir(pconf);
        reg.state_owner = geteuid();
        clean_state_dir(reg.state_dir);
        const SnapshotHead previous = peek_snapshot(reg.state_dir, reg.state_owner);
        reg.generation = next_generation(previous.generation.value_or(0));  // later than any before a restart
        // The parent, and every child it forks, serves from the snapshot's
        // pages from now on: the tables compiled at start-up are let go.
        reg.store->adopt(publish_snapshot(reg.state_dir, reg.generation, reg.configuration, reg.store->files(),
                                          reg.store->issuer_names()));
        published = true;
    } catch (const std::exception& err) {
        reg.state_dir.clear();
        ap_log_error(APLOG_MARK, APLOG_ERR, 0, s,
                     "CSG0206: %s: policy files are not reloaded while httpd runs, and a restart cannot fall back "
                     "to the policy in force before it",
                     err.what());
    }
    if (published) write_reload_status(reg, s);  // the watcher keeps it up to date
    if (published && ap_unixd_config.user_id == geteuid()) {
        // Snapshots are believed because only this uid may write them; the
        // children run as it too, so one compromised child (or a CGI script
        // without suexec) could hand every other child a policy.
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s,
                     "CSG0206: httpd's children run as uid %ld, which also writes the policy snapshots in %s: start "
                     "httpd as root (with User set to another user) so that children cannot change the policy",
                     static_cast<long>(geteuid()), reg.state_dir.c_str());
    }
    trim_heap();  // the start-up parse's memory, before children are forked
    if (published && !reg.state_dir.empty() && reg.reload_interval > 0 && reg.store->watches_files()) {
        start_watcher(pconf, s);
    }
    return OK;
}

}  // namespace cscguard::glue
