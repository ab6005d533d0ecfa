#include "mod_cscguard/file_events.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>

#include <poll.h>
#include <sys/inotify.h>
#include <unistd.h>

namespace cscguard::glue {
namespace {

using Clock = std::chrono::steady_clock;

// A file put in place (rename, close after writing), removed, or given
// another owner or mode. Not IN_CREATE: a file created in place is still
// empty then; its IN_CLOSE_WRITE follows.
constexpr std::uint32_t kChanges = IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_ATTRIB;

// Changes that come together (an allowlist and a CRL renamed one after the
// other) are waited for, so that they are compiled side by side: until no
// change came for this long...
constexpr auto kSettle = std::chrono::milliseconds(100);
// ...but no longer than this after the first.
constexpr auto kSettleAtMost = std::chrono::seconds(1);

int milliseconds_until(Clock::time_point deadline) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    return static_cast<int>(std::clamp<long long>(left, 0, 1000 * 1000));
}

}  // namespace

FileEvents::FileEvents(const std::vector<std::string>& paths) {
    fd_ = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (fd_ < 0) {
        problem_ = std::string("inotify_init1: ") + std::strerror(errno);
        return;
    }
    for (const std::string& path : paths) {
        const std::size_t slash = path.rfind('/');
        const std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
        const std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
        const int descriptor = inotify_add_watch(fd_, dir.c_str(), kChanges | IN_ONLYDIR);
        if (descriptor < 0) {
            problem_ = dir + ": " + std::strerror(errno);
            continue;
        }
        // A directory watched twice gives the same descriptor.
        auto it = std::find_if(directories_.begin(), directories_.end(),
                               [&](const Directory& d) { return d.descriptor == descriptor; });
        if (it == directories_.end()) it = directories_.insert(directories_.end(), Directory{descriptor, {}});
        it->names.push_back(name);
    }
}

FileEvents::~FileEvents() {
    if (fd_ >= 0) close(fd_);
}

bool FileEvents::drain_relevant() {
    bool relevant = false;
    alignas(inotify_event) char buffer[16 * 1024];
    for (;;) {
        const ssize_t n = read(fd_, buffer, sizeof buffer);
        if (n <= 0) return relevant;  // EAGAIN: all read
        for (ssize_t at = 0; at + static_cast<ssize_t>(sizeof(inotify_event)) <= n;) {
            const auto* event = reinterpret_cast<const inotify_event*>(buffer + at);
            at += static_cast<ssize_t>(sizeof(inotify_event) + event->len);
            if (event->mask & IN_Q_OVERFLOW) {
                relevant = true;  // events were lost: one of them may have been ours
                continue;
            }
            if (event->len == 0) continue;
            const std::string name(event->name);  // NUL-padded
            for (const Directory& dir : directories_) {
                if (dir.descriptor == event->wd &&
                    std::find(dir.names.begin(), dir.names.end(), name) != dir.names.end()) {
                    relevant = true;
                }
            }
        }
    }
}

void FileEvents::wait(int seconds) {
    const Clock::time_point deadline = Clock::now() + std::chrono::seconds(seconds);
    for (;;) {
        const int left = milliseconds_until(deadline);
        if (left <= 0) return;
        if (fd_ < 0 || directories_.empty()) {
            usleep(static_cast<useconds_t>(std::min(left, 1000)) * 1000);
            continue;
        }
        pollfd ready{fd_, POLLIN, 0};
        if (poll(&ready, 1, left) <= 0 || !drain_relevant()) continue;  // timeout, EINTR, or another file
        const Clock::time_point settle_end = std::min(deadline, Clock::now() + kSettleAtMost);
        for (;;) {
            const int settle = std::min(milliseconds_until(settle_end), static_cast<int>(kSettle.count()));
            if (settle <= 0 || poll(&ready, 1, settle) <= 0) return;
            drain_relevant();
        }
    }
}

}  // namespace cscguard::glue
