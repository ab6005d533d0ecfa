// A real redis-server (Debian's) for the fleet tests: on 127.0.0.1, on a
// free port, without persistence, stopped when the object goes - also when
// the test fails.
#pragma once

#include <string>
#include <sys/types.h>

namespace cscguard::testing {

class RedisServer {
public:
    RedisServer();  // picks a port; start() starts it
    ~RedisServer();
    RedisServer(const RedisServer&) = delete;
    RedisServer& operator=(const RedisServer&) = delete;

    // Starts it (again, on the same port, empty) and waits until it answers
    // PING. Throws std::runtime_error when it does not come up.
    void start();
    // Stops it (SIGTERM, then waits); nothing when it is not running.
    void stop();
    // SIGSTOP / SIGCONT: a server that accepts but never answers.
    void freeze();
    void thaw();

    int port() const { return port_; }
    std::string url() const { return "redis://127.0.0.1:" + std::to_string(port_); }
    // `redis-cli -p PORT --raw ARGS` (ARGS as shell words); what it printed, trimmed.
    std::string cli(const std::string& args) const;

private:
    int port_;
    pid_t pid_ = -1;
    bool frozen_ = false;
};

}  // namespace cscguard::testing
