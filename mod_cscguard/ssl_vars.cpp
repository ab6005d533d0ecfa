// What mod_ssl says about the connection, on every httpd 2.4 we support.
//
// httpd 2.4.47 added ap_ssl_conn_is_ssl() and ap_ssl_var_lookup() (any TLS
// module may answer them). Before it - RHEL 8 ships 2.4.37 - the same
// answers come from mod_ssl's optional functions ssl_is_https and
// ssl_var_lookup, which exist only when mod_ssl is loaded. Built against
// older headers, or with -DCSCGUARD_SSL_OPTIONAL_FN=ON (to test this path on
// new headers), the module uses those. Without mod_ssl there is no TLS, so
// every cscguard rule denies (fail closed).
#include "ap_mmn.h"
#include "mod_cscguard/module.h"

#if AP_MODULE_MAGIC_AT_LEAST(20120211, 102) && !defined(CSCGUARD_USE_SSL_OPTIONAL_FN)
#include "http_ssl.h"
#define CSCGUARD_AP_SSL 1
#else
#include "apr_optional.h"
#include "mod_ssl.h"
#define CSCGUARD_AP_SSL 0
#endif

namespace cscguard::glue {

#if CSCGUARD_AP_SSL

void retrieve_ssl_functions() {}

const char* ssl_interface() { return "ap_ssl_var_lookup (httpd 2.4.47+)"; }

bool connection_is_tls(conn_rec* c) { return ap_ssl_conn_is_ssl(c) != 0; }

const char* ssl_variable(request_rec* r, const char* name) {
    return ap_ssl_var_lookup(r->pool, r->server, r->connection, r, name);
}

#else

namespace {
APR_OPTIONAL_FN_TYPE(ssl_is_https)* is_https = nullptr;
APR_OPTIONAL_FN_TYPE(ssl_var_lookup)* var_lookup = nullptr;
}  // namespace

// The optional_fn_retrieve hook: after every module registered its functions.
void retrieve_ssl_functions() {
    is_https = APR_RETRIEVE_OPTIONAL_FN(ssl_is_https);
    var_lookup = APR_RETRIEVE_OPTIONAL_FN(ssl_var_lookup);
}

const char* ssl_interface() { return "mod_ssl's optional functions ssl_is_https and ssl_var_lookup"; }

bool connection_is_tls(conn_rec* c) { return is_https && var_lookup && is_https(c) != 0; }

const char* ssl_variable(request_rec* r, const char* name) {
    if (!var_lookup) return nullptr;
    // mod_ssl's declaration takes a char*; it does not write to it.
    return var_lookup(r->pool, r->server, r->connection, r, const_cast<char*>(name));
}

#endif

}  // namespace cscguard::glue
