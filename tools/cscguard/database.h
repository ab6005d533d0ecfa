// The CA database: `index.txt` in the format `openssl ca` reads and writes,
// one certificate per line, tab-separated:
//
//   V  260101000000Z                      D1D11C749D9C2D16  client  /CN=eager-client/OU=staff
//   R  260101000000Z  251201120000Z,keyCompromise  0A1B  client  /CN=lazy-client
//
// status (V valid, R revoked), expiry, revocation date[,reason], serial
// (hex), the kind (openssl's unused "filename" column: client or server),
// and the subject. A human can read it; `openssl ca` can use it.
#pragma once

#include <ctime>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cscguard::tool {

struct Record {
    char status = 'V';  // 'V' or 'R' (expiry is judged from `expires`, not stored)
    std::time_t expires = 0;
    std::time_t revoked_at = 0;
    std::string reason;  // "" or an RFC 5280 reason name, e.g. keyCompromise
    std::string serial;  // uppercase hex, even length, as openssl writes it
    std::string kind;    // "client" or "server"
    std::string subject;  // "/CN=eager-client/OU=staff/emailAddress=..."

    bool revoked() const { return status == 'R'; }
    bool valid_at(std::time_t now) const { return status == 'V' && expires > now; }
    // The CN of the subject: the certificate's name in cscguard commands.
    std::string name() const;
    // OU values: the certificate's groups.
    std::vector<std::string> groups() const;
};

// Parses index.txt. Throws ToolError naming the line for a corrupted line.
std::vector<Record> parse_database(std::string_view text, const std::string& origin);
std::string format_database(const std::vector<Record>& records);

// openssl's UTCTime / GeneralizedTime text.
std::string format_asn1_time(std::time_t t);
// Only the two spellings above, with every field in range (no month 13, no
// 25:00): nothing when the text is not such a time.
std::optional<std::time_t> parse_asn1_time(std::string_view text);

// Names and groups go into DNs and file names: letters, digits, . _ - @.
bool is_valid_cert_name(std::string_view name);

}  // namespace cscguard::tool
