// What the CA tells the fleet's revocation cache (CSCGuardRevocationCache),
// in the format the module reads (policy/cache_entry.h): an entry per
// revoked certificate that has not expired, no entry for a valid one, and
// the marker, always written last.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "tools/cscguard/args.h"
#include "tools/cscguard/ca.h"
#include "tools/cscguard/json.h"
#include "tools/cscguard/redis_client.h"
#include "tools/cscguard/redis_url.h"

namespace cscguard::tool {

struct PushTarget {
    RedisUrl url;
    int max_age_days = 0;  // 0: an entry lives as long as its certificate
};

// Where revoke, suspend and resume push: --push URL, else the CA's push
// setting; nothing with --no-push or when there is neither. --push-max-age
// DAYS, else the push_max_age setting. ToolError(kUsage) naming the option
// or cscguard.conf's line.
std::optional<PushTarget> push_target(const Ca& ca, const Args& args);

struct PushResult {
    std::size_t written = 0;  // entries SET (the marker not counted)
    long long removed = 0;    // entries of valid certificates that were there and are gone
    std::size_t expired = 0;  // revoked certificates whose entry would already have expired: none written
    bool whole = false;       // every revocation of the CA was sent
};

// Brings the cache up to date with what `changed` records are now (revoked:
// their entry; valid: no entry), then rewrites the marker. A cache without
// the marker (new, flushed, restarted empty) gets every revocation of the CA
// instead: the marker tells the module the cache is whole, so it must never
// be written over a cache that misses revocations. Throws RedisError.
PushResult push_changes(const Ca& ca, const PushTarget& target, const std::vector<const Record*>& changed);
// Every revoked, unexpired certificate's entry, no entry for a valid one,
// then the marker: what a new or flushed cache needs; the same result however
// often it runs. Throws RedisError.
PushResult push_all(const Ca& ca, const PushTarget& target);

// "pushed 1 entry ... to redis://..." for people.
std::string describe_push(const PushResult& result, const PushTarget& target);

// A push made by a command that has already recorded (and maybe published)
// its change: a cache that cannot be reached must not undo that, so the
// failure is kept for the command to report after its own output.
struct PushOutcome {
    std::optional<PushTarget> target;  // none: nothing was pushed
    PushResult result;
    std::string error;  // "cannot push to URL: why"; "" when it went through
};
PushOutcome push_recorded(const Ca& ca, const std::optional<PushTarget>& target, const std::vector<const Record*>& changed);
// The lines (or JSON members: push, pushed, push_removed, push_error) that say what was pushed.
std::string push_report(const PushOutcome& outcome);
void add_push_json(JsonObject& json, const PushOutcome& outcome);
// When the push failed: ToolError(kFailure) with its error, `what_stays`
// (what the command did keep) and how to push it later.
void throw_if_push_failed(const PushOutcome& outcome, const std::string& what_stays);

}  // namespace cscguard::tool
