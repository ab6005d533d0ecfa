// What the fleet's revocation cache holds (CSCGuardRevocationCache), written
// by `cscguard revoke --push` / `cscguard push` and read by the module, both
// with hiredis. One definition for writer and reader.
//
// An id is bytes; Redis holds it under the key "cscguard:<lowercase hex of
// the id>" (the spelling httpd's mod_socache_redis uses, so one could read
// the same keys through it).
//
//   revocation entry  id = [length of the key id][issuer key id][sign][serial magnitude]
//                     value = "revoked <CRLReason name> <YYYY-MM-DDTHH:MM:SSZ>"
//   marker            id = [0x00][issuer key id]   (key "cscguard:00" + hex of the key id)
//                     value = "cscguard-revocation-cache 1 <YYYY-MM-DDTHH:MM:SSZ>"
//
// The marker says "this cache holds every revocation of this CA": without it
// a cache that was flushed, restarted empty or evicted the CA's entries
// cannot be told from one where nothing is revoked. One per CA, so that one
// CA pushing into a flushed cache does not vouch for another's entries.
#pragma once

#include <cstddef>
#include <ctime>
#include <string>
#include <string_view>
#include <vector>

#include <openssl/types.h>

#include "policy/serial.h"

namespace cscguard {

using Bytes = std::vector<unsigned char>;

// The keys' namespace.
inline constexpr const char* kCacheNamespace = "cscguard";

// Keys stay below 254 characters, as mod_socache_redis requires: "cscguard:"
// plus two hex digits per id byte.
inline constexpr std::size_t kMaxCacheIdSize = 121;

// Values longer than this are no entry of ours (the module reads no more).
inline constexpr std::size_t kMaxCacheValueSize = 128;

// A CA as the cache knows it: its key, not its name, so two nodes that name
// the CA differently agree. The subjectKeyIdentifier when the certificate
// has one, else the SHA-1 of its subjectPublicKey (RFC 5280 4.2.1.2 (1)).
// Throws PolicyError when the certificate has no usable key.
Bytes issuer_key_id(X509& ca);

// The id of `serial` of the CA with `key_id`. Throws PolicyError when the
// id would be longer than kMaxCacheIdSize (a long key id with a long serial).
Bytes cache_entry_id(const Bytes& key_id, const Serial& serial);

// The id of the marker of the CA with `key_id`.
Bytes cache_marker_id(const Bytes& key_id);

// The Redis key of `id`: "cscguard:" + lowercase hex.
std::string redis_key(const Bytes& id);

struct CachedRevocation {
    std::string reason;  // a CRLReason name ("keyCompromise", "certificateHold"...)
    std::time_t revoked_at = 0;
};

std::string format_cache_entry(const CachedRevocation& entry);
// Throws PolicyError saying what is wrong with `value` (never echoing it:
// it may be anything an attacker with access to the cache wrote).
CachedRevocation parse_cache_entry(std::string_view value);

std::string format_cache_marker(std::time_t pushed_at);
// The time of the push that wrote the marker; throws PolicyError.
std::time_t parse_cache_marker(std::string_view value);

// "2026-11-23T22:40:00Z" (format_iso_utc, policy/crl.h) back to a time;
// PolicyError for anything else.
std::time_t parse_iso_utc(std::string_view text);

}  // namespace cscguard
