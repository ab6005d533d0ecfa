// SHA-256, the one digest the policy uses: file versions, CRLs, snapshots,
// configuration ids.
#pragma once

#include <string>
#include <string_view>

#include <openssl/types.h>

namespace cscguard {

// OpenSSL's SHA-256, fetched once (OpenSSL 3's one-shot SHA256() fetches it
// on every call, which costs more than hashing a small file); for digests
// computed piece by piece.
const EVP_MD* sha256_algorithm();

// The raw SHA-256 of `data` (32 bytes).
std::string sha256_of(std::string_view data);

// Lowercase hex of raw bytes (a digest, for ids and log lines).
std::string to_hex(std::string_view raw);

}  // namespace cscguard
