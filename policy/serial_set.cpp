#include "policy/serial_set.h"

#include <algorithm>

#include "policy/error.h"
#include "policy/issuer.h"

namespace cscguard {

bool SerialSet::insert(const std::string& issuer, const Serial& serial) {
    const bool added = by_issuer_[issuer].insert(serial.canonical()).second;
    if (added) ++size_;
    return added;
}

bool SerialSet::contains(const std::string& issuer, const Serial& serial) const {
    const auto it = by_issuer_.find(issuer);
    return it != by_issuer_.end() && it->second.count(serial.canonical()) != 0;
}

SerialEntry parse_serial_entry(std::string_view text) {
    const std::size_t colon = text.find(':');
    if (colon != std::string_view::npos && is_valid_name(text.substr(0, colon))) {
        return {std::string(text.substr(0, colon)), Serial::parse(text.substr(colon + 1))};
    }
    return {std::nullopt, Serial::parse(text)};
}

namespace {

std::string join(const std::vector<std::string>& names) {
    std::string out;
    for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
    return out.empty() ? "none" : out;
}

}  // namespace

std::string resolve_issuer(const SerialEntry& entry, const std::vector<std::string>& declared) {
    if (entry.issuer) {
        if (std::find(declared.begin(), declared.end(), *entry.issuer) == declared.end()) {
            throw PolicyError("unknown issuer '" + *entry.issuer + "' (declared with CSCGuardIssuer: " +
                              join(declared) + ")");
        }
        return *entry.issuer;
    }
    if (declared.size() != 1) {
        throw PolicyError("serial " + entry.serial.canonical() + " has no issuer, but " +
                          std::to_string(declared.size()) +
                          " issuers are declared (" + join(declared) + "): write ISSUER:SERIAL");
    }
    return declared.front();
}

}  // namespace cscguard
