// mod_cscguard: per-location access rules for client-certificate holders.
// This file only wires the module into httpd; see module.h for the pieces.
#include "mpm_common.h"
#include "mod_cscguard/module.h"

#include "ap_mmn.h"

APLOG_USE_MODULE(cscguard);

#if !AP_MODULE_MAGIC_AT_LEAST(20120211, 0)
#error "mod_cscguard needs httpd 2.4 (2.4.37 or newer is supported; see ssl_vars.cpp for before 2.4.47)"
#endif

namespace {

int pre_config(apr_pool_t* pconf, apr_pool_t*, apr_pool_t*) {
    cscguard::glue::create_registry(pconf);
    return OK;
}

void child_init(apr_pool_t* pchild, server_rec* s) {
    try {
        cscguard::glue::start_follower(pchild, s);
        cscguard::glue::start_revocation_cache_client(pchild, s);
    } catch (const std::exception& err) {
        // A child that cannot follow the policy would serve its start-up
        // version for its whole life: it does not serve at all.
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, "CSG0209: this child cannot follow the policy (%s); it exits",
                     err.what());
        exit(APEXIT_CHILDSICK);
    }
}

void register_hooks(apr_pool_t* p) {
    ap_hook_pre_config(pre_config, nullptr, nullptr, APR_HOOK_MIDDLE);
    ap_hook_check_config(cscguard::glue::check_config, nullptr, nullptr, APR_HOOK_MIDDLE);
    ap_hook_post_config(cscguard::glue::post_config, nullptr, nullptr, APR_HOOK_MIDDLE);
    ap_hook_child_init(child_init, nullptr, nullptr, APR_HOOK_MIDDLE);
    ap_hook_monitor(cscguard::glue::follow_in_parent, nullptr, nullptr, APR_HOOK_MIDDLE);
    ap_hook_optional_fn_retrieve(cscguard::glue::retrieve_ssl_functions, nullptr, nullptr, APR_HOOK_MIDDLE);
    cscguard::glue::register_providers(p);
    cscguard::glue::register_status_handler();
}

}  // namespace

extern "C" {
__attribute__((visibility("default"))) module AP_MODULE_DECLARE_DATA cscguard_module = {
    STANDARD20_MODULE_STUFF,
    cscguard::glue::create_dir_conf,
    cscguard::glue::merge_dir_conf,
    nullptr,  // server config: declarations live in the per-pconf registry
    nullptr,
    cscguard::glue::directives,
    register_hooks,
    AP_MODULE_FLAG_NONE,
};
}
