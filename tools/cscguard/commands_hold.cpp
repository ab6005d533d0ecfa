// suspend and resume: a revocation that can be taken back (CRLReason
// certificateHold), for a certificate that should be blocked now and may
// come back, without issuing a new one.
#include "tools/cscguard/cache_push.h"
#include "tools/cscguard/commands.h"
#include "tools/cscguard/json.h"
#include "tools/cscguard/tool_error.h"

namespace cscguard::tool {
namespace {

constexpr const char* kHold = "certificateHold";

const std::set<std::string> kValueOptions{"serial", "push", "push-max-age"};
const std::set<std::string> kFlags{"publish", "no-push"};

// The suspended certificates meant: --serial S, or every one named NAME.
std::vector<Record*> suspended(Ca& ca, const Args& args) {
    if (const auto serial = args.value("serial")) {
        Record& r = ca.find(std::nullopt, serial);
        if (!r.revoked()) throw ToolError(kConflict, "serial " + r.serial + " is not suspended: it is not revoked");
        if (r.reason != kHold) {
            throw ToolError(kConflict, "serial " + r.serial + " is revoked (" + (r.reason.empty() ? "unspecified" : r.reason) +
                                           "), not suspended: only a certificateHold is taken back");
        }
        return {&r};
    }
    const std::string& name = args.need(0, "NAME or --serial S");
    std::vector<Record*> held;
    for (Record& r : ca.records) {
        if (r.revoked() && r.reason == kHold && r.name() == name) held.push_back(&r);
    }
    if (held.empty()) {
        throw ToolError(kNotFound, "no suspended certificate named '" + name + "' (see `cscguard list --revoked`)");
    }
    return held;
}

}  // namespace

int cmd_suspend(Context& ctx, const Words& words) {
    const Args args(words, kValueOptions, kFlags);
    return revoke_records(ctx, args, kHold);
}

int cmd_resume(Context& ctx, const Words& words) {
    const Args args(words, kValueOptions, kFlags);
    args.at_most(1);
    CaDir::Lock lock(ctx.dir, true, ctx.lock_timeout);
    Ca ca(ctx);
    const std::string publish_dir = args.flag("publish") ? ca.publish_dir() : "";
    const auto push = push_target(ca, args);
    const std::vector<Record*> targets = suspended(ca, args);
    // Valid again: the next CRL leaves it out (a full CRL has no
    // removeFromCRL entries; RFC 5280 5.3.1 keeps those for delta CRLs).
    std::vector<std::string> serials;
    for (Record* r : targets) {
        r->status = 'V';
        r->revoked_at = 0;
        r->reason.clear();
        serials.push_back(r->serial);
    }
    ca.save();
    std::string published;
    if (!publish_dir.empty()) published = publish_files(ca, publish_dir).dir;
    const PushOutcome pushed = push_recorded(ca, push, std::vector<const Record*>(targets.begin(), targets.end()));
    if (ctx.json) {
        JsonObject json;
        json.add("resumed", serials).add("published", !published.empty());
        add_push_json(json, pushed);
        ctx.out << json.str() << "\n";
    } else {
        for (const auto& s : serials) ctx.out << "resumed " << s << " (no longer on hold)\n";
        ctx.out << (published.empty() ? "run `cscguard publish` to write a CRL without it for httpd\n"
                                      : "published the new CRL in " + published + "\n");
        ctx.out << push_report(pushed);
    }
    throw_if_push_failed(pushed, std::string("The certificate is valid again in the database") +
                                     (published.empty() ? "" : " and the published CRL") +
                                     ", but the cache still says it is revoked");
    return kOk;
}

}  // namespace cscguard::tool
