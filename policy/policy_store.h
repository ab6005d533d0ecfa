// The policy files on disk and the snapshot built from them.
//
// At start-up every file must load (a bad one fails configtest). Afterwards
// refresh() re-reads the files whose stamp (device, inode, size, mtime in
// nanoseconds) changed - so an atomic rename-into-place and an in-place
// rewrite are both noticed - and swaps in a new snapshot. A file that fails
// to parse or verify, disappears, or holds CRLs that would roll back or drop
// an issuer (check_crl_succession) is refused whole: its last good content
// stays in force, the error is logged once per change, and the other files'
// changes still apply. current() is one atomic load (libstdc++ guards the
// atomic shared_ptr with a short spin lock; readers never wait on a parse).
//
// httpd runs many processes, and each has a store: the parent's from
// start-up, each child's from its own reloads. They share the versions they
// accept through a VersionRecord (AcceptedFiles, on disk), so that what is
// in force never goes back: a child forked after a file went bad, and a
// restart while a file is bad, take the last version any process accepted
// rather than an older one of their own; and a good file never replaces a
// newer recorded CRL.
#pragma once

#include <atomic>
#include <ctime>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "file.h"
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

// One accepted version of a policy file.
struct AcceptedVersion {
    FileStamp stamp;  // of the file it was read from
    std::string bytes;
};

// Where the processes of one httpd share the versions they accept.
class VersionRecord {
public:
    virtual ~VersionRecord() = default;
    // Records a version this process accepted. Throws PolicyError.
    virtual void record(const std::string& path, const FileStamp& stamp, std::string_view bytes) const = 0;
    // The version last recorded for `path`, if any.
    virtual std::optional<AcceptedVersion> find(const std::string& path) const = 0;
};

class PolicyStore {
public:
    // A first start trusts only the files on disk; a restart also knows the
    // versions accepted before it.
    enum class Start { First, Restart };

    // Loads every file. A bad file throws PolicyError naming the directive,
    // file and line - unless this is a restart and `versions` holds a good
    // version of it, which then stays in force (logged to `log` at error
    // level), as it does when the file on disk would roll a CRL back.
    // `versions` (null: configtest, or no state directory) is told of every
    // version the store accepts.
    PolicyStore(std::vector<std::shared_ptr<const Issuer>> issuers, std::vector<AllowlistSource> allowlists,
                std::vector<CrlSource> crls, std::time_t crl_grace, const VersionRecord* versions = nullptr,
                Start start = Start::First, const LogSink& log = {});

    std::shared_ptr<const Policy> current() const { return current_.load(std::memory_order_acquire); }

    // Re-reads changed files and swaps in a new snapshot when any of them
    // loaded. Returns true when the snapshot changed. Never throws for bad
    // files: they are reported through `log`. One caller at a time.
    bool refresh(const LogSink& log);

    bool watches_files() const { return !allowlists_.empty() || !crls_.empty(); }

private:
    template <typename Source, typename Content>
    struct Watched {
        Source source;
        FileStamp seen;     // the last version looked at on disk
        FileStamp version;  // the version whose content is in force
        Content content;
    };
    using WatchedAllowlist = Watched<AllowlistSource, std::shared_ptr<const SerialSet>>;
    using WatchedCrl = Watched<CrlSource, CrlSet>;

    template <typename Entry, typename Parse, typename Check>
    void start(Entry& entry, Start start, const LogSink& log, const char* what, Parse parse, Check check);
    template <typename Entry, typename Parse, typename Check>
    bool reload(Entry& entry, const LogSink& log, const char* what, Parse parse, Check check);
    template <typename Entry, typename Parse, typename Check>
    bool catch_up(Entry& entry, Parse parse, Check check) const;
    void record(const std::string& path, const FileContent& fresh, const LogSink& log) const;

    std::shared_ptr<const SerialSet> parse_allowlist_file(const std::string& bytes, const std::string& path) const;
    CrlSet parse_crl_file(const std::string& bytes, const std::string& path) const;
    std::shared_ptr<const Policy> build() const;

    std::vector<std::shared_ptr<const Issuer>> issuers_;
    std::vector<std::string> issuer_names_;
    std::vector<WatchedAllowlist> allowlists_;
    std::vector<WatchedCrl> crls_;
    std::time_t crl_grace_;
    const VersionRecord* versions_;
    std::atomic<std::shared_ptr<const Policy>> current_;
};

}  // namespace cscguard
