// push: the whole CA into the fleet's revocation cache, for a cache that is
// new, was flushed or restarted empty, or missed a `revoke --push`.
#include "tools/cscguard/cache_push.h"
#include "tools/cscguard/commands.h"
#include "tools/cscguard/json.h"
#include "tools/cscguard/tool_error.h"

namespace cscguard::tool {

int cmd_push(Context& ctx, const Words& words) {
    Args args(words, {"push-max-age"}, {"save"});
    args.at_most(1);
    // Only --save changes the CA directory; a plain push reads it, as list does.
    CaDir::Lock lock(ctx.dir, args.flag("save"), ctx.lock_timeout);
    Ca ca(ctx);
    PushTarget target;
    if (!args.positional().empty()) {
        target.url = redis_url(args.positional()[0], "push URL");
    } else if (!ca.settings.push.empty()) {
        target.url = redis_url(ca.settings.push, ctx.dir.path("cscguard.conf") + ": push");
    } else {
        throw ToolError(kUsage, ca.settings.name + " has no push setting: give the cache, `cscguard push redis://HOST[:PORT]` "
                                                   "(add --save to keep it for revoke and push)");
    }
    target.max_age_days = args.value("push-max-age") ? args.days_value_or("push-max-age", 1) : ca.settings.push_max_age_days;
    PushResult result;
    try {
        result = push_all(ca, target);
    } catch (const RedisError& e) {
        throw ToolError(kFailure, "cannot push to " + target.url.text + ": " + e.what());
    }
    if (args.flag("save")) {
        ca.settings.push = target.url.text;
        ca.settings.push_max_age_days = target.max_age_days;
        ctx.dir.save_settings(ca.settings);
    }
    if (ctx.json) {
        ctx.out << JsonObject().add("push", target.url.text).add("written", static_cast<long long>(result.written))
                       .add("removed", result.removed).add("skipped_expired", static_cast<long long>(result.expired))
                       .add("saved", args.flag("save")).str() << "\n";
    } else {
        ctx.out << describe_push(result, target) << "\n";
        if (args.flag("save")) ctx.out << "saved " << target.url.text << " as the push setting of " << ca.settings.name << "\n";
    }
    return kOk;
}

}  // namespace cscguard::tool
