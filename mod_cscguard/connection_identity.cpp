// The client certificate belongs to the connection: decode it once and keep
// the result on the connection, so keep-alive requests pay nothing more.
// The cache key is the certificate text itself: a renegotiated certificate
// is decoded again. (Reloads change allowlists and CRLs, never the issuers an
// identity depends on.)
#include <optional>
#include <string>

#include "module.h"

#include "error.h"

APLOG_USE_MODULE(cscguard);

namespace cscguard::glue {
namespace {

struct ConnectionCache {
    std::string pem;
    std::optional<Identity> identity;
};

}  // namespace

const Identity& connection_identity(request_rec* r, const Policy& policy, const char* pem) {
    conn_rec* c = r->connection;
    auto* cache = static_cast<ConnectionCache*>(ap_get_module_config(c->conn_config, &cscguard_module));
    if (!cache) {
        cache = pool_owned(c->pool, new ConnectionCache());
        ap_set_module_config(c->conn_config, &cscguard_module, cache);
    }
    if (!cache->identity || cache->pem != pem) {
        cache->identity.reset();
        cache->identity.emplace(policy.identify(pem));  // throws before the cache is filled
        cache->pem = pem;
    }
    return *cache->identity;
}

}  // namespace cscguard::glue
