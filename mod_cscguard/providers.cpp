// The `Require cscguard-*` authz providers. Each has its own parse function
// (its rule type's parse); the check turns the request into policy inputs
// (from mod_ssl only), asks policy/ for a verdict, and on a grant sets
// REMOTE_USER and the CSCGUARD_* variables.
#include <mutex>
#include <set>

#include "apr_strings.h"
#include "http_request.h"
#include "mod_auth.h"
#include "mod_cscguard/module.h"

#include "policy/error.h"

APLOG_USE_MODULE(cscguard);

namespace cscguard::glue {
namespace {

template <typename KindRule>
const char* parse_require_line(cmd_parms* cmd, const char* line, const void** parsed) {
    try {
        Rule* rule = pool_owned(cmd->pool, new Rule(KindRule::parse(line)));
        Registry& reg = registry();
        if (const auto policy = reg.policy()) {
            rule->bind(*policy);  // .htaccess: read while serving
        } else {
            reg.pending.push_back({rule, where(cmd)});  // bound by check_config
        }
        *parsed = rule;
        return nullptr;
    } catch (const std::exception& err) {
        return apr_pstrcat(cmd->pool, "Require ", KindRule::kProvider, ": ", err.what(), nullptr);
    }
}

void export_grant(request_rec* r, const Identity& identity, const Match& match) {
    const auto* dconf = static_cast<const DirConf*>(ap_get_module_config(r->per_dir_config, &cscguard_module));
    apr_table_t* env = r->subprocess_env;
    apr_table_set(env, "CSCGUARD_SERIAL", identity.cert.serial().canonical().c_str());
    apr_table_set(env, "CSCGUARD_ISSUER", identity.issuer_name.c_str());
    apr_table_set(env, "CSCGUARD_EMAIL", match.email.c_str());
    apr_table_set(env, "CSCGUARD_RULE", match.rule.c_str());
    // Never overwrite a user that authentication (e.g. Basic) already set.
    if (!r->user) {
        if (auto user = user_name(dconf ? dconf->user : UserMode::Unset, identity, match)) {
            r->user = apr_pstrdup(r->pool, user->c_str());
        }
    }
}

// A stale CRL denies every certificate of its issuer; say so at error level
// once per CRL version and process, not once per request.
void report_stale_crl(request_rec* r, const RevocationList& crl, std::time_t grace) {
    static std::mutex mutex;
    static std::set<std::pair<std::string, std::time_t>> reported;
    {
        std::lock_guard<std::mutex> lock(mutex);
        if (!reported.insert({crl.source, crl.next_update}).second) return;
    }
    ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "CSG0203: %s", stale_crl_message(crl, grace).c_str());
}

authz_status decide(request_rec* r, const Rule& rule) {
    const std::shared_ptr<const Policy> policy = registry().policy();
    conn_rec* c = r->connection;
    const bool is_tls = connection_is_tls(c);
    const char* verify = is_tls ? ssl_variable(r, "SSL_CLIENT_VERIFY") : nullptr;
    if (auto why = refuse_connection(is_tls, verify ? verify : "")) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "CSG0002: deny %s: %s", rule.provider(),
                      why->c_str());
        count_decision(rule.provider(), Outcome::NoCertificate);
        return AUTHZ_DENIED;
    }
    const char* pem = ssl_variable(r, "SSL_CLIENT_CERT");
    if (!policy || !pem || !*pem) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "CSG0004: deny %s: %s", rule.provider(),
                      policy ? "mod_ssl gave no SSL_CLIENT_CERT" : "no policy loaded");
        count_decision(rule.provider(), Outcome::Error);
        return AUTHZ_DENIED;
    }
    const Identity* identity = nullptr;
    try {
        identity = &request_identity(r, *policy, pem);
    } catch (const PolicyError& err) {
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, "CSG0003: deny %s: %s", rule.provider(),
                      err.what());
        count_decision(rule.provider(), Outcome::BadCertificate);
        return AUTHZ_DENIED;
    }
    const CacheAnswer cached = ask_revocation_cache(r, *identity);
    const Verdict verdict = evaluate(rule, *identity, *policy, apr_time_sec(r->request_time), &cached);
    if (verdict.stale_crl) report_stale_crl(r, *verdict.crl, policy->crl_grace());
    count_decision(rule.provider(), outcome_of(verdict));
    if (APLOG_R_IS_LEVEL(r, APLOG_INFO)) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "%s: %s %s", verdict.granted ? "CSG0001" : "CSG0002",
                      verdict.granted ? "grant" : "deny", describe(verdict, *identity, *policy).c_str());
    }
    if (!verdict.granted) return AUTHZ_DENIED;
    export_grant(r, *identity, verdict.match);
    return AUTHZ_GRANTED;
}

// No exception may cross into httpd: anything unexpected is a 500.
authz_status check_authorization(request_rec* r, const char*, const void* parsed) {
    try {
        if (!parsed) return AUTHZ_DENIED;
        return decide(r, *static_cast<const Rule*>(parsed));
    } catch (const std::exception& err) {
        if (parsed) count_decision(static_cast<const Rule*>(parsed)->provider(), Outcome::Error);
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "CSG0005: internal error: %s", err.what());
        return AUTHZ_GENERAL_ERROR;
    }
}

template <typename KindRule>
const authz_provider provider = {&check_authorization, &parse_require_line<KindRule>};

template <typename KindRule>
void register_one(apr_pool_t* p) {
    ap_register_auth_provider(p, AUTHZ_PROVIDER_GROUP, KindRule::kProvider, AUTHZ_PROVIDER_VERSION,
                              &provider<KindRule>, AP_AUTH_INTERNAL_PER_CONF);
}

}  // namespace

void register_providers(apr_pool_t* p) {
    register_one<SerialRule>(p);
    register_one<EmailRule>(p);
    register_one<SubjectRule>(p);
    register_one<AllowlistRule>(p);
    register_one<ValidRule>(p);
}

}  // namespace cscguard::glue
