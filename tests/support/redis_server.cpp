#include "tests/support/redis_server.h"

#include <chrono>
#include <csignal>
#include <fcntl.h>
#include <stdexcept>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

#include "tests/support/free_port.h"
#include "tests/support/run_command.h"

namespace cscguard::testing {

RedisServer::RedisServer() : port_(free_port()) {}

RedisServer::~RedisServer() { stop(); }

void RedisServer::start() {
    stop();
    const std::string port = std::to_string(port_);
    pid_ = fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
        // Its chatter stays out of the test's output.
        const int null = open("/dev/null", O_WRONLY);
        if (null >= 0) {
            dup2(null, STDOUT_FILENO);
            dup2(null, STDERR_FILENO);
        }
        // Loopback only, nothing written to disk: every start is an empty cache.
        execlp("redis-server", "redis-server", "--port", port.c_str(), "--bind", "127.0.0.1", "--save", "",
               "--appendonly", "no", "--daemonize", "no", "--protected-mode", "yes", "--loglevel", "warning",
               static_cast<char*>(nullptr));
        _exit(127);
    }
    for (int i = 0; i < 200; ++i) {
        if (cli("PING") == "PONG") return;
        int status = 0;
        if (waitpid(pid_, &status, WNOHANG) == pid_) {
            pid_ = -1;
            throw std::runtime_error("redis-server exited at start (is the redis-server package installed?)");
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    throw std::runtime_error("redis-server on port " + port + " did not answer PING within 5 s");
}

void RedisServer::stop() {
    if (pid_ <= 0) return;
    if (frozen_) thaw();
    kill(pid_, SIGTERM);
    int status = 0;
    for (int i = 0; i < 200 && waitpid(pid_, &status, WNOHANG) == 0; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    if (waitpid(pid_, &status, WNOHANG) == 0) {
        kill(pid_, SIGKILL);
        waitpid(pid_, &status, 0);
    }
    pid_ = -1;
}

void RedisServer::freeze() {
    if (pid_ > 0) kill(pid_, SIGSTOP);
    frozen_ = true;
}

void RedisServer::thaw() {
    if (pid_ > 0) kill(pid_, SIGCONT);
    frozen_ = false;
}

std::string RedisServer::cli(const std::string& args) const {
    std::string out = run_command("redis-cli -p " + std::to_string(port_) + " --raw " + args).output;
    while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
    return out;
}

}  // namespace cscguard::testing
