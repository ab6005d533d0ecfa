// Fuzz target: allowlist files (policy/allowlist.h), parsed with one and with
// two declared issuers.
//
// Invariants: the only error is PolicyError, and it names the file and line
// ("ORIGIN:LINE: ..."); a list never has more entries than lines; a file
// valid both with {kitty} and with {kitty, acme} holds the same entries; and
// the compiled table holds exactly what the reference reading of each line
// (parse_serial_entry, resolve_issuer: the slow path the parser's fast path
// must agree with) says - every entry under its issuer, nothing more.
#include <algorithm>
#include <optional>
#include <set>
#include <utility>

#include "policy/allowlist.h"
#include "policy/error.h"
#include "tests/fuzz/fuzz_check.h"
#include "policy/serial_set.h"

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

// Every entry of an accepted file, read the reference way.
void check_against_reference(std::string_view text, const std::vector<std::string>& declared) {
    SerialTable table;
    try {
        table = parse_allowlist(text, kOrigin, declared);
    } catch (const PolicyError&) {
        return;
    }
    std::set<std::pair<std::size_t, std::string>> expected;
    for (std::size_t start = 0; start < text.size();) {
        const std::size_t end = text.find('\n', start);
        std::string_view line = text.substr(start, end - start);
        start = end + 1;
        line = line.substr(0, line.find('#'));
        const std::size_t b = line.find_first_not_of(" \t\r");
        if (b == std::string_view::npos) continue;
        const std::string_view word = line.substr(b, line.find_first_of(" \t\r", b) - b);
        const SerialEntry entry = parse_serial_entry(word);
        const std::string issuer = resolve_issuer(entry, declared);
        const auto index = static_cast<std::size_t>(std::find(declared.begin(), declared.end(), issuer) - declared.begin());
        expected.emplace(index, entry.serial.canonical());
        FUZZ_CHECK_MSG(table.contains(static_cast<std::uint16_t>(index), entry.serial),
                       "entry " + issuer + ":" + entry.serial.canonical() + " missing: " + shown(text));
        FUZZ_CHECK_MSG(!table.contains(static_cast<std::uint16_t>(index + 2), entry.serial), "found under another issuer");
    }
    FUZZ_CHECK_MSG(table.size() == expected.size(), "table size differs from the reference: " + shown(text));
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
    check_against_reference(text, {"kitty"});
    check_against_reference(text, {"kitty", "acme"});
    return 0;
}
