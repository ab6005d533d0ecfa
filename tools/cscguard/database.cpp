#include "database.h"

#include <cctype>
#include <cstdio>

#include "tool_error.h"

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

std::time_t parse_asn1_time(std::string_view text) {
    struct tm tm {};
    std::string s(text);
    if (s.size() == 13 && s.back() == 'Z') {
        if (std::sscanf(s.c_str(), "%2d%2d%2d%2d%2d%2d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min,
                        &tm.tm_sec) != 6) {
            return -1;
        }
        if (tm.tm_year < 50) tm.tm_year += 100;
    } else if (s.size() == 15 && s.back() == 'Z') {
        if (std::sscanf(s.c_str(), "%4d%2d%2d%2d%2d%2d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min,
                        &tm.tm_sec) != 6) {
            return -1;
        }
        tm.tm_year -= 1900;
    } else {
        return -1;
    }
    tm.tm_mon -= 1;
    return timegm(&tm);
}

bool is_valid_cert_name(std::string_view name) {
    if (name.empty() || name.size() > 64) return false;
    for (char c : name) {
        const auto u = static_cast<unsigned char>(c);
        if (!std::isalnum(u) && c != '.' && c != '_' && c != '-' && c != '@') return false;
    }
    return true;
}

bool is_valid_reason(std::string_view reason) {
    for (const char* r : {"unspecified", "keyCompromise", "CACompromise", "affiliationChanged", "superseded",
                          "cessationOfOperation", "certificateHold", "privilegeWithdrawn"}) {
        if (reason == r) return true;
    }
    return false;
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
        r.expires = parse_asn1_time(f[1]);
        if (r.expires < 0) throw bad("expiry '" + std::string(f[1]) + "' is not a time");
        if (r.revoked()) {
            const auto rev = split(f[2], ',');
            r.revoked_at = parse_asn1_time(rev[0]);
            if (r.revoked_at < 0) throw bad("revocation date '" + std::string(f[2]) + "' is not a time");
            if (rev.size() > 1) {
                r.reason = std::string(rev[1]);
                if (!is_valid_reason(r.reason)) throw bad("unknown reason '" + r.reason + "'");
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
