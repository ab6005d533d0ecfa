// The client certificate belongs to the connection: keep its decoded identity
// on the connection beside the PEM text (mod_ssl's SSL_CLIENT_CERT) it was
// decoded from, so a keep-alive request pays one comparison of that text. New
// connections (a client reconnecting) and HTTP/2 streams - mod_http2 gives
// every stream a connection of its own, on another thread - find it in the
// process's IdentityCache, keyed by the same PEM text, instead of decoding it
// again. A renegotiated certificate has other text, so it is looked up anew.
#include <memory>
#include <string>

#include "mod_cscguard/module.h"

#include "policy/error.h"

APLOG_USE_MODULE(cscguard);

namespace cscguard::glue {

ConnectionState& connection_state(conn_rec* c) {
    auto* state = static_cast<ConnectionState*>(ap_get_module_config(c->conn_config, &cscguard_module));
    if (!state) {
        state = pool_owned(c->pool, new ConnectionState());
        ap_set_module_config(c->conn_config, &cscguard_module, state);
    }
    return *state;
}

const Identity& request_identity(request_rec* r, const Policy& policy, const char* pem) {
    ConnectionState* cache = &connection_state(r->connection);
    if (!cache->identity || cache->pem != pem) {
        cache->identity.reset();
        Registry& reg = registry();
        bool decoded = false;
        std::shared_ptr<const Identity> identity = reg.identities.get(pem, policy, &decoded);  // throws before caching
        if (decoded && APLOG_R_IS_LEVEL(r, APLOG_DEBUG)) {
            ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r,
                          "CSG0006: decoded the client certificate %s:%s (%s); this process now caches %s",
                          identity->issuer_name.c_str(), identity->cert.serial().canonical().c_str(),
                          identity->cert.subject_dn().c_str(),
                          std::to_string(reg.identities.size()).c_str());  // APR's formatter has no %zu
        }
        cache->pem = pem;
        cache->identity = std::move(identity);
        // Another certificate (a renegotiation): the cache's answer was not about it.
        cache->revocation = {};
        cache->revocation_for = nullptr;
    }
    return *cache->identity;
}

}  // namespace cscguard::glue
