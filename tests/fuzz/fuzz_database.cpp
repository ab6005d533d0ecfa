// Fuzz target: the CA tool's database, index.txt
// (tools/cscguard/database.h parse_database).
//
// Invariants: the only error is ToolError; a database never has more records
// than lines; a time is accepted only as the tool (and openssl ca) would
// write it - "261399000000Z" (month 13, day 99) is a corrupted line, not
// 2027-04-09; what the tool reads it can write back (format_database) and read
// again to the very same records - the tool rewrites index.txt on every issue
// and revoke, so a record that does not survive that would corrupt the
// database on the next change.
#include <algorithm>

#include "tools/cscguard/database.h"
#include "tests/fuzz/fuzz_check.h"
#include "tools/cscguard/tool_error.h"

using cscguard::fuzz::shown;
using cscguard::tool::format_asn1_time;
using cscguard::tool::format_database;
using cscguard::tool::parse_database;
using cscguard::tool::Record;
using cscguard::tool::ToolError;

namespace {

std::vector<std::string_view> split(std::string_view text, char sep) {
    std::vector<std::string_view> parts;
    for (std::size_t start = 0;;) {
        const std::size_t end = text.find(sep, start);
        parts.push_back(text.substr(start, end - start));
        if (end == std::string_view::npos) return parts;
        start = end + 1;
    }
}

// `field` is how the database spelt the time `t`: the tool writes UTCTime
// (YYMMDDHHMMSSZ) for 1950-2049 and GeneralizedTime (YYYYMMDDHHMMSSZ) else;
// openssl ca may write GeneralizedTime for any year.
void check_time(std::string_view field, std::time_t t, std::string_view line) {
    const std::string written = format_asn1_time(t);
    const std::string_view want = field.size() == 15 && written.size() == 13 ? field.substr(2) : field;
    FUZZ_CHECK_MSG(written == want, "time " + shown(field) + " accepted as " + written + " (" +
                                        std::to_string(t) + ") in " + shown(line));
}

bool same(const Record& a, const Record& b) {
    return a.status == b.status && a.expires == b.expires && a.revoked_at == b.revoked_at && a.reason == b.reason &&
           a.serial == b.serial && a.kind == b.kind && a.subject == b.subject;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text = cscguard::fuzz::as_text(data, size);
    std::vector<Record> records;
    try {
        records = parse_database(text, "index.txt");
    } catch (const ToolError& err) {
        FUZZ_CHECK(err.code() == cscguard::tool::kFailure);
        return 0;
    }
    FUZZ_CHECK(records.size() <= static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n')) + 1);
    std::size_t i = 0;
    for (std::string_view line : split(text, '\n')) {
        if (line.empty()) continue;
        FUZZ_CHECK(i < records.size());
        const Record& r = records[i++];
        FUZZ_CHECK(r.status == 'V' || r.status == 'R');
        const auto fields = split(line, '\t');
        check_time(fields.at(1), r.expires, line);
        if (r.revoked()) check_time(split(fields.at(2), ',').front(), r.revoked_at, line);
        (void)r.name();
        (void)r.groups();
    }
    FUZZ_CHECK(i == records.size());

    const std::string rewritten = format_database(records);
    std::vector<Record> again;
    try {
        again = parse_database(rewritten, "index.txt (rewritten)");
    } catch (const ToolError& err) {
        cscguard::fuzz::fail(__FILE__, __LINE__, "format_database wrote a database parse_database refuses",
                             std::string(err.what()) + "\n  read:      " + shown(text) +
                                 "\n  rewritten: " + shown(rewritten));
    }
    FUZZ_CHECK_MSG(again.size() == records.size() && std::equal(again.begin(), again.end(), records.begin(), same),
                   "records change when written and read back: " + shown(text) + " -> " + shown(rewritten));
    return 0;
}
