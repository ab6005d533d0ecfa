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

// Allowlists carry no version: any good new content replaces the old.
const auto no_check = [](const auto&, const auto&, const std::string&) {};

const auto check_crls = [](const CrlSet& in_force, const CrlSet& next, const std::string& path) {
    try {
        check_crl_succession(in_force, next);
    } catch (const PolicyError& err) {
        throw PolicyError(path + ": " + err.what());
    }
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

// Sharing a version must never change what is in force here.
void PolicyStore::record(const std::string& path, const FileContent& fresh, const LogSink& log) const {
    if (!versions_) return;
    try {
        versions_->record(path, fresh.stamp, fresh.bytes);
    } catch (const std::exception& err) {
        if (log) log(LogLevel::Warning, "cannot record the version of " + path + " it accepted: " + err.what());
    }
}

// A file's content at start-up: from disk, or - at a restart, when it is bad
// now or its CRLs would roll back - the version accepted before the restart.
template <typename Entry, typename Parse, typename Check>
void PolicyStore::start(Entry& entry, Start start, const LogSink& log, const char* what, Parse parse, Check check) {
    const std::string& path = entry.source.path;
    std::optional<AcceptedVersion> before;
    std::optional<decltype(parse(std::string(), path))> previous;
    if (start == Start::Restart && versions_ && (before = versions_->find(path))) {
        try {
            previous = parse(before->bytes, path);
        } catch (const PolicyError&) {
            // The configuration changed (another issuer set): the old version no longer applies.
        }
    }
    FileContent fresh;
    try {
        fresh = read_policy_file(path, what);
        auto content = parse(fresh.bytes, path);
        if (previous) check(*previous, content, path);
        entry.content = std::move(content);
        entry.seen = entry.version = fresh.stamp;
    } catch (const PolicyError& err) {
        if (!previous) throw PolicyError(label(entry.source) + ": " + err.what());
        entry.content = std::move(*previous);
        entry.version = before->stamp;
        entry.seen = FileStamp::of(path);  // tried again when it changes
        if (log) {
            log(LogLevel::Error, label(entry.source) + ": " + err.what() +
                                     "; the version accepted before the restart stays in force");
        }
        return;
    }
    record(path, fresh, log);
}

// Takes the version another process recorded when it is newer than the one
// in force here: a child forked after a file went bad never saw it. Judged
// by the file's modification time, and for CRLs by check_crl_succession.
template <typename Entry, typename Parse, typename Check>
bool PolicyStore::catch_up(Entry& entry, Parse parse, Check check) const {
    if (!versions_) return false;
    const std::string& path = entry.source.path;
    std::optional<AcceptedVersion> recorded;
    try {
        recorded = versions_->find(path);
    } catch (const std::exception&) {
        return false;
    }
    if (!recorded || recorded->stamp == entry.version || recorded->stamp.mtime_ns < entry.version.mtime_ns) return false;
    try {
        auto content = parse(recorded->bytes, path);
        check(entry.content, content, path);
        entry.content = std::move(content);
        entry.version = recorded->stamp;
        return true;
    } catch (const PolicyError&) {
        return false;  // an older CRL, or a record of another configuration: ours stays
    }
}

// One changed file, re-read by refresh(): true when what is in force for it
// changed. Unchanged files are left alone; a file changing while being read
// is tried next round; a missing or bad file is logged once per change.
template <typename Entry, typename Parse, typename Check>
bool PolicyStore::reload(Entry& entry, const LogSink& log, const char* what, Parse parse, Check check) {
    const std::string& path = entry.source.path;
    const FileStamp stamp = FileStamp::of(path);
    if (stamp == entry.seen) return false;
    bool changed = catch_up(entry, parse, check);
    if (!stamp.exists) {
        entry.seen = stamp;
        log(LogLevel::Error, label(entry.source) + ": " + path + " has disappeared; its last good content stays in force");
        return changed;
    }
    if (stamp == entry.version) {  // the version just caught up with
        entry.seen = stamp;
        return changed;
    }
    FileContent fresh;
    try {
        fresh = read_policy_file(path, what);
        auto content = parse(fresh.bytes, path);
        if (FileStamp::of(path) != fresh.stamp) return changed;  // still being written
        check(entry.content, content, path);
        entry.content = std::move(content);
        entry.seen = entry.version = fresh.stamp;
    } catch (const PolicyError& err) {
        if (FileStamp::of(path) != stamp) return changed;  // changed meanwhile: judge the next version
        entry.seen = stamp;
        log(LogLevel::Error, label(entry.source) + ": " + err.what() + "; the last good version stays in force");
        return changed;
    }
    record(path, fresh, log);
    return true;
}

PolicyStore::PolicyStore(std::vector<std::shared_ptr<const Issuer>> issuers, std::vector<AllowlistSource> allowlists,
                         std::vector<CrlSource> crls, std::time_t crl_grace, const VersionRecord* versions,
                         Start start_kind, const LogSink& log)
    : issuers_(std::move(issuers)), crl_grace_(crl_grace), versions_(versions) {
    for (const auto& issuer : issuers_) issuer_names_.push_back(issuer->name());
    const auto parse_list = [this](const std::string& b, const std::string& p) { return parse_allowlist_file(b, p); };
    const auto parse_crl = [this](const std::string& b, const std::string& p) { return parse_crl_file(b, p); };
    for (auto& source : allowlists) {
        for (const auto& seen : allowlists_) {
            if (seen.source.name == source.name) throw PolicyError(label(source) + ": the name is declared twice");
        }
        WatchedAllowlist entry{std::move(source), {}, {}, nullptr};
        start(entry, start_kind, log, "allowlist", parse_list, no_check);
        allowlists_.push_back(std::move(entry));
    }
    for (auto& source : crls) {
        WatchedCrl entry{std::move(source), {}, {}, {}};
        start(entry, start_kind, log, "CRL", parse_crl, check_crls);
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
        if (!reload(a, log, "allowlist", parse_list, no_check)) continue;
        changed = true;
        log(LogLevel::Info, label(a.source) + ": reloaded " + a.source.path + " (" +
                                std::to_string(a.content->size()) + " entries)");
    }
    for (auto& c : crls_) {
        if (!reload(c, log, "CRL", parse_crl, check_crls)) continue;
        changed = true;
        std::size_t revoked = 0;
        for (const auto& l : c.content) revoked += l->revoked.size();
        log(LogLevel::Info, label(c.source) + ": reloaded " + c.source.path + " (" + std::to_string(revoked) +
                                " revoked serials)");
    }
    if (changed) current_.store(build(), std::memory_order_release);
    return changed;
}

}  // namespace cscguard
