#include "tools/cscguard/redis_client.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <sys/time.h>

#include <hiredis/hiredis.h>

#include "tools/cscguard/tool_error.h"

namespace cscguard::tool {
namespace {

// Bounds what one chunk of pipelined commands holds in memory on both sides.
constexpr std::size_t kChunk = 512;

struct ReplyFree {
    void operator()(redisReply* r) const noexcept { freeReplyObject(r); }
};
using ReplyPtr = std::unique_ptr<redisReply, ReplyFree>;

constexpr timeval kTimeout{kRedisTimeoutSeconds, 0};

// An error answer is the server's text: shown, but kept short and printable.
std::string answer_text(const redisReply& reply) {
    std::string text(reply.str ? reply.str : "", reply.str ? reply.len : 0);
    if (text.size() > 200) text = text.substr(0, 200) + "...";
    return printable(text);
}

}  // namespace

void RedisClient::ContextFree::operator()(redisContext* c) const noexcept { redisFree(c); }

RedisClient::SigpipeIgnored::SigpipeIgnored() {
    struct sigaction ignore {};
    ignore.sa_handler = SIG_IGN;
    sigemptyset(&ignore.sa_mask);
    if (sigaction(SIGPIPE, &ignore, &old_) != 0) throw RedisError(std::string("cannot ignore SIGPIPE: ") + std::strerror(errno));
}

RedisClient::SigpipeIgnored::~SigpipeIgnored() { sigaction(SIGPIPE, &old_, nullptr); }

RedisClient::RedisClient(const RedisUrl& url) : ctx_(redisConnectWithTimeout(url.host.c_str(), url.port, kTimeout)) {
    if (!ctx_) throw RedisError("cannot allocate a Redis connection");
    if (ctx_->err) {
        const int saved = errno;
        fail(saved, "cannot connect");
    }
    if (redisSetTimeout(ctx_.get(), kTimeout) != REDIS_OK) {
        const int saved = errno;
        fail(saved, "cannot set a timeout");
    }
}

RedisClient::~RedisClient() = default;

void RedisClient::fail(int saved, const std::string& doing) const {
    std::string why = ctx_->errstr[0] ? ctx_->errstr : "unknown error";
    if (ctx_->err == REDIS_ERR_IO && (saved == EAGAIN || saved == EWOULDBLOCK)) {
        why = "no answer within " + std::to_string(kRedisTimeoutSeconds) + " s";  // SO_RCVTIMEO ran out
    } else if (ctx_->err == REDIS_ERR_IO && saved == ETIMEDOUT) {
        why += " (within " + std::to_string(kRedisTimeoutSeconds) + " s)";
    }
    throw RedisError(doing + ": " + why);
}

std::vector<long long> RedisClient::pipeline(const std::vector<Command>& commands, int want_type) {
    std::vector<long long> results;
    results.reserve(commands.size());
    for (std::size_t begin = 0; begin < commands.size(); begin += kChunk) {
        const std::size_t end = std::min(commands.size(), begin + kChunk);
        for (std::size_t i = begin; i < end; ++i) {
            std::vector<const char*> argv;
            std::vector<std::size_t> lengths;
            for (const std::string& word : commands[i]) {
                argv.push_back(word.data());
                lengths.push_back(word.size());
            }
            if (redisAppendCommandArgv(ctx_.get(), static_cast<int>(argv.size()), argv.data(), lengths.data()) != REDIS_OK) {
                const int saved = errno;
                fail(saved, commands[i][0] + " failed");
            }
        }
        for (std::size_t i = begin; i < end; ++i) {
            void* raw = nullptr;
            if (redisGetReply(ctx_.get(), &raw) != REDIS_OK) {
                const int saved = errno;  // before anything else can change it
                fail(saved, commands[i][0] + " failed");
            }
            const ReplyPtr reply(static_cast<redisReply*>(raw));
            if (!reply) fail(0, commands[i][0] + " failed");
            if (reply->type == REDIS_REPLY_ERROR) throw RedisError(commands[i][0] + " was refused: " + answer_text(*reply));
            if (reply->type != want_type ||
                (want_type == REDIS_REPLY_STATUS && answer_text(*reply) != "OK")) {
                throw RedisError(commands[i][0] + " got an answer that is not Redis's (type " + std::to_string(reply->type) + ")");
            }
            results.push_back(reply->integer);
        }
    }
    return results;
}

bool RedisClient::exists(const std::string& key) { return pipeline({{"EXISTS", key}}, REDIS_REPLY_INTEGER).at(0) > 0; }

void RedisClient::set(const std::vector<RedisSet>& entries) {
    std::vector<Command> commands;
    commands.reserve(entries.size());
    for (const RedisSet& e : entries) {
        // A plain SET also drops a TTL the key had: the marker never expires.
        if (e.ttl_seconds > 0) commands.push_back({"SET", e.key, e.value, "EX", std::to_string(e.ttl_seconds)});
        else commands.push_back({"SET", e.key, e.value});
    }
    pipeline(commands, REDIS_REPLY_STATUS);
}

long long RedisClient::del(const std::vector<std::string>& keys) {
    std::vector<Command> commands;
    commands.reserve(keys.size());
    for (const std::string& key : keys) commands.push_back({"DEL", key});
    long long removed = 0;
    for (long long n : pipeline(commands, REDIS_REPLY_INTEGER)) removed += n;
    return removed;
}

}  // namespace cscguard::tool
