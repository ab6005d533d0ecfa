#include "serial.h"

#include <cctype>

#include "error.h"
#include "openssl_ptr.h"

namespace cscguard {
namespace {

bool is_hex(char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; }

// Returns the canonical spelling or the reason the text is not a serial.
std::optional<std::string> canonicalise(std::string_view text, std::string& why) {
    std::string_view rest = text;
    bool negative = false;
    if (!rest.empty() && rest.front() == '-') {
        negative = true;
        rest.remove_prefix(1);
    }
    if (rest.size() >= 2 && rest[0] == '0' && (rest[1] == 'x' || rest[1] == 'X')) {
        rest.remove_prefix(2);
    }
    if (rest.empty()) {
        why = "no hexadecimal digits";
        return std::nullopt;
    }

    // Colons separate groups of one or two digits ("d1:d1:1c", "1:2").
    const bool grouped = rest.find(':') != std::string_view::npos;
    std::string digits;
    std::size_t group = 0;
    for (std::size_t i = 0; i < rest.size(); ++i) {
        const char c = rest[i];
        const std::size_t pos = static_cast<std::size_t>(rest.data() - text.data()) + i + 1;
        if (c == ':') {
            if (group == 0) {
                why = "empty group at ':' (position " + std::to_string(pos) + ")";
                return std::nullopt;
            }
            group = 0;
            continue;
        }
        if (!is_hex(c)) {
            why = "'" + std::string(1, c) + "' at position " + std::to_string(pos) +
                  " is not a hexadecimal digit";
            return std::nullopt;
        }
        if (grouped && ++group > 2) {
            why = "groups between ':' must hold one or two hexadecimal digits";
            return std::nullopt;
        }
        digits += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
    if (grouped && group == 0) {
        why = "ends with ':'";
        return std::nullopt;
    }

    const std::size_t first = digits.find_first_not_of('0');
    if (first == std::string::npos) return std::string("0");
    digits.erase(0, first);
    if ((digits.size() + 1) / 2 > kMaxSerialOctets) {
        why = "longer than " + std::to_string(kMaxSerialOctets) + " octets";
        return std::nullopt;
    }
    return negative ? "-" + digits : digits;
}

}  // namespace

std::optional<Serial> Serial::try_parse(std::string_view text, std::string* why) {
    std::string reason;
    auto canonical = canonicalise(text, reason);
    if (!canonical) {
        if (why) *why = reason;
        return std::nullopt;
    }
    return Serial(std::move(*canonical));
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
    std::string why;
    auto canonical = canonicalise(text, why);
    // A certificate may carry a serial longer than we accept in lists; it
    // still identifies the certificate, so keep OpenSSL's digits as they are.
    if (!canonical) return Serial(std::move(text));
    return Serial(std::move(*canonical));
}

}  // namespace cscguard
