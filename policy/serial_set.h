// A set of certificate identities: (issuer name, serial). RFC 5280 makes a
// serial unique only per issuer, so the issuer is part of every entry.
// Lookups are hashed: their cost does not grow with the size of the set.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "policy/serial.h"

namespace cscguard {

class SerialSet {
public:
    // Returns false when the entry was already present.
    bool insert(const std::string& issuer, const Serial& serial);
    bool contains(const std::string& issuer, const Serial& serial) const;
    std::size_t size() const { return size_; }

private:
    std::unordered_map<std::string, std::unordered_set<std::string>> by_issuer_;
    std::size_t size_ = 0;
};

// One written entry, "[ISSUER:]SERIAL", before the issuer is known to exist.
struct SerialEntry {
    std::optional<std::string> issuer;  // absent: the only declared issuer
    Serial serial;
};

// Splits "kitty:d1:d1:1c" into issuer "kitty" and serial D1D11C. A prefix
// before the first ':' that is a valid issuer name is the issuer (issuer
// names are chosen so this is never ambiguous). Throws PolicyError.
SerialEntry parse_serial_entry(std::string_view text);

// Settles which issuer an entry belongs to, given the declared issuer names.
// Throws PolicyError for an unknown issuer, or for a bare serial when not
// exactly one issuer is declared.
std::string resolve_issuer(const SerialEntry& entry, const std::vector<std::string>& declared);

}  // namespace cscguard
