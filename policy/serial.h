// Certificate serial numbers in one canonical spelling.
//
// People write serials as "D1D11C749D9C2D16", "d1:d1:1c:74:9d:9c:2d:16",
// "0xD1D1...", with or without leading zeros; mod_ssl and OpenSSL print whole
// bytes ("0A1B"). All of these denote an integer, and the integer is what we
// compare: the canonical form is uppercase hex without leading zeros, "0" for
// zero, with a leading "-" for the (non-conforming but real) negative serials.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <openssl/asn1.h>

namespace cscguard {

// RFC 5280 caps serials at 20 octets; some real CAs overshoot a little, so we
// accept a margin and refuse anything longer as not a serial.
inline constexpr std::size_t kMaxSerialOctets = 35;

// A serial as the integer's sign and big-endian magnitude, without leading
// zero octets (zero has none): the form compiled tables store.
struct SerialOctets {
    unsigned char bytes[kMaxSerialOctets];
    std::size_t size = 0;
    bool negative = false;

    std::string_view view() const { return {reinterpret_cast<const char*>(bytes), size}; }
    // Any spelling Serial::parse accepts; false for anything else (without
    // allocating: Serial::parse says why).
    static bool parse(std::string_view text, SerialOctets& out);
};

class Serial {
public:
    // Parses any accepted spelling; throws PolicyError with the reason when
    // `text` is not a serial number.
    static Serial parse(std::string_view text);

    // Same as parse(), but returns nothing instead of throwing.
    static std::optional<Serial> try_parse(std::string_view text, std::string* why = nullptr);

    // The serial of a certificate as OpenSSL decoded it.
    static Serial from_asn1(const ASN1_INTEGER& value);

    const std::string& canonical() const { return hex_; }

    friend bool operator==(const Serial&, const Serial&) = default;

private:
    explicit Serial(std::string hex) : hex_(std::move(hex)) {}
    std::string hex_;
};

}  // namespace cscguard
