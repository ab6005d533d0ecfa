// The policy files on disk and the snapshot built from them.
//
// At start-up every file must load (a bad one fails configtest). Afterwards
// refresh() re-reads the files whose stamp (device, inode, size, mtime in
// nanoseconds) changed - so an atomic rename-into-place and an in-place
// rewrite are both noticed - and swaps in a new snapshot. A file that fails
// to parse or verify, or disappears, is refused whole: its last good content
// stays in force, the error is logged once per change, and the other files'
// changes still apply. Readers never lock: current() is one atomic load.
#pragma once

#include <atomic>
#include <ctime>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "policy.h"

namespace cscguard {

struct AllowlistSource {
    std::string name;
    std::string path;
    std::string declared_at;  // where the configuration names it, for errors
};

struct CrlSource {
    std::string path;
    std::string declared_at;
};

enum class LogLevel { Error, Warning, Info };
using LogSink = std::function<void(LogLevel, const std::string&)>;

// What identifies one version of a file without reading it.
struct FileStamp {
    bool exists = false;
    unsigned long long device = 0, inode = 0, size = 0;
    long long mtime_ns = 0;
    friend bool operator==(const FileStamp&, const FileStamp&) = default;
    static FileStamp of(const std::string& path);
};

class PolicyStore {
public:
    // Loads every file. Throws PolicyError naming the directive, file and line.
    PolicyStore(std::vector<std::shared_ptr<const Issuer>> issuers, std::vector<AllowlistSource> allowlists,
                std::vector<CrlSource> crls, std::time_t crl_grace);

    std::shared_ptr<const Policy> current() const { return current_.load(std::memory_order_acquire); }

    // Re-reads changed files and swaps in a new snapshot when any of them
    // loaded. Returns true when the snapshot changed. Never throws for bad
    // files: they are reported through `log`.
    bool refresh(const LogSink& log);

    bool watches_files() const { return !allowlists_.empty() || !crls_.empty(); }

private:
    struct Allowlist {
        AllowlistSource source;
        FileStamp stamp;
        std::shared_ptr<const SerialSet> set;
    };
    struct Crl {
        CrlSource source;
        FileStamp stamp;
        std::vector<std::shared_ptr<const RevocationList>> lists;
    };

    std::shared_ptr<const Policy> build() const;

    std::vector<std::shared_ptr<const Issuer>> issuers_;
    std::vector<std::string> issuer_names_;
    std::vector<Allowlist> allowlists_;
    std::vector<Crl> crls_;
    std::time_t crl_grace_;
    std::atomic<std::shared_ptr<const Policy>> current_;
};

}  // namespace cscguard
