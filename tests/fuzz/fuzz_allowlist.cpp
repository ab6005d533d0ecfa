// Fuzz target: allowlist files (policy/allowlist.h), parsed with one and with
// two declared issuers.
//
// Invariants: the only error is PolicyError, and it names the file and line
// ("ORIGIN:LINE: ..."); a list never has more entries than lines; a file
// valid both with {kitty} and with {kitty, acme} holds the same entries.
#include <algorithm>
#include <optional>

#include "allowlist.h"
#include "error.h"
#include "fuzz_check.h"

using namespace cscguard;
using cscguard::fuzz::shown;

namespace {

const std::string kOrigin = "/etc/cscguard/fuzz.list";

std::optional<std::size_t> parse(std::string_view text, const std::vector<std::string>& declared) {
    try {
        return parse_allowlist(text, kOrigin, declared).size();
    } catch (const PolicyError& err) {
        const std::string_view what = err.what();
        const std::string prefix = kOrigin + ":";
        FUZZ_CHECK_MSG(what.substr(0, prefix.size()) == prefix && what.size() > prefix.size() &&
                           what[prefix.size()] >= '1' && what[prefix.size()] <= '9',
                       "error without file and line: " + shown(what));
        return std::nullopt;
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text = cscguard::fuzz::as_text(data, size);
    const std::size_t lines = static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n')) + 1;

    const std::optional<std::size_t> one = parse(text, {"kitty"});
    const std::optional<std::size_t> two = parse(text, {"kitty", "acme"});
    if (one) FUZZ_CHECK(*one <= lines);
    if (two) FUZZ_CHECK(*two <= lines);
    if (one && two) {
        FUZZ_CHECK_MSG(*one == *two, "entries differ with one and two issuers: " + shown(text));
    }
    return 0;
}
