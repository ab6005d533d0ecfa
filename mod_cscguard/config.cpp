// Directives, per-directory merge and the configuration check.
#include <string>

#include "apr_strings.h"
#include "http_core.h"
#include "module.h"

#include "error.h"

APLOG_USE_MODULE(cscguard);

namespace cscguard::glue {
namespace {

Registry* current_registry = nullptr;

apr_status_t forget_registry(void* registry) {
    if (current_registry == registry) current_registry = nullptr;
    delete static_cast<Registry*>(registry);
    return APR_SUCCESS;
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

const char* set_issuer(cmd_parms* cmd, void*, const char* name, const char* file) {
    return directive(cmd, [&] {
        Registry& reg = registry();
        for (const auto& decl : reg.issuers) {
            if (decl.issuer->name() == name) {
                throw PolicyError(std::string("issuer '") + name + "' is already declared at " + decl.where);
            }
        }
        const char* path = ap_server_root_relative(cmd->pool, file);
        if (!path) throw PolicyError(std::string("invalid path '") + file + "'");
        reg.issuers.push_back({Issuer::load(name, path), where(cmd)});
    });
}

const char* set_allowlist(cmd_parms* cmd, void*, const char* name, const char* file) {
    return directive(cmd, [&] {
        Registry& reg = registry();
        check_name("allowlist", name);
        for (const auto& decl : reg.allowlists) {
            if (decl.source.name == name) {
                throw PolicyError(std::string("allowlist '") + name + "' is already declared at " + decl.where);
            }
        }
        const char* path = ap_server_root_relative(cmd->pool, file);
        if (!path) throw PolicyError(std::string("invalid path '") + file + "'");
        // The file is read once every CSCGuardIssuer is known (check_config).
        reg.allowlists.push_back({{name, path, where(cmd)}, where(cmd)});
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
    AP_INIT_TAKE1("CSCGuardUser", handler(set_user), nullptr, OR_AUTHCFG,
                  "serial|email|cn|dn|none: what REMOTE_USER becomes when a cscguard rule grants"),
    {nullptr, {nullptr}, nullptr, 0, RAW_ARGS, nullptr},
};

int check_config(apr_pool_t*, apr_pool_t*, apr_pool_t*, server_rec* s) {
    Registry& reg = registry();
    std::vector<std::shared_ptr<const Issuer>> issuers;
    std::vector<AllowlistSource> sources;
    for (const auto& decl : reg.issuers) issuers.push_back(decl.issuer);
    for (const auto& decl : reg.allowlists) sources.push_back(decl.source);

    bool ok = true;
    try {
        reg.policy = std::make_shared<const Policy>(std::move(issuers), sources);
    } catch (const std::exception& err) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, 0, s, "CSG0101: %s", err.what());
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    for (const RequireLine& line : reg.pending) {
        try {
            line.rule->bind(*reg.policy);
        } catch (const std::exception& err) {
            ap_log_error(APLOG_MARK, APLOG_EMERG, 0, s, "CSG0102: Require %s at %s: %s",
                         provider_name(line.rule->kind()), line.where.c_str(), err.what());
            ok = false;
        }
    }
    reg.pending.clear();
    return ok ? OK : HTTP_INTERNAL_SERVER_ERROR;
}

}  // namespace cscguard::glue
