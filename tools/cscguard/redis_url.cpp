#include "tools/cscguard/redis_url.h"

#include <arpa/inet.h>

#include "tools/cscguard/tool_error.h"
#include "tools/cscguard/x509_builder.h"

namespace cscguard::tool {
namespace {

constexpr std::string_view kScheme = "redis://";
constexpr std::string_view kShape = "want redis://HOST[:PORT] (port 6379 by default; an IPv6 address in brackets)";

std::string port_problem(std::string_view text, int& port) {
    if (text.empty()) return "an empty port after ':'";
    if (text.size() > 5) return "port " + std::string(text) + " is not 1 to 65535";
    int n = 0;
    for (char c : text) {
        if (c < '0' || c > '9') return "port " + std::string(text) + " is not a number";
        n = n * 10 + (c - '0');
    }
    if (n < 1 || n > 65535) return "port " + std::string(text) + " is not 1 to 65535";
    port = n;
    return "";
}

std::string host_problem(const std::string& host) {
    if (host.empty()) return "no host";
    unsigned char v4[4];
    if (inet_pton(AF_INET, host.c_str(), v4) == 1) return "";
    if (host.find('*') != std::string::npos) return "a wildcard is no host";
    if (const std::string why = dns_name_problem(host); !why.empty()) return "host '" + host + "' is not a DNS name: " + why;
    return "";
}

}  // namespace

std::string parse_redis_url(std::string_view text, RedisUrl& out) {
    for (char c : text) {
        if (c <= ' ' || c >= 0x7f) return "spaces, control and non-ASCII characters are no part of a Redis URL";
    }
    if (text.rfind(kScheme, 0) != 0) {
        if (text.rfind("rediss://", 0) == 0) {
            return "TLS (rediss://) is not supported: mod_cscguard, which reads the cache, speaks plain Redis; " +
                   std::string(kShape);
        }
        const std::size_t colon = text.find("://");
        if (colon != std::string_view::npos) return "scheme '" + std::string(text.substr(0, colon)) + "': " + std::string(kShape);
        return std::string(kShape);
    }
    std::string_view rest = text.substr(kScheme.size());
    if (rest.find('@') != std::string_view::npos) {
        return "no user or password: mod_cscguard does not send them, so the module could not read such a cache; " +
               std::string(kShape);
    }
    if (rest.find_first_of("/?#") != std::string_view::npos) {
        return "no path, query or fragment (mod_cscguard reads database 0); " + std::string(kShape);
    }
    RedisUrl url;
    url.text = std::string(text);
    std::string_view port;
    if (!rest.empty() && rest.front() == '[') {
        const std::size_t close = rest.find(']');
        if (close == std::string_view::npos) return "an IPv6 address without its closing ']'";
        url.host = std::string(rest.substr(1, close - 1));
        unsigned char v6[16];
        if (inet_pton(AF_INET6, url.host.c_str(), v6) != 1) return "'" + url.host + "' in brackets is not an IPv6 address";
        const std::string_view after = rest.substr(close + 1);
        if (!after.empty() && after.front() != ':') return "text after the IPv6 address: " + std::string(kShape);
        if (!after.empty()) {
            port = after.substr(1);
            if (port.empty()) return "an empty port after ':'";
        }
    } else {
        const std::size_t colon = rest.find(':');
        if (colon != std::string_view::npos && rest.find(':', colon + 1) != std::string_view::npos) {
            return "an IPv6 address goes in brackets: redis://[::1]:6379";
        }
        url.host = std::string(rest.substr(0, colon));
        if (const std::string why = host_problem(url.host); !why.empty()) return why;
        if (colon != std::string_view::npos) {
            port = rest.substr(colon + 1);
            if (port.empty()) return "an empty port after ':'";
        }
    }
    if (!port.empty()) {
        if (const std::string why = port_problem(port, url.port); !why.empty()) return why;
    }
    out = std::move(url);
    return "";
}

RedisUrl redis_url(const std::string& text, const std::string& what) {
    RedisUrl url;
    if (const std::string why = parse_redis_url(text, url); !why.empty()) {
        throw ToolError(kUsage, what + " '" + printable(text) + "': " + why);
    }
    return url;
}

}  // namespace cscguard::tool
