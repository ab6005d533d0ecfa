// The last accepted version of each policy file, kept on disk for every
// process of one httpd and for its restarts (a VersionRecord, see
// PolicyStore).
//
// Every process that accepts a new version of a file - httpd's parent at a
// (re)start, a child's reload thread later - records it here, so what a
// restart or a newly forked child falls back to is what the children last
// enforced, not what the parent read hours ago. The directory lives under httpd's runtime directory
// (DefaultRuntimeDir), one file per policy file, named by the SHA-256 of its
// path:
//
//   cscguard-accepted 1 DEVICE INODE SIZE MTIME_NS\n
//   PATH\n
//   BYTES...
//
// Each record is written to a temporary file and renamed into place, under
// an flock(2) of DIR/.lock; a version already recorded is not written again.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "file.h"
#include "policy_store.h"

namespace cscguard {

class AcceptedFiles : public VersionRecord {
public:
    // `dir` must exist and be writable by every process that records.
    explicit AcceptedFiles(std::string dir) : dir_(std::move(dir)) {}

    const std::string& dir() const { return dir_; }

    // Records `bytes` as the accepted content of `path` (read at `stamp`).
    // Throws PolicyError naming the directory when it cannot be written.
    void record(const std::string& path, const FileStamp& stamp, std::string_view bytes) const override;

    // The recorded version of `path`; nothing when there is no readable record.
    std::optional<AcceptedVersion> find(const std::string& path) const override;

    // Removes the records of every path not in `keep`.
    void prune(const std::vector<std::string>& keep) const;

private:
    std::string record_path(const std::string& path) const;
    std::string dir_;
};

}  // namespace cscguard
