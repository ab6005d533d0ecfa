#include "tools/cscguard/database.h"

#include <cctype>
#include <cstdio>
#include <optional>

#include "policy/crl_reason.h"
#include "tools/cscguard/tool_error.h"

namespace cscguard::tool {
namespace {

std::vector<std::string_view> split(std::string_view line, char sep) {
    std::vector<std::string_view> parts;
    std::size_t start = 0;
    for (;;) {
        const std::size_t end = line.find(sep, start);
        parts.push_back(line.substr(start, end - start));
        if (end == std::string_view::npos) return parts;
        start = end + 1;
    }
}

std::vector<std::string> attribute_values(const std::string& subject, const std::string& attr) {
    std::vector<std::string> values;
    for (std::string_view part : split(subject, '/')) {
        if (part.size() > attr.size() && part.substr(0, attr.size()) == attr && part[attr.size()] == '=') {
            values.emplace_back(part.substr(attr.size() + 1));
        }
    }
    return values;
}

bool is_hex_serial(std::string_view s) {
    if (s.empty() || s.size() % 2) return false;
    for (char c : s) {
        if (!std::isxdigit(static_cast<unsigned char>(c)) || std::islower(static_cast<unsigned char>(c))) return false;
    }
    return true;
}

}  // namespace

std::string Record::name() const {
    const auto cns = attribute_values(subject, "CN");
    return cns.empty() ? std::string() : cns.front();
}

std::vector<std::string> Record::groups() const { return attribute_values(subject, "OU"); }

std::string format_asn1_time(std::time_t t) {
    struct tm tm {};
    gmtime_r(&t, &tm);
    char buf[20];
    if (tm.tm_year >= 50 && tm.tm_year < 150) {
        std::strftime(buf, sizeof buf, "%y%m%d%H%M%SZ", &tm);  // UTCTime up to 2049
    } else {
        std::strftime(buf, sizeof buf, "%Y%m%d%H%M%SZ", &tm);
    }
    return buf;
}

std::optional<std::time_t> parse_asn1_time(std::string_view text) {
    const bool utc_time = text.size() == 13;
    if ((!utc_time && text.size() != 15) || text.back() != 'Z') return std::nullopt;
    const std::string_view digits = text.substr(0, text.size() - 1);
    for (char c : digits) {
        if (c < '0' || c > '9') return std::nullopt;
    }
    std::size_t at = 0;
    const auto number = [&](std::size_t width) {
        int value = 0;
        for (std::size_t end = at + width; at < end; ++at) value = value * 10 + (digits[at] - '0');
        return value;
    };
    struct tm tm {};
    if (utc_time) {
        const int yy = number(2);
        tm.tm_year = yy < 50 ? yy + 100 : yy;  // RFC 5280: 50-99 are 19xx
    } else {
        tm.tm_year = number(4) - 1900;
        if (tm.tm_year < 50) return std::nullopt;  // before 1950: no certificate's date, and UTCTime's range starts there
    }
    tm.tm_mon = number(2) - 1;
    tm.tm_mday = number(2);
    tm.tm_hour = number(2);
    tm.tm_min = number(2);
    tm.tm_sec = number(2);
    const struct tm wanted = tm;
    const std::time_t t = timegm(&tm);
    // timegm rolls 35 days into the next month: only a time that reads back the same was valid.
    struct tm back {};
    if (!gmtime_r(&t, &back) || back.tm_year != wanted.tm_year || back.tm_mon != wanted.tm_mon ||
        back.tm_mday != wanted.tm_mday || back.tm_hour != wanted.tm_hour || back.tm_min != wanted.tm_min ||
        back.tm_sec != wanted.tm_sec) {
        return std::nullopt;
    }
    return t;
}

bool is_valid_cert_name(std::string_view name) {
    if (name.empty() || name.size() > 64) return false;
    for (char c : name) {
        const auto u = static_cast<unsigned char>(c);
        if (!std::isalnum(u) && c != '.' && c != '_' && c != '-' && c != '@') return false;
    }
    return true;
}

std::vector<Record> parse_database(std::string_view text, const std::string& origin) {
    std::vector<Record> records;
    std::size_t line_no = 0;
    for (std::string_view line : split(text, '\n')) {
        ++line_no;
        if (line.empty()) continue;
        const auto bad = [&](const std::string& why) {
            return ToolError(kFailure, origin + ":" + std::to_string(line_no) + ": corrupted database line (" + why +
                                           "); fix or remove it by hand, then run `cscguard doctor`");
        };
        const auto f = split(line, '\t');
        if (f.size() != 6) throw bad("want 6 tab-separated fields, found " + std::to_string(f.size()));
        Record r;
        if (f[0] != "V" && f[0] != "R") throw bad("status '" + std::string(f[0]) + "' is not V or R");
        r.status = f[0][0];
        const auto expires = parse_asn1_time(f[1]);
        if (!expires) throw bad("expiry '" + std::string(f[1]) + "' is not a time");
        r.expires = *expires;
        if (r.revoked()) {
            const auto rev = split(f[2], ',');
            const auto revoked_at = parse_asn1_time(rev[0]);
            if (!revoked_at) throw bad("revocation date '" + std::string(f[2]) + "' is not a time");
            r.revoked_at = *revoked_at;
            if (rev.size() > 1) {
                r.reason = std::string(rev[1]);
                if (!is_revocation_reason(r.reason)) throw bad("unknown reason '" + r.reason + "'");
            }
        } else if (!f[2].empty()) {
            throw bad("a valid certificate with a revocation date");
        }
        if (!is_hex_serial(f[3])) throw bad("serial '" + std::string(f[3]) + "' is not uppercase hex of whole bytes");
        r.serial = std::string(f[3]);
        r.kind = std::string(f[4]);
        if (r.kind != "client" && r.kind != "server") throw bad("kind '" + r.kind + "' is not client or server");
        r.subject = std::string(f[5]);
        if (r.subject.rfind("/CN=", 0) != 0) throw bad("subject does not start with /CN=");
        records.push_back(std::move(r));
    }
    return records;
}

std::string format_database(const std::vector<Record>& records) {
    std::string out;
    for (const Record& r : records) {
        out += r.status;
        out += '\t' + format_asn1_time(r.expires) + '\t';
        if (r.revoked()) out += format_asn1_time(r.revoked_at) + (r.reason.empty() ? "" : "," + r.reason);
        out += '\t' + r.serial + '\t' + r.kind + '\t' + r.subject + '\n';
    }
    return out;
}

}  // namespace cscguard::tool
