// Fuzz target: one DER CRL read by policy/crl_der.h (split_crl,
// for_each_revoked, verify_crl_signature), checked against OpenSSL's reading
// of the same bytes: d2i_X509_CRL, X509_CRL_verify and crl.cpp's entry checks
// (no certificateIssuer, no unknown critical entry extension).
//
// Each input is read twice: as it is, and re-signed - decoded by OpenSSL,
// signed by the embedded kitty key (tests/fuzz/fuzz_pki.h) and encoded again -
// so that the signature comparison also sees CRLs that verify, and the walker
// sees OpenSSL's own DER.
//
// Invariants: the only error is PolicyError. When the walker accepts (split,
// d2i of the header, every entry), OpenSSL accepts the same bytes, with the
// same serials in the same order, and the header has the input's version,
// issuer, times, extensions and signature. When OpenSSL accepts and the
// walker refuses, the walker gives crl.cpp's very refusal of an entry, or says
// "not DER" (BER that OpenSSL tolerates) - never for a re-signed CRL, which
// is DER. verify_crl_signature agrees with X509_CRL_verify and leaves the
// error queue empty. A serial's magnitude has no leading zero octet.
#include <optional>
#include <string>
#include <vector>

#include <openssl/err.h>
#include <openssl/pem.h>

#include "policy/crl_der.h"
#include "policy/error.h"
#include "tests/fuzz/fuzz_check.h"
#include "tests/fuzz/fuzz_pki.h"
#include "policy/openssl_ptr.h"
#include "policy/serial.h"

using namespace cscguard;
using cscguard::fuzz::shown;

namespace {

using CrlPtr = OpenSslPtr<X509_CRL, X509_CRL_free>;

struct Keys {
    EvpPkeyPtr key;
    X509Ptr cert;
};

const Keys& kitty() {
    static const Keys keys = [] {
        BioPtr key_bio(BIO_new_mem_buf(fuzz::kKittyCaKey, -1));
        BioPtr cert_bio(BIO_new_mem_buf(fuzz::kKittyCaCert, -1));
        Keys k{EvpPkeyPtr(PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr)),
               X509Ptr(PEM_read_bio_X509(cert_bio.get(), nullptr, nullptr, nullptr))};
        if (!k.key || !k.cert) fuzz::fail(__FILE__, __LINE__, "cannot load the kitty CA", drain_openssl_errors());
        return k;
    }();
    return keys;
}

CrlPtr d2i_exact(std::string_view der) {
    const auto* start = reinterpret_cast<const unsigned char*>(der.data());
    const unsigned char* p = start;
    CrlPtr crl(d2i_X509_CRL(nullptr, &p, static_cast<long>(der.size())));
    if (crl && p != start + der.size()) crl.reset();
    ERR_clear_error();
    return crl;
}

// What OpenSSL and crl.cpp make of a CRL: its serials, or crl.cpp's refusal.
struct Reading {
    std::vector<std::string> serials;
    std::string refusal;  // "" when accepted
};

Reading openssl_reading(X509_CRL& crl) {
    Reading r;
    STACK_OF(X509_REVOKED)* entries = X509_CRL_get_REVOKED(&crl);
    for (int i = 0; i < sk_X509_REVOKED_num(entries); ++i) {
        const X509_REVOKED* entry = sk_X509_REVOKED_value(entries, i);
        const std::string serial = Serial::from_asn1(*X509_REVOKED_get0_serialNumber(entry)).canonical();
        r.serials.push_back(serial);
        const STACK_OF(X509_EXTENSION)* exts = X509_REVOKED_get0_extensions(entry);
        for (int j = 0; j < sk_X509_EXTENSION_num(exts); ++j) {
            X509_EXTENSION* ext = sk_X509_EXTENSION_value(exts, j);
            const int nid = OBJ_obj2nid(X509_EXTENSION_get_object(ext));
            if (nid == NID_certificate_issuer) {
                r.refusal = "is an indirect CRL (entry " + serial + " names a certificateIssuer)";
                return r;
            }
            const bool known = nid == NID_crl_reason || nid == NID_invalidity_date || nid == NID_hold_instruction_code;
            if (X509_EXTENSION_get_critical(ext) && !known) {
                char buf[80];
                OBJ_obj2txt(buf, sizeof buf, X509_EXTENSION_get_object(ext), 0);
                r.refusal = "entry " + serial + " has an unknown critical extension " + buf;
                return r;
            }
        }
    }
    return r;
}

std::string i2d_string(const X509_EXTENSION* ext) {
    unsigned char* der = nullptr;
    const int len = i2d_X509_EXTENSION(ext, &der);
    std::string out = len > 0 ? std::string(reinterpret_cast<char*>(der), static_cast<std::size_t>(len)) : "";
    OPENSSL_free(der);
    return out;
}

