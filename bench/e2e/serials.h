// The synthetic serials of the e2e fixtures, shared by the allowlist and CRL
// generators so that the lists never overlap by accident: a one-byte prefix
// (a different one per list) and 7 bytes that are a bijection of the index,
// so COUNT serials of one prefix are all distinct without a set to check.
#pragma once

#include <cstdint>

namespace e2e {

inline std::uint64_t synthetic_serial(std::uint8_t prefix, std::uint64_t index) {
    constexpr std::uint64_t low56 = (std::uint64_t{1} << 56) - 1;
    // An odd multiplier is invertible modulo 2^56: distinct indexes, distinct serials.
    return (std::uint64_t{prefix} << 56) | ((index * 0x9E3779B97F4A7C15ULL) & low56);
}

}  // namespace e2e
