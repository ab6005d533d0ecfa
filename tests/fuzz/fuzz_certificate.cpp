// Fuzz target: client certificates as mod_ssl hands them over
// (policy/certificate.h ClientCertificate::parse, then Policy::identify with
// two declared issuers, kitty and acme, from tests/fuzz/fuzz_pki.h).
//
// The input is parsed as it is (PEM text). An input without a PEM BEGIN line
// is also taken as DER, wrapped into PEM here, so the fuzzer mutates the
// ASN.1 directly instead of its base64 (the corpus holds both forms).
//
// Invariants: the only error is PolicyError; e-mail addresses are lowercase
// and hold no control character (they reach logs and REMOTE_USER); subject
// values hold no NUL; a serial that reads as a serial re-parses to itself;
// identify() agrees with parse() on the fields.
#include <openssl/err.h>
#include <openssl/evp.h>

#include "policy/certificate.h"
#include "policy/error.h"
#include "tests/fuzz/fuzz_check.h"
#include "tests/fuzz/fuzz_pki.h"
#include "policy/issuer.h"
#include "policy/policy.h"

using namespace cscguard;
using cscguard::fuzz::shown;

namespace {

const Policy& policy() {
    static const Policy p({Issuer::from_pem("kitty", fuzz::kKittyCaCert), Issuer::from_pem("acme", fuzz::kAcmeCaCert)},
                          {});
    return p;
}

std::string der_to_pem(std::string_view der) {
    std::string b64(4 * ((der.size() + 2) / 3) + 1, '\0');
    const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(b64.data()),
                                  reinterpret_cast<const unsigned char*>(der.data()), static_cast<int>(der.size()));
    b64.resize(static_cast<std::size_t>(n));
    std::string pem = "-----BEGIN CERTIFICATE-----\n";
    for (std::size_t i = 0; i < b64.size(); i += 64) pem += b64.substr(i, 64) + "\n";
    return pem + "-----END CERTIFICATE-----\n";
}

void check(std::string_view pem) {
    std::optional<ClientCertificate> cert;
    try {
        cert.emplace(ClientCertificate::parse(pem));
    } catch (const PolicyError&) {
        return;
    }
    for (const std::string& email : cert->emails()) {
        FUZZ_CHECK_MSG(!has_control_character(email), "e-mail with a control character: " + shown(email));
        FUZZ_CHECK_MSG(email == ascii_lower(email), "e-mail not lowercased: " + shown(email));
    }
    for (const SubjectAttribute& attr : cert->subject()) {
        FUZZ_CHECK_MSG(attr.value.find('\0') == std::string::npos, "subject value with NUL: " + shown(attr.value));
    }
    const std::string& serial = cert->serial().canonical();
    FUZZ_CHECK(!serial.empty());
    if (const auto again = Serial::try_parse(serial)) {
        FUZZ_CHECK_MSG(again->canonical() == serial, "certificate serial " + serial + " re-parses as " + again->canonical());
    }
    (void)cert->common_name();

    std::optional<Identity> identity;
    try {
        identity.emplace(policy().identify(pem));
    } catch (const PolicyError& err) {
        fuzz::fail(__FILE__, __LINE__, "identify() refused what parse() accepted", err.what());
    }
    FUZZ_CHECK(identity->cert.serial() == cert->serial());
    FUZZ_CHECK(identity->cert.subject_dn() == cert->subject_dn());
    FUZZ_CHECK(identity->cert.emails() == cert->emails());
    FUZZ_CHECK(identity->issuer_name.empty() || identity->issuer_name == "kitty" || identity->issuer_name == "acme");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view input = fuzz::as_text(data, size);
    check(input);
    if (input.find("-----BEGIN") == std::string_view::npos) check(der_to_pem(input));
    // OpenSSL keeps strings of past errors in its thread-local queue and frees
    // them only when a slot is reused: without this, runs would differ in
    // mallocs and frees, and libFuzzer would run a (slow) leak check after each.
    ERR_clear_error();
    return 0;
}
