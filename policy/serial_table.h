// A compiled, immutable set of certificate identities (issuer index, serial)
// in one flat run of bytes that every process can map and search in place.
//
// Keys have one fixed width per table (the longest serial decides), and are
// grouped by hash bucket: a lookup hashes once and compares about two keys,
// whatever the size of the set. A million 16-octet serials take 19 MB of keys
// plus 2 MB of bucket index - no pointers, no per-entry allocations, so the
// bytes can live in a file every child maps (see snapshot.h).
//
//   u32 count | u16 width | u8 bucket bits | u8 0 |
//   u32 first key of bucket b, for b = 0 .. 2^bits (the last: count) |
//   count x width bytes of keys
//   key = u16 issuer index | u8 negative << 7 | octets | magnitude, zero-padded
//
// Integers are little-endian. The hash is fixed (no per-process seed): one
// process builds a table, the others search it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "policy/serial.h"

namespace cscguard {

class SerialTable {
public:
    SerialTable() = default;  // the empty set

    // Checks the layout of `bytes` (sizes, bucket index) and searches them in
    // place; `owner` keeps them alive (a heap string, a mapped file). Throws
    // PolicyError naming what is wrong. The keys' bucket order is not checked:
    // the snapshot's checksum stands for that.
    static SerialTable open(std::string_view bytes, std::shared_ptr<const void> owner);

    bool contains(std::uint16_t issuer, const Serial& serial) const;
    bool contains(std::uint16_t issuer, const SerialOctets& serial) const;
    std::size_t size() const { return count_; }
    // The encoded table, to be written elsewhere.
    std::string_view bytes() const { return bytes_; }

private:
    // `magnitude` without leading zero octets; `negative` false for zero.
    bool find(std::uint16_t issuer, const unsigned char* magnitude, std::size_t size, bool negative) const;

    std::string_view bytes_;
    std::shared_ptr<const void> owner_;
    const unsigned char* keys_ = nullptr;
    const unsigned char* buckets_ = nullptr;
    std::uint32_t count_ = 0;
    std::uint16_t width_ = 0;
    std::uint8_t bits_ = 0;
};

// Collects entries (duplicates are kept once) and encodes them as a table.
class SerialTableBuilder {
public:
    void add(std::uint16_t issuer, const SerialOctets& serial) { add(issuer, serial.view(), serial.negative); }
    // `magnitude`: big-endian, without leading zero octets. Throws PolicyError
    // when it is longer than kMaxTableSerialOctets.
    void add(std::uint16_t issuer, std::string_view magnitude, bool negative);
    std::size_t added() const { return offsets_.size(); }
    // Room for about `entries` entries of `octets` serial octets in all.
    void reserve(std::size_t entries, std::size_t octets);

    // The encoded table (empties the builder).
    std::string finish();
    // The same, opened (owned by itself).
    SerialTable build();

private:
    std::vector<unsigned char> entries_;   // issuer, sign+octets, magnitude: one after another
    std::vector<std::uint32_t> offsets_;  // where each entry starts
    std::size_t longest_ = 0;
};

// Serials in a CRL may be longer than an allowlist accepts; longer still is no
// certificate anyone can present.
inline constexpr std::size_t kMaxTableSerialOctets = 127;

}  // namespace cscguard
