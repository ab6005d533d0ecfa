#include "policy_store.h"

#include "allowlist.h"
#include "error.h"

namespace cscguard {
namespace {

std::string label(const AllowlistSource& s) {
    return "CSCGuardAllowlist " + s.name + (s.declared_at.empty() ? "" : " (" + s.declared_at + ")");
}

std::string label(const CrlSource& s) {
    return "CSCGuardCRL" + (s.declared_at.empty() ? std::string() : " (" + s.declared_at + ")");
}

// What a file's new content puts in force, given what is in force.
template <typename Content>
struct Merged {
    Content content;
    bool changed = true;
    std::vector<std::string> problems;  // what stayed in force, and why
    std::optional<std::string> bytes;   // stands for the file's bytes when the content is not the file's
};

// Allowlists carry no version: any good new content replaces the old.
const auto take_allowlist = [](const std::shared_ptr<const SerialSet>&, std::shared_ptr<const SerialSet> next) {
    Merged<std::shared_ptr<const SerialSet>> out;
    out.content = std::move(next);
    return out;
};

// CRLs move forward issuer by issuer (merge_crls).
const auto merge_crl_file = [](const CrlSet& in_force, const CrlSet& next) {
    CrlMerge merge = merge_crls(in_force, next);
    Merged<CrlSet> out;
    out.content = std::move(merge.in_force);
    out.changed = merge.changed;
    out.problems = std::move(merge.problems);
    if (!out.problems.empty()) out.bytes = crls_to_pem(out.content);
    return out;
};

}  // namespace

std::shared_ptr<const SerialSet> PolicyStore::parse_allowlist_file(const std::string& bytes,
                                                                   const std::string& path) const {
    return std::make_shared<const SerialSet>(parse_allowlist(bytes, path, issuer_names_));
}

CrlSet PolicyStore::parse_crl_file(const std::string& bytes, const std::string& path) const {
    CrlSet out;
    for (auto& list : parse_crls(bytes, path, issuers_)) out.push_back(std::make_shared<const RevocationList>(std::move(list)));
    return out;
}

// Makes `fresh` the version in force of `entry` (its content already set).
template <typename Entry>
void PolicyStore::take(Entry& entry, FileContent fresh) {
    entry.seen = fresh.stamp;
    entry.version.path = entry.source.path;
    entry.version.stamp = fresh.stamp;
    entry.version.digest = sha256_of(fresh.bytes);
    entry.version.bytes = keep_bytes_ ? std::move(fresh.bytes) : std::string();
}

// A file's content at start-up: from disk, or - at a restart, when it is bad
// now - the version in force before the restart, which its CRLs also may not
// roll back from. The version before is parsed only when it is needed: the
// file is bad, or its bytes differ.
template <typename Entry, typename Parse, typename Merge>
void PolicyStore::start(Entry& entry, const Bundle* before, const LogSink& log, const char* what, Parse parse,
                        Merge merge) {
    const std::string& path = entry.source.path;
    const PolicyFile* previous_file = before ? before->find(path) : nullptr;
    // The version before, or nothing when the configuration changed since
    // (another issuer set: the old version no longer applies).
    const auto previous = [&]() -> std::optional<decltype(parse(std::string(), path))> {
        try {
            return parse(previous_file->bytes, path);
        } catch (const PolicyError&) {
            return std::nullopt;
        }
    };
    FileContent fresh;
    try {
        fresh = read_policy_file(path, what);
        entry.content = parse(fresh.bytes, path);
    } catch (const PolicyError& err) {
        auto kept = previous_file ? previous() : std::nullopt;
        if (!kept) throw PolicyError(label(entry.source) + ": " + err.what());
        entry.content = std::move(*kept);
        entry.version = *previous_file;
        entry.seen = FileStamp::of(path);  // tried again when it changes
        if (log) {
            log(LogLevel::Error, label(entry.source) + ": " + err.what() +
                                     "; the version in force before the restart stays in force");
        }
        return;
    }
    if (previous_file && previous_file->digest != sha256_of(fresh.bytes)) {
        if (auto kept = previous()) {
            auto merged = merge(*kept, std::move(entry.content));
            for (const auto& problem : merged.problems) {
                if (log) log(LogLevel::Error, label(entry.source) + ": " + path + ": " + problem);
            }
            entry.content = std::move(merged.content);
            if (merged.bytes) fresh.bytes = std::move(*merged.bytes);
        }
    }
    take(entry, std::move(fresh));
}

// One changed file, re-read by refresh(): true when what is in force for it
// changed. Unchanged files are left alone; a file changing while being read
// is tried next round; a missing or bad file is logged once per change.
template <typename Entry, typename Parse, typename Merge>
bool PolicyStore::reload(Entry& entry, const LogSink& log, const char* what, Parse parse, Merge merge) {
    const std::string& path = entry.source.path;
    const FileStamp stamp = FileStamp::of(path);
    if (stamp == entry.seen) return false;
    if (!stamp.exists) {
        entry.seen = stamp;
        log(LogLevel::Error, label(entry.source) + ": " + path + " has disappeared; its last good content stays in force");
        return false;
    }
    FileContent fresh;
    std::optional<decltype(parse(std::string(), path))> next;
    try {
        fresh = read_policy_file(path, what);
        if (sha256_of(fresh.bytes) == entry.version.digest) {
            // The same bytes again (a daily `cscguard publish` rewrites every
            // list): nothing to parse, and nothing new to hand on.
            if (FileStamp::of(path) == fresh.stamp) entry.seen = fresh.stamp;
            return false;
        }
        next = parse(fresh.bytes, path);
    } catch (const PolicyError& err) {
        if (FileStamp::of(path) != stamp) return false;  // changed meanwhile: judge the next version
        entry.seen = stamp;
        log(LogLevel::Error, label(entry.source) + ": " + err.what() + "; the last good version stays in force");
        return false;
    }
    if (FileStamp::of(path) != fresh.stamp) return false;  // still being written
    auto merged = merge(entry.content, std::move(*next));
    entry.seen = fresh.stamp;
    for (const auto& problem : merged.problems) log(LogLevel::Error, label(entry.source) + ": " + path + ": " + problem);
    if (!merged.changed) return false;
    entry.content = std::move(merged.content);
    if (merged.bytes) fresh.bytes = std::move(*merged.bytes);
    take(entry, std::move(fresh));
    return true;
}

PolicyStore::PolicyStore(std::vector<std::shared_ptr<const Issuer>> issuers, std::vector<AllowlistSource> allowlists,
                         std::vector<CrlSource> crls, std::time_t crl_grace, const Bundle* before, const LogSink& log)
    : issuers_(std::move(issuers)), crl_grace_(crl_grace) {
    for (const auto& issuer : issuers_) issuer_names_.push_back(issuer->name());
    const auto parse_list = [this](const std::string& b, const std::string& p) { return parse_allowlist_file(b, p); };
    const auto parse_crl = [this](const std::string& b, const std::string& p) { return parse_crl_file(b, p); };
    for (auto& source : allowlists) {
        for (const auto& seen : allowlists_) {
            if (seen.source.name == source.name) throw PolicyError(label(source) + ": the name is declared twice");
        }
        WatchedAllowlist entry{std::move(source), {}, {}, nullptr};
        start(entry, before, log, "allowlist", parse_list, take_allowlist);
        allowlists_.push_back(std::move(entry));
    }
    for (auto& source : crls) {
        WatchedCrl entry{std::move(source), {}, {}, {}};
        start(entry, before, log, "CRL", parse_crl, merge_crl_file);
        crls_.push_back(std::move(entry));
    }
    current_.store(build());
}

std::shared_ptr<const Policy> PolicyStore::build() const {
    std::map<std::string, std::shared_ptr<const SerialSet>> sets;
    for (const auto& a : allowlists_) sets.emplace(a.source.name, a.content);
    CrlSet lists;
    for (const auto& c : crls_) lists.insert(lists.end(), c.content.begin(), c.content.end());
    return std::make_shared<const Policy>(issuers_, std::move(sets), std::move(lists), crl_grace_);
}

bool PolicyStore::refresh(const LogSink& log) {
    const auto parse_list = [this](const std::string& b, const std::string& p) { return parse_allowlist_file(b, p); };
    const auto parse_crl = [this](const std::string& b, const std::string& p) { return parse_crl_file(b, p); };
    bool changed = false;
    for (auto& a : allowlists_) {
        if (!reload(a, log, "allowlist", parse_list, take_allowlist)) continue;
        changed = true;
        log(LogLevel::Info, label(a.source) + ": reloaded " + a.source.path + " (" +
                                std::to_string(a.content->size()) + " entries)");
    }
    for (auto& c : crls_) {
        if (!reload(c, log, "CRL", parse_crl, merge_crl_file)) continue;
        changed = true;
        std::size_t revoked = 0;
        for (const auto& l : c.content) revoked += l->revoked.size();
        log(LogLevel::Info, label(c.source) + ": reloaded " + c.source.path + " (" + std::to_string(revoked) +
                                " revoked serials)");
    }
    if (changed) current_.store(build(), std::memory_order_release);
    return changed;
}

std::string PolicyStore::configuration_id() const {
    std::string text;
    for (const auto& issuer : issuers_) {
        unsigned char* der = nullptr;
        const int len = i2d_X509(&issuer->certificate(), &der);
        text += "issuer " + issuer->name() + " " + (len > 0 ? std::string(reinterpret_cast<char*>(der), static_cast<std::size_t>(len)) : "") + "\n";
        OPENSSL_free(der);
    }
    for (const auto& a : allowlists_) text += "allowlist " + a.source.name + " " + a.source.path + "\n";
    for (const auto& c : crls_) text += "crl " + c.source.path + "\n";
    static const char* hex = "0123456789abcdef";
    std::string out;
    for (const unsigned char b : sha256_of(text)) {
        out += hex[b >> 4];
        out += hex[b & 15];
    }
    return out;
}

std::vector<const PolicyFile*> PolicyStore::versions() const {
    std::vector<const PolicyFile*> out;
    for (const auto& a : allowlists_) out.push_back(&a.version);
    for (const auto& c : crls_) out.push_back(&c.version);
    return out;
}

Bundle PolicyStore::bundle(std::uint64_t generation, std::string configuration) const {
    Bundle out;
    out.generation = generation;
    out.configuration = std::move(configuration);
    for (const auto& a : allowlists_) out.files.push_back(a.version);
    for (const auto& c : crls_) out.files.push_back(c.version);
    return out;
}

void PolicyStore::adopt(const Bundle& bundle) {
    // Parse everything first: a bundle is taken whole or not at all. A
    // version already held is not parsed again (most bundles change one file),
    // unless its bytes are wanted and not held.
    const auto changed = [this, &bundle](const auto& entry) -> const PolicyFile* {
        const PolicyFile* file = bundle.find(entry.source.path);
        if (!file) return nullptr;
        const bool held = file->digest == entry.version.digest && (!keep_bytes_ || !entry.version.bytes.empty() ||
                                                                   file->bytes.empty());
        return held ? nullptr : file;
    };
    std::vector<std::shared_ptr<const SerialSet>> lists(allowlists_.size());
    std::vector<CrlSet> crls(crls_.size());
    for (std::size_t i = 0; i < allowlists_.size(); ++i) {
        if (const PolicyFile* file = changed(allowlists_[i])) lists[i] = parse_allowlist_file(file->bytes, file->path);
    }
    for (std::size_t i = 0; i < crls_.size(); ++i) {
        if (const PolicyFile* file = changed(crls_[i])) crls[i] = parse_crl_file(file->bytes, file->path);
    }
    const auto keep = [this](auto& entry, const PolicyFile& file) {
        entry.seen = file.stamp;
        entry.version.path = file.path;
        entry.version.stamp = file.stamp;
        entry.version.digest = file.digest;
        entry.version.bytes = keep_bytes_ ? file.bytes : std::string();
    };
    for (std::size_t i = 0; i < allowlists_.size(); ++i) {
        if (!lists[i]) continue;
        allowlists_[i].content = std::move(lists[i]);
        keep(allowlists_[i], *bundle.find(allowlists_[i].source.path));
    }
    for (std::size_t i = 0; i < crls_.size(); ++i) {
        if (crls[i].empty()) continue;
        crls_[i].content = std::move(crls[i]);
        keep(crls_[i], *bundle.find(crls_[i].source.path));
    }
    current_.store(build(), std::memory_order_release);
}

void PolicyStore::forget_bytes() {
    keep_bytes_ = false;
    for (auto& a : allowlists_) std::string().swap(a.version.bytes);
    for (auto& c : crls_) std::string().swap(c.version.bytes);
}

}  // namespace cscguard
