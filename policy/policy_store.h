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
// It hands what is in force to the others as a compiled Snapshot (files()),
// which they take whole (adopt()) without parsing anything. A restart builds
// a new store from the files, with the snapshot in force before it as the
// fallback for a file that is bad now and as the reference a CRL may not
// roll back from.
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

#include "policy/file.h"
#include "policy/policy.h"
#include "policy/snapshot.h"

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

enum class LogLevel { Error, Info };

// How one policy file stands, for the status page: the version in force and
// what the last look at the file found.
struct FileHealth {
    std::string path;
    std::string name;         // the allowlist's name; "" for a CRL file
    bool crl = false;
    FileStamp stamp;          // of the version in force
    std::string digest;       // its SHA-256 (32 bytes)
    std::size_t entries = 0;  // the allowlist's entries, or the revoked serials of the file's CRLs in force
    std::time_t loaded = 0;   // when this process read the version in force; 0: it took it from a snapshot
    std::string problem;      // why the file on disk is not (all) in force, as logged; "" when it is
    std::time_t problem_since = 0;
};
using LogSink = std::function<void(LogLevel, const std::string&)>;

class PolicyStore {
public:
    // Loads every file. A bad file throws PolicyError naming the directive,
    // file and line - unless `before` (the snapshot in force before a restart;
    // null at a first start) holds a good version of it, which then stays in
    // force (logged to `log` at error level), as it does when the file on disk
    // would roll a CRL back. `before` counts only when this configuration's
    // issuers extend its issuers (extends_issuers_of); else that is logged.
    PolicyStore(std::vector<std::shared_ptr<const Issuer>> issuers, std::vector<AllowlistSource> allowlists,
                std::vector<CrlSource> crls, std::time_t crl_grace, const Snapshot* before = nullptr,
                const LogSink& log = {});

    std::shared_ptr<const Policy> current() const { return current_.load(std::memory_order_acquire); }

    // Re-reads changed files and swaps in a new policy when any of them
    // loaded. Returns true when the policy changed. Never throws for bad
    // files: they are reported through `log`. One caller at a time.
    bool refresh(const LogSink& log);

    bool watches_files() const { return !files_.empty(); }

    // The compiled version in force of every file: what a snapshot is written from.
    std::vector<const CompiledFile*> files() const;

    // Names this configuration: its issuers (names, certificates, order: what
    // compiled tables refer to by index), then its files' names and paths. A
    // snapshot of another configuration is not adopted.
    std::string configuration_id() const;
    // Whether `configuration` (of a snapshot) has this store's issuers, or the
    // first of them (issuers added at the end), so its compiled tables mean
    // the same here.
    bool extends_issuers_of(const std::string& configuration) const;
    const std::vector<std::string>& issuer_names() const { return issuer_names_; }

    // Every file's health, in the configuration's order. Like refresh(): one
    // caller at a time (the watcher, which writes it for the children).
    std::vector<FileHealth> health() const;

    // Takes every file's version from `snapshot` (opened against
    // issuer_names()) and swaps in a new policy. Nothing is parsed: a
    // snapshot is checked whole when it is opened. A file the snapshot does
    // not hold keeps its content.
    void adopt(const Snapshot& snapshot);

private:
    struct Watched {
        std::string name;         // the allowlist's name; "" for a CRL file
        std::string declared_at;  // where the configuration names it, for errors
        FileStamp seen;           // the last version looked at on disk
        CompiledFile compiled;    // the version in force
        std::time_t loaded = 0;   // when it was read (FileHealth)
        std::string problem;      // what the last look found wrong ("": nothing)
        std::time_t problem_since = 0;

        void trouble(std::string text);  // sets problem (and since, when it is new)
    };

    // What reading and compiling one file gave, before it is judged: files
    // are read and compiled side by side (attempt_all), judged one by one.
    struct Attempt {
        FileStamp stamp;                    // before reading
        std::optional<CompiledFile> fresh;  // compiled: its stamp is the one read
        bool same_bytes = false;            // the bytes in force (stamp: the one read)
        FileStamp read;                     // with same_bytes: the stamp read
        std::optional<std::string> error;   // a bad file
        FileStamp after;                    // after compiling: a file changing meanwhile is judged next round
    };

    Attempt attempt(const Watched& entry, const FileStamp& stamp) const;
    std::vector<Attempt> attempt_all(const std::vector<Watched*>& entries, const std::vector<FileStamp>& stamps) const;
    void start(Watched& entry, Attempt attempt, const Snapshot* before, const LogSink& log);
    bool judge(Watched& entry, Attempt attempt, const LogSink& log);
    CompiledFile compile(const Watched& entry, const FileContent& fresh, std::string digest) const;
    std::string label(const Watched& entry) const;
    std::string issuers_id() const;
    std::shared_ptr<const Policy> build() const;

    std::vector<std::shared_ptr<const Issuer>> issuers_;
    std::vector<std::string> issuer_names_;
    std::vector<Watched> files_;  // the allowlists, then the CRL files, in the configuration's order
    std::time_t crl_grace_;
    std::atomic<std::shared_ptr<const Policy>> current_;
};

}  // namespace cscguard
