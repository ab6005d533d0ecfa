#include "policy/serial.h"

#include <cctype>

#include "policy/error.h"
#include "policy/openssl_ptr.h"

namespace cscguard {
namespace {

bool is_hex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

// The digits of a serial as written, without sign, "0x" or leading zeros,
// in uppercase: what both spellings (canonical hex, octets) are made from.
// Nothing is allocated, so a million allowlist lines parse quickly.
struct Digits {
    char text[2 * kMaxSerialOctets];
    std::size_t size = 0;
    bool negative = false;
};

// Returns false and the reason when the text is not a serial.
bool scan(std::string_view text, Digits& out, std::string* why) {
    const auto fail = [why](std::string reason) {
        if (why) *why = std::move(reason);
        return false;
    };
    std::string_view rest = text;
    if (!rest.empty() && rest.front() == '-') {
        out.negative = true;
        rest.remove_prefix(1);
    }
    if (rest.size() >= 2 && rest[0] == '0' && (rest[1] == 'x' || rest[1] == 'X')) {
        rest.remove_prefix(2);
    }
    if (rest.empty()) return fail("no hexadecimal digits");

    // Colons separate groups of one or two digits ("d1:d1:1c", "1:2").
    const bool grouped = rest.find(':') != std::string_view::npos;
    std::size_t group = 0;
    bool too_long = false;
    for (std::size_t i = 0; i < rest.size(); ++i) {
        const char c = rest[i];
        const std::size_t pos = static_cast<std::size_t>(rest.data() - text.data()) + i + 1;
        if (c == ':') {
            if (group == 0) return fail("empty group at ':' (position " + std::to_string(pos) + ")");
            group = 0;
            continue;
        }
        if (!is_hex(c)) {
            return fail("'" + std::string(1, c) + "' at position " + std::to_string(pos) + " is not a hexadecimal digit");
        }
        if (grouped && ++group > 2) return fail("groups between ':' must hold one or two hexadecimal digits");
        if (out.size == 0 && c == '0') continue;  // a leading zero
        if (out.size == sizeof out.text) {
            too_long = true;  // said after the syntax is known to be right
            continue;
        }
        out.text[out.size++] = c >= 'a' ? static_cast<char>(c - 'a' + 'A') : c;  // hex digits only here
    }
    if (grouped && group == 0) return fail("ends with ':'");
    if (too_long) return fail("longer than " + std::to_string(kMaxSerialOctets) + " octets");
    if (out.size == 0) out.negative = false;  // "-0" is zero
    return true;
}

std::string canonical_of(const Digits& d) {
    if (d.size == 0) return "0";
    return (d.negative ? "-" : "") + std::string(d.text, d.size);
}

int hex_value(char c) { return c <= '9' ? c - '0' : c - 'A' + 10; }

}  // namespace

std::optional<Serial> Serial::try_parse(std::string_view text, std::string* why) {
    Digits digits;
    if (!scan(text, digits, why)) return std::nullopt;
    return Serial(canonical_of(digits));
}

bool SerialOctets::parse(std::string_view text, SerialOctets& out) {
    // Most lines of a big list are plain hex digits: packed straight into
    // octets. Anything else ("0x", ':', a sign, a stray character) goes the
    // way every spelling goes.
    std::size_t first = 0;
    while (first < text.size() && text[first] == '0') ++first;
    const std::size_t digits_left = text.size() - first;
    bool plain = !text.empty() && digits_left <= 2 * kMaxSerialOctets;
    for (std::size_t i = first; plain && i < text.size(); ++i) plain = is_hex(text[i]);
    if (plain) {
        out.negative = false;
        out.size = (digits_left + 1) / 2;
        std::size_t d = first;
        std::size_t o = 0;
        const auto nibble = [](char c) { return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10; };
        if (digits_left % 2) out.bytes[o++] = static_cast<unsigned char>(nibble(text[d++]));
        for (; d < text.size(); d += 2) out.bytes[o++] = static_cast<unsigned char>(nibble(text[d]) << 4 | nibble(text[d + 1]));
        return true;
    }
    Digits digits;
    if (!scan(text, digits, nullptr)) return false;
    out.negative = digits.negative;
    out.size = (digits.size + 1) / 2;
    std::size_t d = 0;
    std::size_t o = 0;
    if (digits.size % 2) out.bytes[o++] = static_cast<unsigned char>(hex_value(digits.text[d++]));
    for (; d < digits.size; d += 2) {
        out.bytes[o++] = static_cast<unsigned char>(hex_value(digits.text[d]) << 4 | hex_value(digits.text[d + 1]));
    }
    return true;
}

Serial Serial::parse(std::string_view text) {
    std::string why;
    auto serial = try_parse(text, &why);
    if (!serial) {
        // Enough of the word to find it; not a whole line of some file a link pointed at.
        const std::string shown = text.size() > 40 ? std::string(text.substr(0, 40)) + "..." : std::string(text);
        throw PolicyError("'" + shown + "' is not a serial number: " + why);
    }
    return *serial;
}

Serial Serial::from_asn1(const ASN1_INTEGER& value) {
    BignumPtr bn(ASN1_INTEGER_to_BN(&value, nullptr));
    if (!bn) throw PolicyError("cannot decode serial number: " + drain_openssl_errors());
    char* hex = BN_bn2hex(bn.get());
    if (!hex) throw PolicyError("cannot print serial number: " + drain_openssl_errors());
    std::string text(hex);
    OPENSSL_free(hex);
    Digits digits;
    // A certificate may carry a serial longer than we accept in lists; it
    // still identifies the certificate, so keep OpenSSL's digits as they are.
    if (!scan(text, digits, nullptr)) return Serial(std::move(text));
    return Serial(canonical_of(digits));
}


}  // namespace cscguard
