// Fuzz target: what a node reads from the fleet's revocation cache (policy/
// cache_entry.h parse_cache_entry, parse_cache_marker) - written by anyone
// who can write Redis.
//
// Invariants: the only error is PolicyError; an accepted value is at most
// 128 bytes, names a CRLReason, and reads back from its own formatting as
// the same entry (and is that formatting, byte for byte: one spelling).
#include <string>

#include "policy/cache_entry.h"
#include "policy/crl_reason.h"
#include "policy/error.h"
#include "tests/fuzz/fuzz_check.h"

using namespace cscguard;
using cscguard::fuzz::shown;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view value = fuzz::as_text(data, size);
    try {
        const CachedRevocation entry = parse_cache_entry(value);
        FUZZ_CHECK_MSG(value.size() <= kMaxCacheValueSize, shown(value) + " is too long to be accepted");
        FUZZ_CHECK_MSG(crl_reason_code(entry.reason).has_value(), shown(value) + " names no CRLReason");
        FUZZ_CHECK_MSG(format_cache_entry(entry) == value, shown(value) + " is not its own formatting");
    } catch (const PolicyError&) {
    }
    try {
        const std::time_t pushed = parse_cache_marker(value);
        FUZZ_CHECK_MSG(format_cache_marker(pushed) == value, shown(value) + " is not its own formatting");
    } catch (const PolicyError&) {
    }
    return 0;
}
