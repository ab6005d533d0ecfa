// Re-reads changed policy files off the request path: one thread per child
// process wakes every CSCGuardReloadInterval seconds, asks the PolicyStore
// to refresh, and stops when the child exits. Works the same under event,
// worker and prefork: each child watches for itself.
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "module.h"

APLOG_USE_MODULE(cscguard);

namespace cscguard::glue {
namespace {

class Reloader {
public:
    Reloader(PolicyStore& store, int interval, server_rec* s)
        : store_(store), interval_(interval), server_(s) {
        // A child forked now inherits the parent's snapshot from start-up, which
        // may be hours old: catch up before this child serves its first request.
        refresh();
        thread_ = std::thread([this] { run(); });
    }

    ~Reloader() {
        {
            std::lock_guard<std::mutex> lock(mutex_);
            stopping_ = true;
        }
        wake_.notify_all();
        thread_.join();
    }

private:
    void run() {
        std::unique_lock<std::mutex> lock(mutex_);
        while (!wake_.wait_for(lock, std::chrono::seconds(interval_), [this] { return stopping_; })) {
            lock.unlock();
            refresh();
            lock.lock();
        }
    }

    void refresh() {
        try {
            store_.refresh([this](LogLevel level, const std::string& text) { log(level, text); });
        } catch (const std::exception& err) {  // e.g. out of memory: keep the old policy, try again later
            log(LogLevel::Error, std::string("reload failed: ") + err.what());
        }
    }

    void log(LogLevel level, const std::string& text) const {
        switch (level) {
            case LogLevel::Error: ap_log_error(APLOG_MARK, APLOG_ERR, 0, server_, "CSG0201: %s", text.c_str()); break;
            case LogLevel::Warning: ap_log_error(APLOG_MARK, APLOG_WARNING, 0, server_, "CSG0201: %s", text.c_str()); break;
            case LogLevel::Info: ap_log_error(APLOG_MARK, APLOG_INFO, 0, server_, "CSG0202: %s", text.c_str()); break;
        }
    }

    PolicyStore& store_;
    const int interval_;
    server_rec* const server_;
    std::mutex mutex_;
    std::condition_variable wake_;
    bool stopping_ = false;
    std::thread thread_;
};

}  // namespace

void start_reloader(apr_pool_t* pchild, server_rec* s) {
    Registry& reg = registry();
    if (!reg.store || reg.reload_interval <= 0 || !reg.store->watches_files()) return;
    pool_owned(pchild, new Reloader(*reg.store, reg.reload_interval, s));
}

}  // namespace cscguard::glue
