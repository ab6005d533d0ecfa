// Certificate revocation lists (CSCGuardCRL), believed only after checking.
//
// A CRL is accepted when its issuer is a declared CSCGuardIssuer whose key
// verifies its signature, it has a nextUpdate, and it is a complete, direct
// CRL: delta CRLs, indirect CRLs, partial (onlySomeReasons / onlyCA) CRLs and
// unknown critical extensions are refused with the reason, never half-applied.
#pragma once

#include <ctime>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "issuer.h"
#include "serial.h"

namespace cscguard {

struct RevocationList {
    std::string issuer;  // declared issuer name
    std::string source;  // file it came from
    std::time_t this_update = 0;
    std::time_t next_update = 0;
    std::unordered_set<std::string> revoked;  // canonical serials

    bool revokes(const Serial& serial) const { return revoked.count(serial.canonical()) != 0; }
};

// Parses every CRL in `data` (PEM with one or more CRLs, or one DER CRL) and
// checks each against `issuers`. Throws PolicyError naming `origin`, the
// CRL's position in the file and the reason.
std::vector<RevocationList> parse_crls(std::string_view data, const std::string& origin,
                                       const std::vector<std::shared_ptr<const Issuer>>& issuers);

// Reads the file at `path` and parses it. Throws PolicyError.
std::vector<RevocationList> load_crls(const std::string& path,
                                      const std::vector<std::shared_ptr<const Issuer>>& issuers);

// An ASN.1 time (UTCTime or GeneralizedTime) as time_t. Throws PolicyError.
std::time_t asn1_to_time(const ASN1_TIME& t);

// "2026-11-22 10:00:00 UTC"
std::string format_utc(std::time_t t);

// Durations as admins write them: "0", "90", "90s", "15m", "12h", "7d".
// Throws PolicyError.
std::time_t parse_duration(std::string_view text);

}  // namespace cscguard
