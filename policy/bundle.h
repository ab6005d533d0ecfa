// A policy bundle: the version in force of every policy file, as one file.
//
// Only one process of an httpd reads the policy files: the watcher (see
// mod_cscguard/watcher.cpp). Whenever a change is accepted it writes a bundle
// of every file's bytes into httpd's runtime directory, and the children
// follow the bundles instead of reading policy files themselves - so no
// child ever holds an older version than another, and a restart knows
// exactly what was in force before it. A bundle is input like any file: it
// is checked (magic, format version, sizes, SHA-256) before anything in it
// is believed.
//
//   "CSGBUNDL" | u32 format (1) | u32 0 | u64 generation | u64 total size |
//   u32 n + configuration id | u32 count |
//   count x ( u32 n + path | u64 device, inode, size | i64 mtime_ns, ctime_ns |
//             SHA-256 of the bytes | u64 n + bytes ) |
//   SHA-256 of all that came before (32 bytes)
//
// Integers are little-endian.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "file.h"

namespace cscguard {

// One version of one policy file, as it was read.
struct PolicyFile {
    std::string path;
    FileStamp stamp;
    std::string bytes;
    std::string digest;  // SHA-256 of `bytes` (32 bytes; "" until known): kept when the bytes are let go
};

// The raw SHA-256 of `data` (32 bytes).
std::string sha256_of(std::string_view data);

struct Bundle {
    std::uint64_t generation = 0;  // counts up with every bundle, across restarts
    std::string configuration;     // which configuration wrote it (issuers and files); see the glue
    std::vector<PolicyFile> files;

    const PolicyFile* find(const std::string& path) const;
};

// Bigger bundles are refused (policy files are capped at 256 MiB each).
inline constexpr std::size_t kMaxBundleBytes = std::size_t{1} << 30;

std::string encode_bundle(const Bundle& bundle);

// The size encode_bundle would give, without encoding.
std::uint64_t encoded_size(std::uint64_t generation, std::string_view configuration,
                           const std::vector<const PolicyFile*>& files);

// Encodes straight to `fd`, without holding the bundle in memory twice
// (a policy of a few million entries is tens of MB). Throws PolicyError on
// a write error, naming `origin`.
void write_bundle(int fd, const std::string& origin, std::uint64_t generation, std::string_view configuration,
                  const std::vector<const PolicyFile*>& files);

// The generation in a bundle's first 24 bytes, to see whether reading the
// whole bundle is worth it; nothing when they are no bundle header. The
// bundle itself is checked in full by decode_bundle.
std::optional<std::uint64_t> peek_generation(std::string_view head);
inline constexpr std::size_t kBundleHeadBytes = 24;

// Throws PolicyError "ORIGIN: not a policy bundle: reason" for anything that
// is not a whole, intact bundle of this format.
Bundle decode_bundle(std::string_view data, const std::string& origin);

}  // namespace cscguard
