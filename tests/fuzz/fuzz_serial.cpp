// Fuzz target: serial numbers (policy/serial.h) and [ISSUER:]SERIAL entries
// (policy/serial_set.h), as written in Require lines and allowlists.
//
// Invariants: try_parse() and parse() agree; a refusal says why; a serial's
// canonical() is uppercase hex without leading zeros (or "0", or "-HEX"),
// within kMaxSerialOctets, and re-parses to itself; case does not matter; the
// same integer read from a certificate (ASN.1, Serial::from_asn1) has the same
// canonical spelling; an entry re-parses from "ISSUER:CANONICAL".
#include <openssl/asn1.h>
#include <openssl/bn.h>

#include "policy/error.h"
#include "tests/fuzz/fuzz_check.h"
#include "policy/issuer.h"
#include "policy/openssl_ptr.h"
#include "policy/serial.h"
#include "policy/serial_set.h"

using namespace cscguard;
using cscguard::fuzz::shown;

namespace {

using IntegerPtr = OpenSslPtr<ASN1_INTEGER, ASN1_INTEGER_free>;

bool is_canonical(const std::string& s) {
    std::string_view digits = s;
    if (!digits.empty() && digits.front() == '-') digits.remove_prefix(1);
    if (digits.empty()) return false;
    if (digits == "0") return s == "0";  // zero has no sign
    if (digits.front() == '0') return false;
    for (char c : digits) {
        if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'F'))) return false;
    }
    return (digits.size() + 1) / 2 <= kMaxSerialOctets;
}

std::string ascii_lower_copy(std::string_view text) {
    std::string out(text);
    for (char& c : out) {
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
    return out;
}

// The canonical serial of a certificate carrying this integer.
std::string via_asn1(const std::string& canonical) {
    BIGNUM* raw = nullptr;
    const int used = BN_hex2bn(&raw, canonical.c_str());
    BignumPtr bn(raw);
    FUZZ_CHECK_MSG(bn && used == static_cast<int>(canonical.size()), "BN_hex2bn refused " + canonical);
    IntegerPtr integer(BN_to_ASN1_INTEGER(bn.get(), nullptr));
    FUZZ_CHECK(integer != nullptr);
    return Serial::from_asn1(*integer).canonical();
}

void check_serial(std::string_view text) {
    std::string why;
    const std::optional<Serial> serial = Serial::try_parse(text, &why);

    bool threw = false;
    try {
        const Serial parsed = Serial::parse(text);
        FUZZ_CHECK_MSG(serial && parsed == *serial, "parse() accepted what try_parse() refused: " + shown(text));
    } catch (const PolicyError& err) {
        threw = true;
        // what() is a C string: only compare when no NUL cuts it short.
        if (text.find('\0') == std::string_view::npos) {
            FUZZ_CHECK_MSG(std::string_view(err.what()).find(why) != std::string_view::npos,
                           "parse() and try_parse() give different reasons for " + shown(text));
        }
    }
    FUZZ_CHECK_MSG(threw == !serial, "parse() and try_parse() disagree on " + shown(text));

    const std::optional<Serial> lower = Serial::try_parse(ascii_lower_copy(text));
    FUZZ_CHECK_MSG(lower.has_value() == serial.has_value() && (!serial || *lower == *serial),
                   "lowercasing changes the serial " + shown(text));

    if (!serial) {
        FUZZ_CHECK_MSG(!why.empty(), "refused without a reason: " + shown(text));
        return;
    }
    const std::string& canonical = serial->canonical();
    FUZZ_CHECK_MSG(is_canonical(canonical), shown(text) + " gave non-canonical " + shown(canonical));
    const std::optional<Serial> again = Serial::try_parse(canonical);
    FUZZ_CHECK_MSG(again && again->canonical() == canonical,
                   "canonical " + shown(canonical) + " of " + shown(text) + " does not re-parse to itself");
    if (canonical.front() != '-') {
        const std::optional<Serial> hex = Serial::try_parse("0x" + canonical);
        FUZZ_CHECK_MSG(hex && *hex == *serial, "0x" + canonical + " differs from " + canonical);
    }
    FUZZ_CHECK_MSG(via_asn1(canonical) == canonical,
                   "a certificate with serial " + canonical + " reads as " + via_asn1(canonical));
}

void check_entry(std::string_view text) {
    SerialEntry entry{std::nullopt, Serial::parse("0")};
    try {
        entry = parse_serial_entry(text);
    } catch (const PolicyError&) {
        return;
    }
    const std::string canonical = entry.serial.canonical();
    std::string respelled = canonical;
    if (entry.issuer) {
        FUZZ_CHECK_MSG(is_valid_name(*entry.issuer), "invalid issuer name taken from " + shown(text));
        respelled = *entry.issuer + ":" + canonical;
    } else {
        const std::optional<Serial> bare = Serial::try_parse(text);
        FUZZ_CHECK_MSG(bare && *bare == entry.serial, "bare entry differs from the serial " + shown(text));
    }
    const SerialEntry again = parse_serial_entry(respelled);  // must not throw
    FUZZ_CHECK_MSG(again.issuer == entry.issuer && again.serial == entry.serial,
                   shown(text) + " and its respelling " + shown(respelled) + " differ");

    // Resolving against one declared issuer: only a foreign issuer may fail.
    try {
        const std::string issuer = resolve_issuer(entry, {"kitty"});
        FUZZ_CHECK(issuer == "kitty");
    } catch (const PolicyError&) {
        FUZZ_CHECK_MSG(entry.issuer && *entry.issuer != "kitty", "resolve_issuer refused " + shown(text));
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text = cscguard::fuzz::as_text(data, size);
    check_serial(text);
    check_entry(text);
    return 0;
}
