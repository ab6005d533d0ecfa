#include "policy/allowlist.h"

#include <algorithm>
#include <optional>

#include "policy/certificate.h"
#include "policy/error.h"
#include "policy/file.h"
#include "policy/issuer.h"
#include "policy/serial.h"

namespace cscguard {
namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r'; }

// The issuer's index and the serial of one entry "[ISSUER:]SERIAL", without
// allocating (a million lines are read on every change); anything unusual
// goes the slow way, which also says what is wrong.
void add_entry(SerialTableBuilder& table, std::string_view word, const std::vector<std::string>& declared) {
    std::string_view serial = word;
    std::optional<std::size_t> index;
    if (const std::size_t colon = word.find(':'); colon != std::string_view::npos) {
        const std::string_view prefix = word.substr(0, colon);
        for (std::size_t i = 0; i < declared.size(); ++i) {
            if (declared[i] == prefix) index = i;
        }
        if (index) serial = word.substr(colon + 1);
    } else if (declared.size() == 1) {
        index = 0;
    }
    SerialOctets octets;
    if (index && SerialOctets::parse(serial, octets)) {
        table.add(static_cast<std::uint16_t>(*index), octets);
        return;
    }
    const SerialEntry entry = parse_serial_entry(word);
    const std::string issuer = resolve_issuer(entry, declared);
    const auto at = std::find(declared.begin(), declared.end(), issuer);
    if (!SerialOctets::parse(entry.serial.canonical(), octets)) throw PolicyError("unreadable serial");
    table.add(static_cast<std::uint16_t>(at - declared.begin()), octets);
}

}  // namespace

SerialTable parse_allowlist(std::string_view text, const std::string& origin,
                            const std::vector<std::string>& declared_issuers) {
    SerialTableBuilder table;
    // One entry per line at the most, and no more serial octets than half
    // the text's characters: no reallocation while a million lines are read.
    table.reserve(static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n')), text.size() / 2);
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
            add_entry(table, line.substr(b, e - b), declared_issuers);
        } catch (const PolicyError& err) {
            throw PolicyError(origin + ":" + std::to_string(line_no) + ": " + err.what());
        }
    }
    return table.build();
}

SerialTable load_allowlist(const std::string& path, const std::vector<std::string>& declared_issuers) {
    return parse_allowlist(read_policy_file(path, "allowlist").bytes, path, declared_issuers);
}

std::string format_allowlist_entry(std::string_view issuer, std::string_view serial, std::string_view label) {
    if (!is_valid_name(issuer)) throw PolicyError("'" + std::string(issuer) + "' is not an issuer name for an allowlist entry");
    std::string why;
    if (!Serial::try_parse(serial, &why)) throw PolicyError("'" + std::string(serial) + "' is not a serial number: " + why);
    if (has_control_character(label)) {
        throw PolicyError("the label of allowlist entry " + std::string(serial) + " holds a control character");
    }
    std::string line;
    line.reserve(issuer.size() + serial.size() + label.size() + 4);
    line.append(issuer).append(":").append(serial);
    if (!label.empty()) line.append("  ").append(label);
    line += '\n';
    return line;
}

std::string format_allowlist_comment(std::string_view text) {
    if (has_control_character(text)) throw PolicyError("an allowlist comment holds a control character");
    return "# " + std::string(text) + "\n";
}

}  // namespace cscguard
