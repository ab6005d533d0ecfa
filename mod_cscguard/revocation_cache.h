// CSCGuardRevocationCache: revocations shared by a fleet of httpd nodes in an
// httpd socache provider (mod_socache_redis), written by `cscguard revoke
// --push` and read here. The CRL stays the durable source; the cache only
// adds revocations, never takes one away, and never grants.
//
// Every socache call is made by one thread per child process (CacheClient),
// so a request waits for an answer at most CSCGuardRevocationCacheTimeout:
// apr_redis waits up to RedisTimeout (5 s) for a stalled server, and a
// worker must never hang that long. A connection asks again at most once per
// CSCGuardRevocationCacheTTL, so a revocation reaches kept-alive connections
// too, while a busy connection costs one lookup a second.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "ap_socache.h"
#include "httpd.h"
#include "http_config.h"

#include "policy/cache_entry.h"
#include "policy/policy.h"
#include "policy/rules.h"

namespace cscguard::glue {

class CacheClient;

// What the directives configure (one per server: the registry holds it).
struct RevocationCacheConfig {
    std::string spec;  // "redis:127.0.0.1:6379", as written, for the log
    const ap_socache_provider_t* provider = nullptr;
    ap_socache_instance_t* instance = nullptr;
    apr_interval_time_t timeout = apr_time_from_msec(100);
    apr_interval_time_t ttl = apr_time_from_sec(1);
    bool fail_closed = false;
    std::vector<Bytes> issuer_keys;  // by Identity::issuer_index (set by post_config)
    bool initialised = false;        // the provider's init ran (its destroy must run too)
    CacheClient* client = nullptr;   // this child's (child_init); owned by pchild
};

const char* set_revocation_cache(cmd_parms* cmd, void*, const char* spec);
const char* set_revocation_cache_ttl(cmd_parms* cmd, void*, const char* text);
const char* set_revocation_cache_timeout(cmd_parms* cmd, void*, const char* text);
const char* set_revocation_cache_failure(cmd_parms* cmd, void*, const char* mode);

// post_config: initialises the provider (as mod_ssl does for its session
// cache) and notes each declared issuer's key id. Logs and returns false
// when the provider cannot start.
bool init_revocation_cache(apr_pool_t* pconf, server_rec* s, const Policy& policy);

// child_init: starts this child's lookup thread.
void start_revocation_cache_client(apr_pool_t* pchild, server_rec* s);

// What the cache says of the request's certificate: from the connection
// when it asked less than the TTL ago, else from the cache.
CacheAnswer ask_revocation_cache(request_rec* r, const Identity& identity);

}  // namespace cscguard::glue
