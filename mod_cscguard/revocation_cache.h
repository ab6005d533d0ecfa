// CSCGuardRevocationCache: revocations shared by a fleet of httpd nodes in
// Redis, written by `cscguard revoke --push` and read here with hiredis. The
// CRL stays the durable source; the cache only adds revocations, never takes
// one away, and never grants.
//
// Why hiredis and not httpd's socache (mod_socache_redis): measured against
// httpd 2.4 and apr-util 1.6, that provider hands apr_redis its RedisTimeout
// in microseconds where seconds are expected (a stalled Redis holds the
// caller for days, not 5 s), reports a server it gave up on as "not found",
// shards keys over a comma list of servers, and logs at error level on every
// failed lookup. Here every timeout is ours.
//
// Every Redis call is made by one thread per child process (CacheClient),
// so a request waits for an answer at most CSCGuardRevocationCacheTimeout. A
// connection asks again at most once per CSCGuardRevocationCacheTTL, so a
// revocation reaches kept-alive connections too, while a busy connection
// costs one lookup a second.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <chrono>

#include "httpd.h"
#include "http_config.h"

#include "policy/cache_entry.h"
#include "policy/policy.h"
#include "policy/rules.h"

namespace cscguard::glue {

class CacheClient;

// What the directives configure (one per server: the registry holds it).
struct RevocationCacheConfig {
    std::string spec;  // "redis:127.0.0.1:6379", as written, for the log ("" when unset)
    std::string host;  // an IPv6 address without its brackets
    int port = 6379;
    apr_interval_time_t timeout = apr_time_from_msec(100);
    apr_interval_time_t ttl = apr_time_from_sec(1);
    bool fail_closed = false;
    std::vector<Bytes> issuer_keys;  // by Identity::issuer_index (check_config)
    CacheClient* client = nullptr;   // this child's (child_init); owned by pchild
};

const char* set_revocation_cache(cmd_parms* cmd, void*, const char* spec);
const char* set_revocation_cache_ttl(cmd_parms* cmd, void*, const char* text);
const char* set_revocation_cache_timeout(cmd_parms* cmd, void*, const char* text);
const char* set_revocation_cache_failure(cmd_parms* cmd, void*, const char* mode);

// check_config: notes each declared issuer's key id. Logs and returns false
// (configtest fails) when one cannot name an entry.
bool check_revocation_cache(server_rec* s, const Policy& policy);

// child_init: starts this child's lookup thread.
void start_revocation_cache_client(apr_pool_t* pchild, server_rec* s);

// What the cache says of the request's certificate: from the connection
// when it asked less than the TTL ago, else from the cache.
CacheAnswer ask_revocation_cache(request_rec* r, const Identity& identity);

}  // namespace cscguard::glue
