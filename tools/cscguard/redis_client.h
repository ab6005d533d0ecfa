// The connection a push writes the fleet's revocation cache through:
// hiredis (Debian's libhiredis), blocking, with a bounded connect and a
// bounded wait for every answer, so a stalled Redis costs a `revoke --push`
// seconds, never a hang.
#pragma once

#include <csignal>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "tools/cscguard/redis_url.h"

struct redisContext;

namespace cscguard::tool {

// For the connect, and for each answer.
inline constexpr int kRedisTimeoutSeconds = 2;

// What went wrong, in Redis's or the system's words; the caller names the
// URL and says what it means for the revocation.
class RedisError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

struct RedisSet {
    std::string key;
    std::string value;
    long long ttl_seconds = 0;  // 0: no expiry
};

class RedisClient {
public:
    // Connects; RedisError when Redis cannot be reached in time.
    explicit RedisClient(const RedisUrl& url);
    ~RedisClient();
    RedisClient(const RedisClient&) = delete;
    RedisClient& operator=(const RedisClient&) = delete;

    bool exists(const std::string& key);
    // Every SET is sent before the answers are read (a round trip per chunk,
    // not per entry); every answer must be OK.
    void set(const std::vector<RedisSet>& entries);
    // How many of `keys` were there.
    long long del(const std::vector<std::string>& keys);

private:
    struct ContextFree {
        void operator()(redisContext* c) const noexcept;
    };
    using Command = std::vector<std::string>;
    // The integer or status answers of `commands`, in order.
    std::vector<long long> pipeline(const std::vector<Command>& commands, int want_type);
    // RedisError for what hiredis reports; `saved` is errno as the failing call left it.
    [[noreturn]] void fail(int saved, const std::string& doing) const;

    // hiredis write()s to the socket: a server that goes away mid-push would
    // raise SIGPIPE and kill cscguard before the error could be reported.
    // Ignored while the connection lives (declared first: restored last).
    class SigpipeIgnored {
    public:
        SigpipeIgnored();
        ~SigpipeIgnored();
        SigpipeIgnored(const SigpipeIgnored&) = delete;
        SigpipeIgnored& operator=(const SigpipeIgnored&) = delete;

    private:
        struct sigaction old_ {};
    };
    SigpipeIgnored sigpipe_;
    std::unique_ptr<redisContext, ContextFree> ctx_;
};

}  // namespace cscguard::tool
