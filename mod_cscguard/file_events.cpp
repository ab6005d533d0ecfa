#include "mod_cscguard/file_events.h"

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <chrono>
#include <cstring>

#include <poll.h>
#include <sys/inotify.h>
#include <unistd.h>

namespace cscguard::glue {
namespace {

using Clock = std::chrono::steady_clock;

// A file put in place: renamed or linked over, closed after writing, given
// another owner or mode. Only these start a look.
constexpr std::uint32_t kDone = IN_CLOSE_WRITE | IN_MOVED_TO | IN_ATTRIB;
// A file on its way (created, removed or renamed away - `install`,
// `mv f f.bak; gen > f`, editors' backups): never a reason to look, since
// the new content is not there yet, but the wait for it goes on. Not
// IN_MODIFY: it comes for every write to every file of the directory (httpd's
// own logs may sit next to the lists: one wake-up per request), and a write
// in place ends with IN_CLOSE_WRITE anyway.
constexpr std::uint32_t kBusy = IN_CREATE | IN_DELETE | IN_MOVED_FROM;

// Changes that come together (an allowlist and a CRL renamed one after the
// other) are waited for, so that they are compiled side by side: until none
// of the files changed for this long...
constexpr auto kSettle = std::chrono::milliseconds(100);
// ...but no longer than this after the first.
constexpr auto kSettleAtMost = std::chrono::seconds(1);

// What to do about inotify's limits, which errno alone does not say.
std::string limit_hint(int error) {
    if (error == ENOSPC) return " (raise fs.inotify.max_user_watches)";
    if (error == EMFILE) return " (raise fs.inotify.max_user_instances)";
    return "";
}

int milliseconds_until(Clock::time_point deadline) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    return static_cast<int>(std::clamp<long long>(left, 0, 1000 * 1000));
}

}  // namespace

FileEvents::FileEvents(const std::vector<std::string>& paths) {
    fd_ = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (fd_ < 0) {
        problem_ = std::string("inotify_init1: ") + std::strerror(errno) + limit_hint(errno);
        return;
    }
    for (const std::string& path : paths) {
        const std::size_t slash = path.rfind('/');
        const std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
        const std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
        auto it = std::find_if(directories_.begin(), directories_.end(), [&](const Directory& d) { return d.path == dir; });
        if (it == directories_.end()) it = directories_.insert(directories_.end(), Directory{dir, -1, {}});
        it->names.push_back(name);
    }
    watch_missing();
}

// Watches every directory not watched yet (at the start, or after its watch
// went: the directory removed, its file system unmounted). Says what failed.
void FileEvents::watch_missing() {
    for (Directory& dir : directories_) {
        if (dir.descriptor >= 0) continue;
        dir.descriptor = inotify_add_watch(fd_, dir.path.c_str(), kDone | kBusy | IN_ONLYDIR);
        if (dir.descriptor < 0) problem_ = dir.path + ": " + std::strerror(errno) + limit_hint(errno);
    }
}

FileEvents::~FileEvents() {
    if (fd_ >= 0) close(fd_);
}

FileEvents::Seen FileEvents::drain() {
    Seen seen;
    alignas(inotify_event) char buffer[16 * 1024];
    for (;;) {
        const ssize_t n = read(fd_, buffer, sizeof buffer);
        if (n <= 0) return seen;  // EAGAIN: all read
        for (ssize_t at = 0; at + static_cast<ssize_t>(sizeof(inotify_event)) <= n;) {
            const auto* event = reinterpret_cast<const inotify_event*>(buffer + at);
            at += static_cast<ssize_t>(sizeof(inotify_event) + event->len);
            if (event->mask & IN_Q_OVERFLOW) {
                seen.done = true;  // events were lost: one of them may have been ours
                continue;
            }
            for (Directory& dir : directories_) {
                if (dir.descriptor != event->wd) continue;
                if (event->mask & IN_IGNORED) {  // the directory went: watched again when it is back
                    dir.descriptor = -1;
                    seen.done = true;
                    continue;
                }
                if (event->len == 0) continue;
                const std::string name(event->name);  // NUL-padded
                if (std::find(dir.names.begin(), dir.names.end(), name) == dir.names.end()) continue;
                seen.done |= (event->mask & kDone) != 0;
                seen.busy |= (event->mask & kBusy) != 0;
            }
        }
    }
}

void FileEvents::wait(int seconds) {
    const Clock::time_point deadline = Clock::now() + std::chrono::seconds(seconds);
    for (;;) {
        if (fd_ >= 0) watch_missing();
        const int left = milliseconds_until(deadline);
        if (left <= 0) return;
        const bool watching = std::any_of(directories_.begin(), directories_.end(),
                                          [](const Directory& d) { return d.descriptor >= 0; });
        if (fd_ < 0 || !watching) {
            usleep(static_cast<useconds_t>(std::min(left, 1000)) * 1000);
            continue;
        }
        pollfd ready{fd_, POLLIN, 0};
        if (poll(&ready, 1, std::min(left, 1000)) <= 0 || !drain().done) continue;  // timeout, EINTR, not (yet) ours
        const Clock::time_point settle_end = std::min(deadline, Clock::now() + kSettleAtMost);
        for (;;) {
            const int settle = std::min(milliseconds_until(settle_end), static_cast<int>(kSettle.count()));
            if (settle <= 0 || poll(&ready, 1, settle) <= 0) return;
            drain();
        }
    }
}

}  // namespace cscguard::glue
