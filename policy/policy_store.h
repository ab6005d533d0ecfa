// The policy files on disk and the snapshot built from them.
//
// At start-up every file must load (a bad one fails configtest). Afterwards
// refresh() re-reads the files whose stamp (device, inode, size, mtime in
// nanoseconds) changed - so an atomic rename-into-place and an in-place
// rewrite are both noticed - and swaps in a new snapshot. A file that fails
// to parse or verify, or disappears, is refused whole: its last good content
// stays in force, the error is logged once per change, and the other files'
// changes still apply. A CRL file moves forward issuer by issuer
// (merge_crls): an issuer's CRL that would roll back, or an issuer the file no
// longer covers, keeps the CRL in force, logged the same way. current() is one atomic load (libstdc++ guards the
// atomic shared_ptr with a short spin lock; readers never wait on a parse).
//
// In httpd one process reads the files and refreshes its store: the watcher.
// It hands what is in force to the others as a Bundle (bundle()), which they
// take whole (adopt()). A restart builds a new store from the files, with the
// bundle in force before it as the fallback for a file that is bad now and as
// the reference a CRL may not roll back from.
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

#include "bundle.h"
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

class PolicyStore {
public:
    // Loads every file. A bad file throws PolicyError naming the directive,
    // file and line - unless `before` (the bundle in force before a restart;
    // null at a first start) holds a good version of it, which then stays in
    // force (logged to `log` at error level), as it does when the file on disk
    // would roll a CRL back.
    PolicyStore(std::vector<std::shared_ptr<const Issuer>> issuers, std::vector<AllowlistSource> allowlists,
                std::vector<CrlSource> crls, std::time_t crl_grace, const Bundle* before = nullptr,
                const LogSink& log = {});

    std::shared_ptr<const Policy> current() const { return current_.load(std::memory_order_acquire); }

    // Re-reads changed files and swaps in a new snapshot when any of them
    // loaded. Returns true when the snapshot changed. Never throws for bad
    // files: they are reported through `log`. One caller at a time.
    bool refresh(const LogSink& log);

    bool watches_files() const { return !allowlists_.empty() || !crls_.empty(); }

    // The versions in force, every file's bytes as read (empty after
    // forget_bytes()): what a bundle is written from (write_bundle).
    std::vector<const PolicyFile*> versions() const;
    // The same as a Bundle (copies the bytes).
    Bundle bundle(std::uint64_t generation, std::string configuration) const;

    // Names this configuration (issuers' names and certificates, the files'
    // names and paths): a bundle of another configuration is not adopted.
    std::string configuration_id() const;

    // Takes every file's version from `bundle` and swaps in a new snapshot:
    // whole or not at all (PolicyError naming the file that does not load;
    // nothing changes then). A file the bundle does not hold keeps its
    // content; one whose version is the one held is not parsed again.
    void adopt(const Bundle& bundle);

    // A process that only adopts bundles needs no bytes: it lets them go.
    void forget_bytes();
    // From now on bytes are kept again (of versions adopted or read later).
    void keep_bytes() { keep_bytes_ = true; }

private:
    template <typename Source, typename Content>
    struct Watched {
        Source source;
        FileStamp seen;     // the last version looked at on disk
        PolicyFile version;  // the version in force (its bytes while keep_bytes_)
        Content content;
    };
    using WatchedAllowlist = Watched<AllowlistSource, std::shared_ptr<const SerialSet>>;
    using WatchedCrl = Watched<CrlSource, CrlSet>;

    template <typename Entry, typename Parse, typename Merge>
    void start(Entry& entry, const Bundle* before, const LogSink& log, const char* what, Parse parse, Merge merge);
    template <typename Entry, typename Parse, typename Merge>
    bool reload(Entry& entry, const LogSink& log, const char* what, Parse parse, Merge merge);
    template <typename Entry>
    void take(Entry& entry, FileContent fresh);

    std::shared_ptr<const SerialSet> parse_allowlist_file(const std::string& bytes, const std::string& path) const;
    CrlSet parse_crl_file(const std::string& bytes, const std::string& path) const;
    std::shared_ptr<const Policy> build() const;

    std::vector<std::shared_ptr<const Issuer>> issuers_;
    std::vector<std::string> issuer_names_;
    std::vector<WatchedAllowlist> allowlists_;
    std::vector<WatchedCrl> crls_;
    std::time_t crl_grace_;
    bool keep_bytes_ = true;
    std::atomic<std::shared_ptr<const Policy>> current_;
};

}  // namespace cscguard
