// The watcher's wait between two looks at the policy files: it ends early
// when the kernel (inotify) reports that one of them was put in place, so a
// revocation published by `cscguard publish` or an admin's `mv` is in force
// in a fraction of a second instead of up to CSCGuardReloadInterval later.
//
// Only completed changes wake it: a file renamed or linked into place,
// closed after writing, removed, or given another owner or mode - never a
// write still going on (IN_MODIFY), which would make a half-written file
// far more likely to be read. The interval stays the safety net for what
// inotify does not see: a path behind a symlink into another directory,
// network file systems, a directory created later, inotify's limits.
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
    bool drain_relevant();  // reads pending events; true when one names a watched file

    struct Directory {
        int descriptor;
        std::vector<std::string> names;  // the watched files in it
    };
    int fd_ = -1;
    std::vector<Directory> directories_;
    std::string problem_;
};

}  // namespace cscguard::glue
