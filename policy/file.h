// Reading a policy file (allowlist, CRL, CA certificate) safely.
//
// These files are read by httpd's parent at start-up and by a reload thread
// while it serves, so a read must never block or exhaust memory: a FIFO, a
// device, a directory or a file bigger than the cap is refused with an error
// that names it, never waited on.
#pragma once

#include <cstddef>
#include <string>

namespace cscguard {

// Anything bigger is not a policy file (a 1,000,000-entry allowlist is about
// 40 MB, a 1,000,000-entry CRL about 37 MB).
inline constexpr std::size_t kMaxPolicyFileBytes = std::size_t{256} << 20;

// What identifies one version of a file without reading it. The change time
// is in it because nobody can set it: a file put back with its old inode
// number, size and modification time (cp -p, tar, a restored hard link)
// still differs from the version it imitates.
struct FileStamp {
    bool exists = false;
    unsigned long long device = 0, inode = 0, size = 0;
    long long mtime_ns = 0, ctime_ns = 0;
    friend bool operator==(const FileStamp&, const FileStamp&) = default;
    // stat(2) of `path` (following symlinks); exists == false when it fails.
    static FileStamp of(const std::string& path);
};

struct FileContent {
    std::string bytes;
    FileStamp stamp;  // of the file that was read, taken from the open descriptor
    unsigned owner = 0;  // its uid
    unsigned mode = 0;   // its permission bits
};

// The bytes of the regular file at `path`. Throws PolicyError
// "PATH: cannot read WHAT: reason" for a missing or unreadable file, a
// non-regular file, or one bigger than `max_bytes`.
FileContent read_policy_file(const std::string& path, const char* what, std::size_t max_bytes = kMaxPolicyFileBytes);

// Same, bytes only.
std::string read_whole_file(const std::string& path, const char* what);

// A file a person names to a command (the CA tool's CSR, CSV and its own
// files): like read_policy_file, but nothing serves while it waits, so a pipe
// or a terminal (`<(...)`, /dev/stdin) is read to its end as cat would. A
// directory is refused. `what` may be "" ("PATH: cannot read: reason").
std::string read_named_file(const std::string& path, const char* what, std::size_t max_bytes = kMaxPolicyFileBytes);

}  // namespace cscguard
