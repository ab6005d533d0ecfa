// Fuzz target: durations as in CSCGuardCRLGrace (policy/crl.h parse_duration).
//
// Invariants: the only error is PolicyError; a duration is never negative
// and at most 999999999 days; the same number of seconds written as "Ns"
// parses to the same value.
#include <string>

#include "policy/crl.h"
#include "policy/error.h"
#include "tests/fuzz/fuzz_check.h"

using namespace cscguard;
using cscguard::fuzz::shown;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text = fuzz::as_text(data, size);
    std::time_t seconds = 0;
    try {
        seconds = parse_duration(text);
    } catch (const PolicyError&) {
        return 0;
    }
    FUZZ_CHECK_MSG(seconds >= 0, shown(text) + " gave " + std::to_string(seconds));
    FUZZ_CHECK_MSG(seconds <= static_cast<std::time_t>(999999999) * 86400, shown(text) + " is too long");
    if (seconds <= 999999999) {
        const std::string respelled = std::to_string(seconds) + "s";
        FUZZ_CHECK_MSG(parse_duration(respelled) == seconds, shown(text) + " differs from " + respelled);
    }
    return 0;
}
