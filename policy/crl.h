// Certificate revocation lists (CSCGuardCRL), believed only after checking.
//
// A CRL is accepted when its issuer is a declared CSCGuardIssuer whose key
// verifies its signature, it has a nextUpdate, and it is a complete, direct
// CRL: delta CRLs, indirect CRLs, partial (onlySomeReasons / onlyCA) CRLs and
// unknown critical extensions are refused with the reason, never half-applied.
// A file is read whole or refused whole: a damaged or truncated PEM block, a
// block that is not a CRL, text after the last block or bytes after a DER CRL
// refuse the file, so a torn write never silently drops one issuer's CRL.
#pragma once

#include <ctime>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "policy/issuer.h"
#include "policy/serial.h"
#include "policy/serial_table.h"

namespace cscguard {

struct RevocationList {
    std::string issuer;              // declared issuer name
    std::uint16_t issuer_index = 0;  // its place among the declared issuers
    std::string source;              // file it came from
    std::string number;              // crlNumber in canonical hex ("" when the CRL has none)
    std::string digest;              // SHA-256 of the DER, hex: the same CRL read twice compares equal
    std::time_t this_update = 0;
    std::time_t next_update = 0;
    SerialTable revoked;             // compiled (kept in a snapshot, never as OpenSSL objects)

    bool revokes(const Serial& serial) const { return revoked.contains(issuer_index, serial); }
    // "crlNumber 1A, thisUpdate 2026-11-22 10:00:00 UTC", for log lines.
    std::string version() const;
};

// Past nextUpdate + `grace` (CSCGuardCRLGrace) at `now`: every certificate
// of the CRL's issuer is denied until a fresh CRL is in force.
bool is_stale(const RevocationList& crl, std::time_t now, std::time_t grace);

// What CSG0203 says of a stale CRL, at start-up and when a request meets it:
// "the CRL of kitty in FILE went stale at ... (nextUpdate ... +
// CSCGuardCRLGrace): every certificate of kitty is denied until a fresh CRL is
// published".
std::string stale_crl_message(const RevocationList& crl, std::time_t grace);

// Which of two CRLs of one issuer is newer: by crlNumber when both have one
// and they differ, else by thisUpdate. <0: a is older, 0: same age, >0: newer.
int compare_age(const RevocationList& a, const RevocationList& b);

// The CRLs of one file, shared with the snapshots built from them.
using CrlSet = std::vector<std::shared_ptr<const RevocationList>>;

// The newest CRL of `issuer` in `lists` (null when none is of that issuer).
const RevocationList* newest_of(const CrlSet& lists, const std::string& issuer);

// What a CRL file's new content `next` puts in force, issuer by issuer,
// given its CRLs `in_force`: an issuer's CRL from `next` when it is newer
// than the one in force (or that very CRL); else - an older CRL, a different
// one of the same age, or none at all (a file truncated at a block boundary,
// or replaced by another CA's CRL) - the one in force stays, and a problem
// says so. Never a rollback, never an issuer losing its CRL, and one issuer's
// problem never holds back another issuer's new revocations.
struct CrlMerge {
    CrlSet in_force;                    // one CRL per issuer
    std::vector<std::string> problems;  // one line per issuer whose CRL in force stayed for a reason
    bool changed = false;               // some issuer's CRL in force is another one now
};
CrlMerge merge_crls(const CrlSet& in_force, const CrlSet& next);

// Throws PolicyError with the first problem of merge_crls(in_force, next).
void check_crl_succession(const CrlSet& in_force, const CrlSet& next);

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
// "2026-11-22T10:00:00Z" (ISO 8601), for machines and the revocation cache.
std::string format_iso_utc(std::time_t t);

// Durations as admins write them: "0", "90", "90s", "15m", "12h", "7d".
// Throws PolicyError.
std::time_t parse_duration(std::string_view text);

}  // namespace cscguard