void same_header(X509_CRL& header, X509_CRL& crl, const std::string& input) {
    const std::string detail = shown(input, 600);
    FUZZ_CHECK_MSG(X509_CRL_get_version(&header) == X509_CRL_get_version(&crl), detail);
    FUZZ_CHECK_MSG(X509_NAME_cmp(X509_CRL_get_issuer(&header), X509_CRL_get_issuer(&crl)) == 0, detail);
    FUZZ_CHECK_MSG(ASN1_STRING_cmp(X509_CRL_get0_lastUpdate(&header), X509_CRL_get0_lastUpdate(&crl)) == 0, detail);
    const ASN1_TIME* a = X509_CRL_get0_nextUpdate(&header);
    const ASN1_TIME* b = X509_CRL_get0_nextUpdate(&crl);
    FUZZ_CHECK_MSG((a == nullptr) == (b == nullptr) && (!a || ASN1_STRING_cmp(a, b) == 0), detail);
    FUZZ_CHECK_MSG(X509_CRL_get_ext_count(&header) == X509_CRL_get_ext_count(&crl), detail);
    for (int i = 0; i < X509_CRL_get_ext_count(&crl); ++i) {
        FUZZ_CHECK_MSG(i2d_string(X509_CRL_get_ext(&header, i)) == i2d_string(X509_CRL_get_ext(&crl, i)), detail);
    }
    const ASN1_BIT_STRING* sig_a = nullptr;
    const ASN1_BIT_STRING* sig_b = nullptr;
    const X509_ALGOR* alg_a = nullptr;
    const X509_ALGOR* alg_b = nullptr;
    X509_CRL_get0_signature(&header, &sig_a, &alg_a);
    X509_CRL_get0_signature(&crl, &sig_b, &alg_b);
    FUZZ_CHECK_MSG(ASN1_STRING_cmp(sig_a, sig_b) == 0 && X509_ALGOR_cmp(alg_a, alg_b) == 0, detail);
    FUZZ_CHECK_MSG(X509_CRL_get_REVOKED(&header) == nullptr, "the header holds entries: " + detail);
}

bool says_not_der(const std::string& error) { return error.find("not DER") != std::string::npos; }

void check(const std::string& input, bool resigned) {
    const char* how = resigned ? "re-signed: " : "as given: ";
    // The walker's reading.
    std::vector<std::string> serials;
    std::string error;
    CrlParts parts;
    CrlPtr header;
    bool split = false;
    try {
        parts = split_crl(input);
        split = true;
        header = d2i_exact(parts.header);
        if (!header) throw PolicyError("header does not decode");
        for_each_revoked(parts.entries, [&](std::string_view magnitude, bool negative) {
            FUZZ_CHECK(magnitude.empty() || magnitude.front() != 0);
            FUZZ_CHECK(!(negative && magnitude.empty()));
            serials.push_back(canonical_serial(magnitude, negative));
        });
    } catch (const PolicyError& err) {
        error = err.what();
        FUZZ_CHECK(!error.empty());
    }
    FUZZ_CHECK_MSG(ERR_peek_error() == 0, how + drain_openssl_errors());

    // OpenSSL's.
    const CrlPtr crl = d2i_exact(input);
    if (!crl) {
        FUZZ_CHECK_MSG(!error.empty(), how + std::string("the walker accepts what d2i_X509_CRL refuses: ") + shown(input, 2000));
        return;
    }
    const Reading reading = openssl_reading(*crl);
    if (error.empty()) {
        FUZZ_CHECK_MSG(reading.refusal.empty(), how + ("crl.cpp refuses (" + reading.refusal + ") what the walker accepts: ") +
                                                    shown(input, 2000));
        FUZZ_CHECK_MSG(serials == reading.serials, how + std::string("other serials than OpenSSL's: ") + shown(input, 2000));
        same_header(*header, *crl, input);
    } else {
        const bool excused = error == reading.refusal || (!resigned && says_not_der(error));
        FUZZ_CHECK_MSG(excused, how + ("the walker refuses (" + error + ") what OpenSSL reads" +
                                       (reading.refusal.empty() ? "" : " and crl.cpp refuses (" + reading.refusal + ")")) +
                                    ": " + shown(input, 2000));
    }
    if (split) {
        EVP_PKEY* key = X509_get0_pubkey(kitty().cert.get());
        const bool openssl_says = X509_CRL_verify(crl.get(), key) == 1;
        ERR_clear_error();
        const bool walker_says = verify_crl_signature(parts, *key);
        FUZZ_CHECK_MSG(ERR_peek_error() == 0, how + drain_openssl_errors());
        FUZZ_CHECK_MSG(walker_says == openssl_says, how + std::string("X509_CRL_verify says ") +
                                                        (openssl_says ? "good" : "bad") + ": " + shown(input, 2000));
        if (resigned) FUZZ_CHECK_MSG(walker_says, "a re-signed CRL does not verify: " + shown(input, 2000));
    }
}

// The input's CRL as OpenSSL decodes it, signed by kitty and encoded again.
std::optional<std::string> resigned(const std::string& input) {
    const CrlPtr crl = d2i_exact(input);
    if (!crl) return std::nullopt;
    X509_CRL_set_issuer_name(crl.get(), X509_get_subject_name(kitty().cert.get()));
    unsigned char* der = nullptr;
    int len = 0;
    if (X509_CRL_sign(crl.get(), kitty().key.get(), EVP_sha256()) <= 0 || (len = i2d_X509_CRL(crl.get(), &der)) <= 0) {
        ERR_clear_error();
        return std::nullopt;
    }
    std::string out(reinterpret_cast<char*>(der), static_cast<std::size_t>(len));
    OPENSSL_free(der);
    return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string input(fuzz::as_text(data, size));
    check(input, false);
    if (const std::optional<std::string> again = resigned(input)) check(*again, true);
    // As in fuzz_crl: an empty queue keeps runs alike (and libFuzzer's leak check quiet).
    ERR_clear_error();
    return 0;
}
