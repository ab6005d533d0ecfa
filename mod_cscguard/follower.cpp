// Children take the policy from the watcher's snapshots; they never read or
// parse a policy file themselves, so no child holds a version the others have
// moved past, and a change costs each child only a mapping and a checksum.
// One thread per child reads the snapshot's generation ten times a second
// (24 bytes) and maps a newer snapshot of this configuration whole. The old
// mapping goes when the last request using it ends. A child forked at any
// time takes the newest snapshot before its first request. Works the same
// under event, worker and prefork.
//
// A child must be able to exit whatever the thread is doing: stopping waits
// a bounded time, then leaves the thread behind, so the state it uses is
// shared with it and outlives the Follower.
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>

#include "mod_cscguard/module.h"

#include "policy/error.h"

APLOG_USE_MODULE(cscguard);

namespace cscguard::glue {
namespace {

constexpr auto kPollEvery = std::chrono::milliseconds(100);  // a 24-byte read: ten a second cost nothing
constexpr auto kStopTimeout = std::chrono::seconds(5);

}  // namespace

SnapshotTaker::SnapshotTaker(Registry& reg, server_rec* s) : reg_(reg), server_(s) {}

void SnapshotTaker::complain(const std::string& text) {
    if (text == last_error_) return;
    last_error_ = text;
    ap_log_error(APLOG_MARK, APLOG_ERR, 0, server_, "CSG0201: %s; the policy in force stays", text.c_str());
}

void SnapshotTaker::take_newer() {
    const SnapshotHead head = peek_snapshot(reg_.state_dir, reg_.state_owner);
    if (!head.generation) {
        // Only the watcher and the parent write there: anything but a snapshot is news.
        if (!head.missing) complain(head.error);
        return;
    }
    if (*head.generation <= reg_.generation) return;
    // A snapshot refused once is not mapped and hashed again ten times a
    // second: only once it changes (another file, owner or mode).
    if (refused_ && *refused_ == head.stamp) return;
    std::string why;
    std::optional<Snapshot> snapshot = read_snapshot(reg_.state_dir, reg_.state_owner, reg_.store->issuer_names(), &why);
    if (!snapshot) {
        refused_ = head.stamp;
        complain(why);
        // The last snapshot the watcher published, if this process is behind
        // it (forked from the parent, whose policy may be older than what the
        // other children took before the newest was damaged).
        std::optional<Snapshot> good = read_snapshot(reg_.state_dir, reg_.state_owner, reg_.store->issuer_names(),
                                                     nullptr, /*last_good=*/true);
        if (good && good->configuration == reg_.configuration && good->generation > reg_.generation) {
            adopt(*good, "the last good policy snapshot");
        }
        return;
    }
    if (snapshot->configuration != reg_.configuration || snapshot->generation <= reg_.generation) {
        refused_ = head.stamp;  // another configuration's (a restart changed it): its own children take it
        return;
    }
    last_error_.clear();
    refused_.reset();
    adopt(*snapshot, "policy snapshot");
}

void SnapshotTaker::adopt(const Snapshot& snapshot, const char* which) {
    reg_.store->adopt(snapshot);
    reg_.generation = snapshot.generation;
    ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, server_, "CSG0208: took %s %s", which,
                 std::to_string(snapshot.generation).c_str());  // APR's formatter has no %llu
}

namespace {

// What the thread and the Follower share. The registry (its store) and the
// server live in the configuration pool, which a child does not destroy
// before it exits. (httpd -X serves in its one process and does destroy it at
// exit: a thread left behind there could outlive them.)
struct Shared {
    Shared(Registry& reg, server_rec* s) : taker(reg, s), server(s) {}
    SnapshotTaker taker;
    server_rec* const server;
    std::mutex mutex;
    std::condition_variable wake;
    bool stopping = false;
    bool finished = false;
};

// Nothing may escape the thread (std::terminate would end the child).
void take_newer_snapshot_safely(Shared& shared) {
    try {
        shared.taker.take_newer();
    } catch (const std::exception& err) {
        ap_log_error(APLOG_MARK, APLOG_ERR, 0, shared.server, "CSG0201: cannot take the newest policy snapshot: %s",
                     err.what());
    }
}

void run(const std::shared_ptr<Shared>& shared) {
    std::unique_lock<std::mutex> lock(shared->mutex);
    while (!shared->wake.wait_for(lock, kPollEvery, [&] { return shared->stopping; })) {
        lock.unlock();
        take_newer_snapshot_safely(*shared);
        lock.lock();
    }
    shared->finished = true;
    shared->wake.notify_all();
}

class Follower {
public:
    Follower(Registry& reg, server_rec* s) : shared_(std::make_shared<Shared>(reg, s)) {
        // A child forked now holds the parent's policy from start-up, which may
        // be hours old: it takes the newest snapshot before its first request.
        // Without a snapshot to take (removed: the watcher puts it back within
        // CSCGuardReloadInterval; unreadable: logged) the start-up policy
        // serves until there is one. An exception (out of memory) reaches
        // child_init, which ends the child.
        shared_->taker.take_newer();
        thread_ = std::thread([shared = shared_] { run(shared); });
    }

    ~Follower() {
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
                     "CSG0205: the policy thread did not stop within %s s; this child exits without waiting for it",
                     std::to_string(kStopTimeout.count()).c_str());
        thread_.detach();
    }

private:
    std::shared_ptr<Shared> shared_;
    std::thread thread_;
};

}  // namespace

bool follows_snapshots(const Registry& reg) {
    return reg.store && !reg.state_dir.empty() && reg.reload_interval > 0 && reg.store->watches_files();
}

void start_follower(apr_pool_t* pchild, server_rec* s) {
    Registry& reg = registry();
    if (follows_snapshots(reg)) pool_owned(pchild, new Follower(reg, s));
}

int follow_in_parent(apr_pool_t* pconf, server_rec* s) {
    Registry& reg = registry();
    if (!follows_snapshots(reg)) return DECLINED;
    if (!reg.parent_taker) reg.parent_taker = pool_owned(pconf, new SnapshotTaker(reg, s));
    try {
        reg.parent_taker->take_newer();
    } catch (const std::exception& err) {
        ap_log_error(APLOG_MARK, APLOG_ERR, 0, s, "CSG0201: the parent cannot take the newest policy snapshot: %s",
                     err.what());
    }
    return DECLINED;  // other modules' monitors run too
}

}  // namespace cscguard::glue
