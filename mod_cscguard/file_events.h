// The watcher's wait between two looks at the policy files: it ends early
// when the kernel (inotify) reports that one of them was put in place, so a
// revocation published by `cscguard publish` or an admin's `mv` is in force
// in a fraction of a second instead of up to CSCGuardReloadInterval later.
//
// Only a file put in place wakes it: renamed or linked over, closed after
// writing, given another owner or mode - never a file on its way (created,
// written, removed or renamed away, as `install` and editors do before the
// new content is there), which would make a half-written file far more
// likely to be read; creating, removing and renaming away only make the wait
// for the rest longer. Writes are not watched at all: every write to any
// file of the directory (httpd's logs next to the lists) would wake it.
// A directory whose watch went (removed, unmounted) is watched again once it
// is back. The interval stays the safety net for what inotify does not see:
// a path behind a symlink into another directory, network file systems,
// inotify's limits.
#pragma once

#include <string>
#include <vector>

namespace cscguard::glue {

class FileEvents {
public:
    // Watches the directories of `paths` for changes to those names. When
    // inotify cannot be had, wait() is a plain sleep and `problem` says why.
    explicit FileEvents(const std::vector<std::string>& paths);
    ~FileEvents();
    FileEvents(const FileEvents&) = delete;
    FileEvents& operator=(const FileEvents&) = delete;

    // Returns after `seconds`, or soon after one of the files changed.
    void wait(int seconds);

    const std::string& problem() const { return problem_; }

private:
    struct Seen {
        bool done = false;  // a watched file put in place (or events lost)
        bool busy = false;  // a watched file on its way
    };
    Seen drain();  // reads the pending events
    void watch_missing();

    struct Directory {
        std::string path;
        int descriptor;                  // -1: not watched (now)
        std::vector<std::string> names;  // the watched files in it
    };
    int fd_ = -1;
    std::vector<Directory> directories_;
    std::string problem_;
};

}  // namespace cscguard::glue
