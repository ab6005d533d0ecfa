// Allowlist files (CSCGuardAllowlist), format v1:
//
//   # comment
//   kitty:D1:D1:1C:74:9D:9C:2D:16   eager-client laptop
//   0x0A1B                          only when exactly one issuer is declared
//
// One entry per line: [ISSUER:]SERIAL, then an optional free-text label. '#'
// starts a comment, blank lines are ignored. Every line ends with a newline:
// a last line without one is a file caught mid-write. Any bad line refuses the
// whole file with its name and line number: a half-read allowlist is never used.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "policy/serial_set.h"
#include "policy/serial_table.h"

namespace cscguard {

// `origin` names the file in error messages. Throws PolicyError
// ("FILE:LINE: reason").
SerialTable parse_allowlist(std::string_view text, const std::string& origin,
                            const std::vector<std::string>& declared_issuers);

// Reads and parses the file at `path`. Throws PolicyError.
SerialTable load_allowlist(const std::string& path, const std::vector<std::string>& declared_issuers);

// The writer sits next to the parser so that what the CA tool publishes is
// what parse_allowlist reads, and nothing it cannot read is ever written.

// "ISSUER:SERIAL  LABEL\n" (no label: "ISSUER:SERIAL\n"). Throws PolicyError
// when `issuer` is not a name (is_valid_name), `serial` is not a serial, or
// `label` holds a control character (a line end would start another entry).
std::string format_allowlist_entry(std::string_view issuer, std::string_view serial, std::string_view label);

// "# TEXT\n". Throws PolicyError when `text` holds a control character.
std::string format_allowlist_comment(std::string_view text);

}  // namespace cscguard
