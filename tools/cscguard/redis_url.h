// Where revocations are pushed for the fleet's cache: redis://HOST[:PORT],
// HOST a DNS name, an IPv4 address or an IPv6 address in brackets. Nothing
// else: mod_cscguard, which reads the cache, speaks plain Redis to
// database 0 without a password, so a TLS scheme, credentials or a database
// path would name a cache the module never reads.
#pragma once

#include <string>
#include <string_view>

namespace cscguard::tool {

inline constexpr int kDefaultRedisPort = 6379;

struct RedisUrl {
    std::string text;  // as given; what messages name
    std::string host;  // an IPv6 address without its brackets
    int port = kDefaultRedisPort;
};

// Reads `text` into `out`; "" when it is a push target, else why not.
std::string parse_redis_url(std::string_view text, RedisUrl& out);
// The same, or ToolError(kUsage) naming `what` ("--push", "cscguard push URL").
RedisUrl redis_url(const std::string& text, const std::string& what);

}  // namespace cscguard::tool
