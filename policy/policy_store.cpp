#include "policy/policy_store.h"

#include "policy/allowlist.h"
#include "policy/error.h"
#include "policy/parallel.h"

namespace cscguard {
namespace {

bool is_crl(const CompiledFile& file) { return file.kind == CompiledFile::Kind::Crl; }

// merge_crls' problems, one per issuer, as one text.
std::string join_lines(const std::vector<std::string>& lines) {
    std::string out;
    for (const auto& line : lines) out += (out.empty() ? "" : "; ") + line;
    return out;
}

std::size_t entries_of(const CompiledFile& file) {
    if (!is_crl(file)) return file.allowlist.size();
    std::size_t revoked = 0;
    for (const auto& crl : file.crls) revoked += crl->revoked.size();
    return revoked;
}

// The digest of a CRL file's version whose content is not the file's (an
// issuer's CRL in force kept over the file's older one). It must never pass
// for the file: a restart, or a reload of the same bytes, would otherwise take
// the file as already judged - and its rolled-back CRL with it.
std::string merged_digest(const CrlSet& in_force) {
    std::string text = "merged:";
    for (const auto& crl : in_force) text += crl->digest;
    return sha256_of(text);
}

}  // namespace

void PolicyStore::Watched::trouble(std::string text) {
    if (problem.empty()) problem_since = std::time(nullptr);
    problem = std::move(text);
}

std::vector<FileHealth> PolicyStore::health() const {
    std::vector<FileHealth> out;
    for (const auto& entry : files_) {
        out.push_back({entry.compiled.path, entry.name, is_crl(entry.compiled), entry.compiled.stamp,
                       entry.compiled.digest, entries_of(entry.compiled), entry.loaded, entry.problem,
                       entry.problem.empty() ? 0 : entry.problem_since});
    }
    return out;
}

std::string PolicyStore::label(const Watched& entry) const {
    const std::string at = entry.declared_at.empty() ? std::string() : " (" + entry.declared_at + ")";
    return is_crl(entry.compiled) ? "CSCGuardCRL" + at : "CSCGuardAllowlist " + entry.name + at;
}

// The file's bytes compiled: an allowlist's table, or a CRL file's CRLs, the
// newest of each issuer.
CompiledFile PolicyStore::compile(const Watched& entry, const FileContent& fresh, std::string digest) const {
    CompiledFile out;
    out.kind = entry.compiled.kind;
    out.path = entry.compiled.path;
    out.stamp = fresh.stamp;
    out.digest = std::move(digest);
    if (!is_crl(out)) {
        out.allowlist = parse_allowlist(fresh.bytes, out.path, issuer_names_);
        return out;
    }
    CrlSet all;
    for (auto& list : parse_crls(fresh.bytes, out.path, issuers_)) all.push_back(std::make_shared<const RevocationList>(std::move(list)));
    out.crls = merge_crls({}, all).in_force;
    return out;
}

// Reads and compiles one file; thread-safe (const, and the issuers are only
// read). A file with the bytes in force is not compiled again (a daily
// `cscguard publish` rewrites every list).
PolicyStore::Attempt PolicyStore::attempt(const Watched& entry, const FileStamp& stamp) const {
    Attempt out;
    out.stamp = stamp;
    const std::string& path = entry.compiled.path;
    try {
        const FileContent content = read_policy_file(path, is_crl(entry.compiled) ? "CRL" : "allowlist");
        std::string digest = sha256_of(content.bytes);
        if (!entry.compiled.digest.empty() && digest == entry.compiled.digest) {
            out.same_bytes = true;
            out.read = content.stamp;
        } else {
            out.fresh = compile(entry, content, std::move(digest));
        }
    } catch (const PolicyError& err) {
        out.error = err.what();
    }
    out.after = FileStamp::of(path);
    return out;
}

// Every file of `entries` read and compiled, each on a core of its own while
// there are cores: where parsing dominates, a changed allowlist and CRL are
// in force in the time of the slower one (where page faults of the fresh
// buffers dominate, as on a busy VM, about as fast as one after the other).
std::vector<PolicyStore::Attempt> PolicyStore::attempt_all(const std::vector<Watched*>& entries,
                                                           const std::vector<FileStamp>& stamps) const {
    std::vector<Attempt> out(entries.size());
    run_in_parallel(entries.size(), [&](std::size_t i) { out[i] = attempt(*entries[i], stamps[i]); });
    return out;
}

// A file's content at start-up: from disk, or - at a restart, when it is bad
// now - the version in force before the restart, which its CRLs also may not
// roll back from.
void PolicyStore::start(Watched& entry, Attempt attempt, const Snapshot* before, const LogSink& log) {
    const std::string& path = entry.compiled.path;
    const CompiledFile* previous = before ? before->find(path) : nullptr;
    if (previous && previous->kind != entry.compiled.kind) previous = nullptr;  // once a CRL, now an allowlist
    if (attempt.error) {
        if (!previous) throw PolicyError(label(entry) + ": " + *attempt.error);
        entry.compiled = *previous;
        entry.seen = attempt.after;  // tried again when it changes
        entry.trouble(label(entry) + ": " + *attempt.error + "; the version in force before the restart stays in force");
        if (log) log(LogLevel::Error, entry.problem);
        return;
    }
    CompiledFile fresh = std::move(*attempt.fresh);
    if (previous && is_crl(fresh) && previous->digest != fresh.digest) {
        CrlMerge merge = merge_crls(previous->crls, fresh.crls);
        for (const auto& problem : merge.problems) {
            if (log) log(LogLevel::Error, label(entry) + ": " + path + ": " + problem);
        }
        if (!merge.problems.empty()) {
            fresh.digest = merged_digest(merge.in_force);
            entry.trouble(label(entry) + ": " + path + ": " + join_lines(merge.problems));
        }
        fresh.crls = std::move(merge.in_force);
    }
    entry.seen = fresh.stamp;
    entry.compiled = std::move(fresh);
    entry.loaded = std::time(nullptr);
}

// One changed file, read and compiled: true when what is in force for it
// changed. A file changing while being read is tried next round; a bad file
// is logged once per change.
bool PolicyStore::judge(Watched& entry, Attempt attempt, const LogSink& log) {
    const std::string& path = entry.compiled.path;
    if (attempt.same_bytes) {
        // Nothing to compile, and nothing new to hand on; a bad version put
        // right again (the good bytes back) is no problem any more.
        if (attempt.after == attempt.read) {
            entry.seen = attempt.read;
            entry.problem.clear();
        }
        return false;
    }
    if (attempt.error) {
        if (attempt.after != attempt.stamp) return false;  // changed meanwhile: judge the next version
        entry.seen = attempt.stamp;
        entry.trouble(label(entry) + ": " + *attempt.error + "; the last good version stays in force");
        log(LogLevel::Error, entry.problem);
        return false;
    }
    CompiledFile fresh = std::move(*attempt.fresh);
    if (attempt.after != fresh.stamp) return false;  // still being written
    entry.seen = fresh.stamp;
    if (is_crl(fresh)) {
        // CRLs move forward issuer by issuer (merge_crls).
        CrlMerge merge = merge_crls(entry.compiled.crls, fresh.crls);
        for (const auto& problem : merge.problems) log(LogLevel::Error, label(entry) + ": " + path + ": " + problem);
        if (merge.problems.empty()) entry.problem.clear();
        else entry.trouble(label(entry) + ": " + path + ": " + join_lines(merge.problems));
        if (!merge.changed) return false;
        if (!merge.problems.empty()) fresh.digest = merged_digest(merge.in_force);
        fresh.crls = std::move(merge.in_force);
    } else {
        entry.problem.clear();
    }
    entry.compiled = std::move(fresh);
    entry.loaded = std::time(nullptr);
    return true;
}

PolicyStore::PolicyStore(std::vector<std::shared_ptr<const Issuer>> issuers, std::vector<AllowlistSource> allowlists,
                         std::vector<CrlSource> crls, std::time_t crl_grace, const Snapshot* before, const LogSink& log)
    : issuers_(std::move(issuers)), crl_grace_(crl_grace) {
    for (const auto& issuer : issuers_) issuer_names_.push_back(issuer->name());
    if (issuer_names_.size() > 0xFFFF) throw PolicyError("more than 65535 issuers are declared");
    for (auto& source : allowlists) {
        for (const auto& seen : files_) {
            if (seen.name == source.name) {
                throw PolicyError("CSCGuardAllowlist " + source.name + " (" + source.declared_at +
                                  "): the name is declared twice");
            }
        }
        Watched entry{std::move(source.name), std::move(source.declared_at), {}, {}, 0, {}, 0};
        entry.compiled.kind = CompiledFile::Kind::Allowlist;
        entry.compiled.path = std::move(source.path);
        files_.push_back(std::move(entry));
    }
    for (auto& source : crls) {
        Watched entry{"", std::move(source.declared_at), {}, {}, 0, {}, 0};
        entry.compiled.kind = CompiledFile::Kind::Crl;
        entry.compiled.path = std::move(source.path);
        files_.push_back(std::move(entry));
    }
    if (before && !extends_issuers_of(before->configuration)) {
        // Its tables index other issuers (one removed, renamed, reordered, or
        // a CA certificate replaced): nothing of it can be used, and the
        // admin must know that a CRL rolling back now would not be noticed.
        if (log) {
            log(LogLevel::Error, "the policy in force before this restart was compiled for other CSCGuardIssuer lines "
                                 "(one removed, renamed, moved or given another certificate): the files on disk are "
                                 "trusted as at a first start, also a CRL that rolls back");
        }
        before = nullptr;
    }
    std::vector<Watched*> all;
    std::vector<FileStamp> stamps;
    for (auto& entry : files_) {
        all.push_back(&entry);
        stamps.push_back(FileStamp::of(entry.compiled.path));
    }
    std::vector<Attempt> attempts = attempt_all(all, stamps);
    for (std::size_t i = 0; i < all.size(); ++i) start(*all[i], std::move(attempts[i]), before, log);
    current_.store(build());
}

std::shared_ptr<const Policy> PolicyStore::build() const {
    std::map<std::string, SerialTable> lists;
    CrlSet crls;
    for (const auto& entry : files_) {
        if (is_crl(entry.compiled)) crls.insert(crls.end(), entry.compiled.crls.begin(), entry.compiled.crls.end());
        else lists.emplace(entry.name, entry.compiled.allowlist);
    }
    return std::make_shared<const Policy>(issuers_, std::move(lists), std::move(crls), crl_grace_);
}

bool PolicyStore::refresh(const LogSink& log) {
    std::vector<Watched*> changed;
    std::vector<FileStamp> stamps;
    for (auto& entry : files_) {
        const FileStamp stamp = FileStamp::of(entry.compiled.path);
        if (stamp == entry.seen) continue;  // unchanged files are left alone
        if (!stamp.exists) {
            entry.seen = stamp;
            entry.trouble(label(entry) + ": " + entry.compiled.path +
                          " has disappeared; its last good content stays in force");
            log(LogLevel::Error, entry.problem);
            continue;
        }
        changed.push_back(&entry);
        stamps.push_back(stamp);
    }
    std::vector<Attempt> attempts = attempt_all(changed, stamps);
    bool any = false;
    for (std::size_t i = 0; i < changed.size(); ++i) {
        Watched& entry = *changed[i];
        if (!judge(entry, std::move(attempts[i]), log)) continue;
        any = true;
        log(LogLevel::Info, label(entry) + ": reloaded " + entry.compiled.path + " (" +
                                std::to_string(entries_of(entry.compiled)) +
                                (is_crl(entry.compiled) ? " revoked serials)" : " entries)"));
    }
    if (any) current_.store(build(), std::memory_order_release);
    return any;
}

// One SHA-256 per issuer (name and certificate), in the configuration's
// order, joined with '.': compiled tables refer to issuers by that order.
std::string PolicyStore::issuers_id() const {
    std::string out;
    for (const auto& issuer : issuers_) {
        unsigned char* der = nullptr;
        const int len = i2d_X509(&issuer->certificate(), &der);
        const std::string text = "issuer " + issuer->name() + " " +
                                 (len > 0 ? std::string(reinterpret_cast<char*>(der), static_cast<std::size_t>(len)) : "");
        OPENSSL_free(der);
        out += (out.empty() ? "" : ".") + to_hex(sha256_of(text));
    }
    return out;
}

std::string PolicyStore::configuration_id() const {
    std::string text;
    for (const auto& entry : files_) {
        text += (is_crl(entry.compiled) ? "crl " : "allowlist " + entry.name + " ") + entry.compiled.path + "\n";
    }
    return issuers_id() + "-" + to_hex(sha256_of(text));
}

bool PolicyStore::extends_issuers_of(const std::string& configuration) const {
    const std::string mine = issuers_id() + "-";
    const std::size_t dash = configuration.find('-');
    if (dash == std::string::npos) return false;
    const std::string theirs = configuration.substr(0, dash);
    // Theirs are mine, or the first of mine (issuers added at the end keep
    // every old index).
    return mine.compare(0, theirs.size(), theirs) == 0 && (mine[theirs.size()] == '-' || mine[theirs.size()] == '.');
}

std::vector<const CompiledFile*> PolicyStore::files() const {
    std::vector<const CompiledFile*> out;
    for (const auto& entry : files_) out.push_back(&entry.compiled);
    return out;
}

void PolicyStore::adopt(const Snapshot& snapshot) {
    for (auto& entry : files_) {
        const CompiledFile* file = snapshot.find(entry.compiled.path);
        if (!file || file->kind != entry.compiled.kind) continue;
        // Another version than the one held (a new watcher catching up): the
        // files are judged against it from now on. The same version (the
        // writer taking its own snapshot) keeps what was last looked at, so a
        // bad file on disk is not judged, and logged, once more.
        if (!(file->stamp == entry.compiled.stamp) || file->digest != entry.compiled.digest) entry.seen = file->stamp;
        entry.compiled = *file;
    }
    current_.store(build(), std::memory_order_release);
}

}  // namespace cscguard
