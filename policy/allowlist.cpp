#include "allowlist.h"

#include "error.h"
#include "file.h"

namespace cscguard {
namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r'; }

}  // namespace

SerialSet parse_allowlist(std::string_view text, const std::string& origin,
                          const std::vector<std::string>& declared_issuers) {
    SerialSet set;
    std::size_t line_no = 0;
    std::size_t start = 0;
    while (start < text.size()) {
        const std::size_t end = text.find('\n', start);
        ++line_no;
        if (end == std::string_view::npos) {
            // A file caught mid-write ends inside a line: "kitty:10" of "kitty:1000"
            // would grant serial 0x10. Only complete lines are believed.
            throw PolicyError(origin + ":" + std::to_string(line_no) +
                              ": the last line has no line end (a file still being written?); end every line "
                              "with a newline and replace the file by renaming a complete one into place");
        }
        std::string_view line = text.substr(start, end - start);
        start = end + 1;

        if (const std::size_t hash = line.find('#'); hash != std::string_view::npos) {
            line = line.substr(0, hash);
        }
        std::size_t b = 0;
        while (b < line.size() && is_space(line[b])) ++b;
        std::size_t e = b;
        while (e < line.size() && !is_space(line[e])) ++e;
        if (b == e) continue;  // blank or comment-only; the rest of a line is its label

        try {
            if (line.find('\0') != std::string_view::npos) throw PolicyError("NUL byte in line");
            const SerialEntry entry = parse_serial_entry(line.substr(b, e - b));
            set.insert(resolve_issuer(entry, declared_issuers), entry.serial);
        } catch (const PolicyError& err) {
            throw PolicyError(origin + ":" + std::to_string(line_no) + ": " + err.what());
        }
    }
    return set;
}

SerialSet load_allowlist(const std::string& path, const std::vector<std::string>& declared_issuers) {
    return parse_allowlist(read_policy_file(path, "allowlist").bytes, path, declared_issuers);
}

}  // namespace cscguard
