#include "policy_store.h"

#include <optional>

#include <sys/stat.h>

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

std::vector<std::shared_ptr<const RevocationList>> shared(std::vector<RevocationList> lists) {
    std::vector<std::shared_ptr<const RevocationList>> out;
    for (auto& list : lists) out.push_back(std::make_shared<const RevocationList>(std::move(list)));
    return out;
}

// Loads one changed file for refresh(). Nothing when the file is unchanged,
// missing or bad (both logged once), or changed again while being read (it is
// tried again next round).
template <typename Entry, typename Load>
auto reload(Entry& entry, const LogSink& log, Load&& load) -> std::optional<decltype(load())> {
    const FileStamp stamp = FileStamp::of(entry.source.path);
    if (stamp == entry.stamp) return std::nullopt;
    if (!stamp.exists) {
        entry.stamp = stamp;
        log(LogLevel::Error, label(entry.source) + ": " + entry.source.path +
                                 " has disappeared; its last good content stays in force");
        return std::nullopt;
    }
    try {
        auto loaded = load();
        if (FileStamp::of(entry.source.path) != stamp) return std::nullopt;  // still being written
        entry.stamp = stamp;
        return loaded;
    } catch (const PolicyError& err) {
        entry.stamp = stamp;
        log(LogLevel::Error, label(entry.source) + ": " + err.what() + "; the last good version stays in force");
        return std::nullopt;
    }
}

}  // namespace

FileStamp FileStamp::of(const std::string& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return {};
    FileStamp stamp;
    stamp.exists = true;
    stamp.device = st.st_dev;
    stamp.inode = st.st_ino;
    stamp.size = static_cast<unsigned long long>(st.st_size);
    stamp.mtime_ns = static_cast<long long>(st.st_mtim.tv_sec) * 1000000000LL + st.st_mtim.tv_nsec;
    return stamp;
}

PolicyStore::PolicyStore(std::vector<std::shared_ptr<const Issuer>> issuers, std::vector<AllowlistSource> allowlists,
                         std::vector<CrlSource> crls, std::time_t crl_grace)
    : issuers_(std::move(issuers)), crl_grace_(crl_grace) {
    for (const auto& issuer : issuers_) issuer_names_.push_back(issuer->name());
    for (auto& source : allowlists) {
        for (const auto& seen : allowlists_) {
            if (seen.source.name == source.name) throw PolicyError(label(source) + ": the name is declared twice");
        }
        Allowlist entry{std::move(source), {}, nullptr};
        entry.stamp = FileStamp::of(entry.source.path);
        try {
            entry.set = std::make_shared<const SerialSet>(load_allowlist(entry.source.path, issuer_names_));
        } catch (const PolicyError& err) {
            throw PolicyError(label(entry.source) + ": " + err.what());
        }
        allowlists_.push_back(std::move(entry));
    }
    for (auto& source : crls) {
        Crl entry{std::move(source), {}, {}};
        entry.stamp = FileStamp::of(entry.source.path);
        try {
            entry.lists = shared(load_crls(entry.source.path, issuers_));
        } catch (const PolicyError& err) {
            throw PolicyError(label(entry.source) + ": " + err.what());
        }
        crls_.push_back(std::move(entry));
    }
    current_.store(build());
}

std::shared_ptr<const Policy> PolicyStore::build() const {
    std::map<std::string, std::shared_ptr<const SerialSet>> sets;
    for (const auto& a : allowlists_) sets.emplace(a.source.name, a.set);
    std::vector<std::shared_ptr<const RevocationList>> lists;
    for (const auto& c : crls_) lists.insert(lists.end(), c.lists.begin(), c.lists.end());
    return std::make_shared<const Policy>(issuers_, std::move(sets), std::move(lists), crl_grace_);
}

bool PolicyStore::refresh(const LogSink& log) {
    bool changed = false;
    for (auto& a : allowlists_) {
        auto fresh = reload(a, log, [&] {
            return std::make_shared<const SerialSet>(load_allowlist(a.source.path, issuer_names_));
        });
        if (!fresh) continue;
        a.set = std::move(*fresh);
        changed = true;
        log(LogLevel::Info, label(a.source) + ": reloaded " + a.source.path + " (" +
                                std::to_string(a.set->size()) + " entries)");
    }
    for (auto& c : crls_) {
        auto fresh = reload(c, log, [&] { return shared(load_crls(c.source.path, issuers_)); });
        if (!fresh) continue;
        c.lists = std::move(*fresh);
        changed = true;
        std::size_t revoked = 0;
        for (const auto& l : c.lists) revoked += l->revoked.size();
        log(LogLevel::Info, label(c.source) + ": reloaded " + c.source.path + " (" + std::to_string(revoked) +
                                " revoked serials)");
    }
    if (changed) current_.store(build(), std::memory_order_release);
    return changed;
}

}  // namespace cscguard
