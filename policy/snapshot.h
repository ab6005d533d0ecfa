// A policy snapshot: the compiled version in force of every policy file, as
// one file that every process of an httpd maps and searches in place.
//
// Only one process of an httpd reads policy files while it serves: the
// watcher (mod_cscguard/watcher.cpp). It compiles what it accepted into a
// snapshot in httpd's runtime directory, and the children map the newest
// snapshot instead of parsing anything - one parse per change, whatever the
// number of children, and one copy of the tables in memory (the page cache),
// shared by all of them. A restart knows exactly what was in force before it.
// A snapshot is input like any file: its layout, sizes and checksum are
// checked before anything in it is believed.
//
//   "CSGSNAP1" | u32 format (2) | u32 0 | u64 generation | u64 total size |
//   str configuration id | u32 file count |
//   per file: str path | u64 device, inode, size | i64 mtime_ns, ctime_ns |
//             32-byte SHA-256 of the file's bytes | u8 kind (1 allowlist, 2 CRL) |
//     allowlist: u64 n + serial table (serial_table.h)
//     CRL file:  u32 count, per CRL in force: str issuer | u16 issuer index |
//                str source | str crlNumber | str SHA-256 of the DER (hex) |
//                i64 thisUpdate | i64 nextUpdate | u64 n + serial table of the revoked
//   XXH3-128 of everything before (16 bytes, canonical: big-endian)
//
// str = u32 n + bytes. Integers are little-endian.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "policy/crl.h"
#include "policy/digest.h"
#include "policy/file.h"
#include "policy/serial_table.h"

namespace cscguard {

// One version of one policy file: where it was, which version, what it holds.
struct CompiledFile {
    enum class Kind : std::uint8_t { Allowlist = 1, Crl = 2 };
    std::string path;
    FileStamp stamp;
    std::string digest;  // SHA-256 of the file's bytes (32 bytes)
    Kind kind = Kind::Allowlist;
    SerialTable allowlist;  // Kind::Allowlist
    CrlSet crls;            // Kind::Crl: what is in force from this file, one CRL per issuer
};

struct Snapshot {
    std::uint64_t generation = 0;  // counts up with every snapshot, across restarts
    std::string configuration;     // which configuration wrote it (issuers and files); see the glue
    std::vector<CompiledFile> files;

    const CompiledFile* find(const std::string& path) const;
};

// Bigger snapshots are refused.
inline constexpr std::size_t kMaxSnapshotBytes = std::size_t{1} << 30;

// The size write_snapshot would write.
std::uint64_t snapshot_size(std::string_view configuration, const std::vector<const CompiledFile*>& files);

// Writes a snapshot straight to `fd`. Throws PolicyError on a write error,
// naming `origin`.
void write_snapshot(int fd, const std::string& origin, std::uint64_t generation, std::string_view configuration,
                    const std::vector<const CompiledFile*>& files);
// The same, into memory (tests, fuzzing).
std::string encode_snapshot(const Snapshot& snapshot);

// The generation in a snapshot's first 24 bytes, to see whether mapping the
// whole snapshot is worth it; nothing when they are no snapshot header.
std::optional<std::uint64_t> peek_generation(std::string_view head);
inline constexpr std::size_t kSnapshotHeadBytes = 24;

// Checks `data` whole (magic, format, sizes, every table's layout, checksum)
// and returns its files, whose tables point into `data`; `owner` keeps the
// bytes alive (a mapped file). Throws PolicyError "ORIGIN: not a policy
// snapshot: reason" for anything that is not an intact snapshot of this
// format, and for one whose issuer indices do not fit `issuer_names`.
Snapshot open_snapshot(std::string_view data, std::shared_ptr<const void> owner, const std::string& origin,
                       const std::vector<std::string>& issuer_names);

}  // namespace cscguard
