#include "tools/cscguard/cache_push.h"

#include <algorithm>

#include "policy/cache_entry.h"
#include "policy/error.h"
#include "policy/serial.h"
#include "tools/cscguard/tool_error.h"

namespace cscguard::tool {
namespace {

constexpr std::time_t kDay = 86400;

std::string key_of(const Bytes& issuer, const Record& r) {
    return redis_key(cache_entry_id(issuer, Serial::parse(r.serial)));
}

// The entry of a revoked certificate, or nothing when it would have expired
// by `now`. It lives until the certificate expires (after that no
// verification passes, so the entry says nothing), or `max_age_days` after
// the revocation when sooner (the CRL keeps it for good). Counting the age
// from the revocation, not from the push, makes a push give every entry the
// same expiry the revoke gave it.
std::optional<RedisSet> entry_of(const Bytes& issuer, const Record& r, std::time_t now, int max_age_days) {
    std::time_t until = r.expires;
    if (max_age_days > 0) until = std::min(until, r.revoked_at + static_cast<std::time_t>(max_age_days) * kDay);
    if (until <= now) return std::nullopt;
    const CachedRevocation entry{r.reason.empty() ? "unspecified" : r.reason, r.revoked_at};
    return RedisSet{key_of(issuer, r), format_cache_entry(entry), static_cast<long long>(until - now)};
}

RedisSet marker(const Bytes& issuer, std::time_t now) {
    return RedisSet{redis_key(cache_marker_id(issuer)), format_cache_marker(now), 0};
}

// Sends what `records` are now: the entries of the revoked, no entry for the
// valid (a suspension taken back), then the marker.
PushResult send(RedisClient& client, const Ca& ca, const PushTarget& target, const std::vector<const Record*>& records) {
    const Bytes issuer = issuer_key_id(*ca.cert);
    const std::time_t now = ca.ctx.now;
    PushResult result;
    std::vector<RedisSet> entries;
    std::vector<std::string> cleared;
    for (const Record* r : records) {
        if (!r->revoked()) {
            if (r->valid_at(now)) cleared.push_back(key_of(issuer, *r));
        } else if (auto entry = entry_of(issuer, *r, now, target.max_age_days)) {
            entries.push_back(std::move(*entry));
        } else {
            ++result.expired;
        }
    }
    client.set(entries);
    result.written = entries.size();
    result.removed = client.del(cleared);
    client.set({marker(issuer, now)});
    return result;
}

std::vector<const Record*> every_record(const Ca& ca) {
    std::vector<const Record*> all;
    for (const Record& r : ca.records) all.push_back(&r);
    return all;
}

}  // namespace

std::optional<PushTarget> push_target(const Ca& ca, const Args& args) {
    if (args.flag("no-push")) {
        if (args.value("push") || args.value("push-max-age")) {
            throw ToolError(kUsage, "--no-push with --push or --push-max-age: give one or the other");
        }
        return std::nullopt;
    }
    PushTarget target;
    if (const auto url = args.value("push")) {
        target.url = redis_url(*url, "--push");
    } else if (!ca.settings.push.empty()) {
        target.url = redis_url(ca.settings.push, ca.ctx.dir.path("cscguard.conf") + ": push");
    } else {
        if (args.value("push-max-age")) {
            throw ToolError(kUsage, "--push-max-age without a cache to push to: give --push redis://HOST[:PORT] too, "
                                    "or store one with `cscguard push URL --save`");
        }
        return std::nullopt;
    }
    target.max_age_days = args.value("push-max-age") ? args.days_value_or("push-max-age", 1) : ca.settings.push_max_age_days;
    return target;
}

PushResult push_changes(const Ca& ca, const PushTarget& target, const std::vector<const Record*>& changed) {
    RedisClient client(target.url);
    if (!client.exists(redis_key(cache_marker_id(issuer_key_id(*ca.cert))))) {
        PushResult result = send(client, ca, target, every_record(ca));
        result.whole = true;
        return result;
    }
    return send(client, ca, target, changed);
}

PushResult push_all(const Ca& ca, const PushTarget& target) {
    RedisClient client(target.url);
    PushResult result = send(client, ca, target, every_record(ca));
    result.whole = true;
    return result;
}

std::string describe_push(const PushResult& result, const PushTarget& target) {
    std::string text = "pushed " + std::to_string(result.written) + (result.written == 1 ? " entry" : " entries");
    if (result.whole) text += " (every revoked, unexpired certificate)";
    text += " and the marker to " + target.url.text;
    if (result.removed > 0) {
        text += "; removed " + std::to_string(result.removed) + (result.removed == 1 ? " entry" : " entries") +
                " of certificates valid again";
    }
    if (result.expired > 0) {
        text += "; skipped " + std::to_string(result.expired) + " revoked " + (result.expired == 1 ? "certificate" : "certificates") +
                (target.max_age_days > 0 ? " expired or revoked more than " + std::to_string(target.max_age_days) + " days ago"
                                         : " expired");
    }
    return text;
}

PushOutcome push_recorded(const Ca& ca, const std::optional<PushTarget>& target, const std::vector<const Record*>& changed) {
    PushOutcome outcome;
    outcome.target = target;
    if (!target) return outcome;
    try {
        outcome.result = push_changes(ca, *target, changed);
    } catch (const RedisError& e) {
        outcome.error = "cannot push to " + target->url.text + ": " + e.what();
    } catch (const PolicyError& e) {  // a CA key id too long to name an entry
        outcome.error = "cannot push to " + target->url.text + ": " + e.what();
    }
    return outcome;
}

std::string push_report(const PushOutcome& outcome) {
    if (!outcome.target || !outcome.error.empty()) return "";
    std::string text;
    if (outcome.result.whole) {
        text = "the cache at " + outcome.target->url.text +
               " held no cscguard marker (new, flushed or restarted empty): sent every revocation of this CA\n";
    }
    return text + describe_push(outcome.result, *outcome.target) + "\n";
}

void add_push_json(JsonObject& json, const PushOutcome& outcome) {
    json.add("push", outcome.target ? outcome.target->url.text : "");
    json.add("pushed", static_cast<long long>(outcome.error.empty() ? outcome.result.written : 0));
    json.add("push_removed", outcome.error.empty() ? outcome.result.removed : 0LL);
    if (!outcome.error.empty()) json.add("push_error", outcome.error);
}

void throw_if_push_failed(const PushOutcome& outcome, const std::string& what_stays) {
    if (outcome.error.empty()) return;
    throw ToolError(kFailure, outcome.error + ". " + what_stays + "; `cscguard push` brings the cache up to date once Redis answers");
}

}  // namespace cscguard::tool
