// Re-reads changed policy files off the request path: one thread per child
// process wakes every CSCGuardReloadInterval seconds, asks the PolicyStore
// to refresh, and stops when the child exits. Works the same under event,
// worker and prefork: each child watches for itself.
//
// A child must be able to exit whatever the thread is doing (a read that
// never returns on a dead network file system): stopping waits a bounded
// time, then leaves the thread behind, so the state it uses is shared with
// it and outlives the Reloader.
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>

#include "module.h"

APLOG_USE_MODULE(cscguard);

namespace cscguard::glue {
namespace {

constexpr auto kStopTimeout = std::chrono::seconds(5);

void log(server_rec* s, LogLevel level, const std::string& text) {
    switch (level) {
        case LogLevel::Error: ap_log_error(APLOG_MARK, APLOG_ERR, 0, s, "CSG0201: %s", text.c_str()); break;
        case LogLevel::Warning: ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, "CSG0201: %s", text.c_str()); break;
        case LogLevel::Info: ap_log_error(APLOG_MARK, APLOG_INFO, 0, s, "CSG0202: %s", text.c_str()); break;
    }
}

void refresh(PolicyStore& store, server_rec* s) {
    try {
        store.refresh([s](LogLevel level, const std::string& text) { log(s, level, text); });
    } catch (const std::exception& err) {  // e.g. out of memory: keep the old policy, try again later
        log(s, LogLevel::Error, std::string("reload failed: ") + err.what());
    }
}

// What the thread and the Reloader share. The store and server live in the
// configuration pool, which a child never destroys before it exits.
struct Shared {
    PolicyStore& store;
    const int interval;
    server_rec* const server;
    std::mutex mutex;
    std::condition_variable wake;
    bool stopping = false;
    bool finished = false;
};

void run(const std::shared_ptr<Shared>& shared) {
    std::unique_lock<std::mutex> lock(shared->mutex);
    while (!shared->wake.wait_for(lock, std::chrono::seconds(shared->interval), [&] { return shared->stopping; })) {
        lock.unlock();
        refresh(shared->store, shared->server);
        lock.lock();
    }
    shared->finished = true;
    shared->wake.notify_all();
}

class Reloader {
public:
    Reloader(PolicyStore& store, int interval, server_rec* s)
        : shared_(std::make_shared<Shared>(store, interval, s)) {
        // A child forked now inherits the parent's snapshot from start-up, which
        // may be hours old: catch up before this child serves its first request.
        refresh(store, s);
        thread_ = std::thread([shared = shared_] { run(shared); });
    }

    ~Reloader() {
        std::unique_lock<std::mutex> lock(shared_->mutex);
        shared_->stopping = true;
        shared_->wake.notify_all();
        const bool stopped = shared_->wake.wait_for(lock, kStopTimeout, [this] { return shared_->finished; });
        lock.unlock();
        if (stopped) {
            thread_.join();
            return;
        }
        ap_log_error(APLOG_MARK, APLOG_ERR, 0, shared_->server,
                     "CSG0205: the reload thread did not stop within %lld s (stuck reading a policy file?); "
                     "this child exits without waiting for it",
                     static_cast<long long>(kStopTimeout.count()));
        thread_.detach();
    }

private:
    std::shared_ptr<Shared> shared_;
    std::thread thread_;
};

}  // namespace

void start_reloader(apr_pool_t* pchild, server_rec* s) {
    Registry& reg = registry();
    if (!reg.store || reg.reload_interval <= 0 || !reg.store->watches_files()) return;
    pool_owned(pchild, new Reloader(*reg.store, reg.reload_interval, s));
}

}  // namespace cscguard::glue
