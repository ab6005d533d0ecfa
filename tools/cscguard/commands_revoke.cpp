// revoke, publish, crl: what takes certificates away and tells httpd.
#include <algorithm>
#include <cerrno>
#include <map>
#include <optional>
#include <sstream>
#include <sys/stat.h>

#include "policy/allowlist.h"
#include "tools/cscguard/args.h"
#include "tools/cscguard/cache_push.h"
#include "tools/cscguard/commands.h"
#include "policy/crl_reason.h"
#include "policy/issuer.h"
#include "tools/cscguard/json.h"
#include "tools/cscguard/tool_error.h"

namespace cscguard::tool {
namespace {

std::string crl_of(Ca& ca) {
    std::vector<Record> revoked;
    for (const auto& r : ca.records) {
        if (r.revoked()) revoked.push_back(r);
    }
    return build_crl_pem(*ca.cert, ca.key(), revoked, ca.ctx.dir.next_crl_number(), ca.settings.crl_days, ca.ctx.now);
}

// httpd's children (www-data) re-read published files: every directory on the
// way must let others through.
std::string unreadable_by_httpd(const std::string& dir) {
    std::string path;
    for (std::size_t pos = 0; pos != std::string::npos;) {
        pos = dir.find('/', pos + 1);
        path = dir.substr(0, pos);
        struct stat st {};
        if (!path.empty() && ::stat(path.c_str(), &st) == 0 && !(st.st_mode & S_IXOTH)) return path;
    }
    return {};
}

bool exists(const std::string& path) {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0;
}

// The CA that owns a publish directory.
struct Owner {
    std::string name;
    std::string fingerprint;  // SHA-256 of its certificate
    bool marked = false;      // from the marker; else from a ca.crt an older cscguard published
};

std::string marker_text(const std::string& name, const std::string& fingerprint) {
    return "# The cscguard CA below publishes here (crl.pem, ca.crt, *.list for mod_cscguard).\n"
           "# Another CA must publish elsewhere: two CAs here would overwrite each other's files.\n"
           "ca = " + name + "\nsha256 = " + fingerprint + "\n";
}

std::string common_name_of(X509& cert) {
    char cn[256] = "";
    return X509_NAME_get_text_by_NID(X509_get_subject_name(&cert), NID_commonName, cn, sizeof cn) > 0 ? cn : "?";
}

// Who owns `dir`: its marker, else the ca.crt in it; nobody when it has neither.
std::optional<Owner> owner_of(const std::string& dir) {
    const std::string marker = dir + "/" + kOwnerMarker;
    if (exists(marker)) {
        Owner owner;
        owner.marked = true;
        std::istringstream in(read_file(marker));
        for (std::string line; std::getline(in, line);) {
            if (line.rfind("ca = ", 0) == 0) owner.name = line.substr(5);
            if (line.rfind("sha256 = ", 0) == 0) owner.fingerprint = line.substr(9);
        }
        if (owner.name.empty() || owner.fingerprint.empty()) {
            throw ToolError(kConflict, marker + ": no 'ca = ' or 'sha256 = ' line; refusing to publish into " + dir +
                                           " (remove the file only if no other CA publishes there)");
        }
        return owner;
    }
    const std::string crt = dir + "/ca.crt";
    if (!exists(crt)) return std::nullopt;
    try {
        X509Ptr cert = load_certificate(read_file(crt), crt);
        return Owner{common_name_of(*cert), sha256_fingerprint(*cert), false};
    } catch (const ToolError& e) {
        throw ToolError(kConflict, std::string(e.what()) + "; refusing to publish over it");
    }
}

ToolError owned_elsewhere(const std::string& dir, const Owner& owner, const std::string& hint) {
    const std::string how = owner.marked ? "(see " + dir + "/" + kOwnerMarker + ")"
                                         : "(its ca.crt; no " + std::string(kOwnerMarker) + ": an older cscguard published it)";
    return ToolError(kConflict, dir + " is the publish directory of CA '" + owner.name + "', sha256 " + owner.fingerprint + " " +
                                    how + ": two CAs there would overwrite each other's ca.crt, crl.pem and all.list. " + hint);
}

// Marks `dir` as this CA's publish directory, or refuses when another CA owns it.
void claim_publish_dir(const std::string& dir, Ca& ca) {
    const std::string ours = sha256_fingerprint(*ca.cert);
    const std::string hint = "Publish " + ca.settings.name + " elsewhere (publish --out DIR; cscguard.conf's publish_dir)";
    for (int look = 0; look < 2; ++look) {
        const auto owner = owner_of(dir);
        if (owner && owner->fingerprint != ours) throw owned_elsewhere(dir, *owner, hint);
        if (owner && owner->marked) return;
        // Free, or ours without a marker yet: mark it, unless another CA marks it first.
        if (create_file_exclusive(dir + "/" + kOwnerMarker, marker_text(ca.settings.name, ours), 0644)) return;
    }
    throw ToolError(kConflict, dir + "/" + kOwnerMarker + " keeps changing: is another CA publishing there?");
}

bool ends_with(const std::string& text, const std::string& suffix) {
    return text.size() > suffix.size() && text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// Due for a refresh when less than a third of its validity is left.
bool crl_due(const CrlDates& s, std::time_t now) {
    return now + (s.next_update - s.this_update) / 3 >= s.next_update;
}

}  // namespace

void check_publish_dir_unclaimed(const std::string& dir) {
    if (const auto owner = owner_of(dir)) {
        throw owned_elsewhere(dir, *owner, "Give init another --publish-dir (if that CA is gone for good, empty the directory first)");
    }
}

Published publish_files(Ca& ca, const std::string& out_dir) {
    make_directories(out_dir, 0755);
    claim_publish_dir(out_dir, ca);
    Published pub;
    pub.dir = out_dir;
    // The CRL first, before the lists are even built: a revocation must not
    // wait for them, nor be held back by a record a list cannot take.
    const std::string crl = crl_of(ca);
    write_file_atomic(ca.ctx.dir.path("crl.pem"), crl, 0644);
    write_file_atomic(out_dir + "/crl.pem", crl, 0644);
    const std::string issuer = ca.settings.name;
    std::string all = format_allowlist_comment("all valid client certificates of " + issuer + "; written by `cscguard publish`");
    // A group's list is rewritten even when it has no valid member left (its
    // last one revoked or expired): a stale list would keep allowing it.
    std::map<std::string, std::string> groups;
    const auto add_group = [&](const std::string& g) {
        if (!is_valid_name(g) || g == "all") return;
        groups.emplace(g, format_allowlist_comment("group " + g + " of " + issuer + "; written by `cscguard publish`"));
    };
    for (const auto& r : ca.records) {
        for (const auto& g : r.groups()) add_group(g);
    }
    for (const auto& file : directory_entries(out_dir)) {
        if (ends_with(file, ".list")) add_group(file.substr(0, file.size() - 5));
    }
    for (const auto& r : ca.records) {
        if (r.revoked()) ++pub.revoked;
        if (r.kind != "client" || !r.valid_at(ca.ctx.now)) continue;
        const std::string line = format_allowlist_entry(issuer, r.serial, r.name());
        all += line;
        ++pub.listed;
        for (const auto& g : r.groups()) {
            if (groups.count(g)) groups[g] += line;
        }
    }
    write_file_atomic(out_dir + "/ca.crt", read_file(ca.ctx.dir.path("ca.crt")), 0644);
    write_file_atomic(out_dir + "/all.list", all, 0644);
    for (const auto& [group, text] : groups) {
        write_file_atomic(out_dir + "/" + group + ".list", text, 0644);
        pub.groups.push_back(group);
    }
    return pub;
}

int revoke_records(Context& ctx, const Args& args, const std::string& reason) {
    args.at_most(1);
    CaDir::Lock lock(ctx.dir, true, ctx.lock_timeout);
    Ca ca(ctx);
    // Both refused before anything changes.
    const std::string publish_dir = args.flag("publish") ? ca.publish_dir() : "";
    const auto push = push_target(ca, args);
    std::vector<Record*> targets;
    if (const auto serial = args.value("serial")) {
        Record& r = ca.find(std::nullopt, serial);
        if (r.revoked()) throw ToolError(kConflict, "serial " + r.serial + " is already revoked");
        targets.push_back(&r);
    } else {
        const std::string& name = args.need(0, "NAME or --serial S");
        targets = ca.valid_named(name);
        if (targets.empty()) throw ToolError(kNotFound, "no valid certificate named '" + name + "' to revoke");
    }
    for (Record* r : targets) {
        r->status = 'R';
        r->revoked_at = ctx.now;
        r->reason = reason;
    }
    ca.save();
    std::vector<std::string> serials;
    for (Record* r : targets) serials.push_back(r->serial);
    std::string published;
    if (!publish_dir.empty()) published = publish_files(ca, publish_dir).dir;
    // Last: the cache is the fast path, the database and the CRL the record.
    const PushOutcome pushed = push_recorded(ca, push, std::vector<const Record*>(targets.begin(), targets.end()));
    if (ctx.json) {
        JsonObject json;
        json.add("revoked", serials).add("reason", reason).add("published", !published.empty());
        add_push_json(json, pushed);
        ctx.out << json.str() << "\n";
    } else {
        for (const auto& s : serials) ctx.out << "revoked " << s << " (" << reason << ")\n";
        ctx.out << (published.empty() ? "run `cscguard publish` to write the new CRL for httpd\n"
                                      : "published the new CRL in " + published + "\n");
        ctx.out << push_report(pushed);
    }
    throw_if_push_failed(pushed, std::string("The revocation is recorded") + (published.empty() ? "" : " and published"));
    return kOk;
}

int cmd_revoke(Context& ctx, const Words& words) {
    Args args(words, {"serial", "reason", "push", "push-max-age"}, {"publish", "no-push"});
    const std::string reason = args.value_or("reason", "unspecified");
    if (!is_revocation_reason(reason)) {
        throw ToolError(kUsage, "--reason '" + reason + "': use keyCompromise, superseded, affiliationChanged, "
                                                       "cessationOfOperation, privilegeWithdrawn, certificateHold or unspecified");
    }
    return revoke_records(ctx, args, reason);
}

int cmd_publish(Context& ctx, const Words& words) {
    Args args(words, {"out"}, {});
    args.at_most(0);
    CaDir::Lock lock(ctx.dir, true, ctx.lock_timeout);
    Ca ca(ctx);
    const auto out = args.value("out");
    const Published pub = publish_files(ca, out ? absolute_path(*out) : ca.publish_dir());
    const std::string blocked = unreadable_by_httpd(pub.dir);
    if (ctx.json) {
        std::vector<std::string> lists{"all"};
        lists.insert(lists.end(), pub.groups.begin(), pub.groups.end());
        ctx.out << JsonObject().add("dir", pub.dir).add("listed", static_cast<long long>(pub.listed))
                       .add("revoked", static_cast<long long>(pub.revoked)).add("allowlists", lists).str() << "\n";
        return kOk;
    }
    ctx.out << "published " << pub.listed << " valid client certificates and a CRL of " << pub.revoked
            << " revoked in " << pub.dir << "\n\n# httpd configuration that uses them:\n"
            << "CSCGuardIssuer " << ca.settings.name << " " << pub.dir << "/ca.crt\n"
            << "CSCGuardCRL " << pub.dir << "/crl.pem\n"
            << "CSCGuardAllowlist all " << pub.dir << "/all.list\n";
    for (const auto& g : pub.groups) ctx.out << "CSCGuardAllowlist " << g << " " << pub.dir << "/" << g << ".list\n";
    ctx.out << "# then e.g.  Require cscguard-allowlist " << (pub.groups.empty() ? "all" : pub.groups.front()) << "\n";
    if (!blocked.empty()) {
        ctx.err << "warning: " << blocked << " does not let other users through (no o+x): httpd's children cannot "
                << "re-read these files after a change; publish elsewhere with --out DIR\n";
    }
    return kOk;
}

int cmd_crl(Context& ctx, const Words& words) {
    Args args(words, {}, {"if-due"});
    const std::string what = args.need(0, "status or refresh");
    args.at_most(1);
    if (what == "status") {
        CaDir::Lock lock(ctx.dir, false, ctx.lock_timeout);
        Ca ca(ctx);
        const CrlDates s = read_crl_dates(read_file(ctx.dir.path("crl.pem")), ctx.dir.path("crl.pem"));
        const long long left = static_cast<long long>(s.next_update - ctx.now);
        const bool due = crl_due(s, ctx.now);
        if (ctx.json) {
            ctx.out << JsonObject().add("next_update", format_asn1_time(s.next_update)).add("seconds_left", left)
                           .add("due", due).add("stale", left < 0).str() << "\n";
        } else {
            ctx.out << "CRL of " << ca.settings.name << ": nextUpdate " << format_asn1_time(s.next_update) << ", "
                    << (left < 0 ? "STALE since " + std::to_string(-left / 3600) + " h"
                                 : std::to_string(left / 86400) + " days left")
                    << (due ? " - refresh it now: cscguard crl refresh" : "") << "\n";
        }
        return due ? kCrlDue : kOk;
    }
    if (what != "refresh") throw ToolError(kUsage, "crl status | crl refresh [--if-due]");
    CaDir::Lock lock(ctx.dir, true, ctx.lock_timeout);
    Ca ca(ctx);
    const std::string publish_dir = ca.publish_dir();
    if (args.flag("if-due") && !crl_due(read_crl_dates(read_file(ctx.dir.path("crl.pem")), ctx.dir.path("crl.pem")), ctx.now)) {
        if (!ctx.json) ctx.out << "CRL not due yet; nothing written\n";
        else ctx.out << JsonObject().add("refreshed", false).str() << "\n";
        return kOk;
    }
    const Published pub = publish_files(ca, publish_dir);
    if (ctx.json) ctx.out << JsonObject().add("refreshed", true).add("dir", pub.dir).str() << "\n";
    else ctx.out << "refreshed the CRL (and allowlists) in " << pub.dir << "\n";
    return kOk;
}

}  // namespace cscguard::tool
