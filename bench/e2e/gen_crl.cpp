// Writes a CRL of COUNT revoked serials signed by a CA, for the e2e
// benchmark. `openssl ca -gencrl` reads a 1,000,000-line index.txt far too
// slowly for a fixture, so this builds the CRL with libcrypto directly:
// COUNT minus the extra serials made-up ones plus the extra serials (e.g.
// the benchmark client's, to revoke it), a crlNumber (the module takes a CRL
// only over a lower one) and a nextUpdate DAYS ahead (it refuses a CRL
// without one).
//
//   e2e_gen_crl CA.crt CA.key OUT.pem COUNT PREFIX CRLNUMBER DAYS [EXTRA_HEX...]
#include "bench/e2e/serials.h"

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <memory>
#include <string>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

namespace {

[[noreturn]] void fail(const std::string& what) {
    std::fprintf(stderr, "e2e_gen_crl: %s\n", what.c_str());
    ERR_print_errors_fp(stderr);
    std::exit(1);
}

template <typename T, void (*Free)(T*)>
using Ptr = std::unique_ptr<T, decltype([](T* p) { Free(p); })>;

void add_revoked(X509_CRL* crl, ASN1_TIME* when, std::uint64_t serial_value) {
    X509_REVOKED* entry = X509_REVOKED_new();
    Ptr<ASN1_INTEGER, ASN1_INTEGER_free> serial(ASN1_INTEGER_new());
    if (!entry || !serial || !ASN1_INTEGER_set_uint64(serial.get(), serial_value) ||
        !X509_REVOKED_set_serialNumber(entry, serial.get()) || !X509_REVOKED_set_revocationDate(entry, when) ||
        !X509_CRL_add0_revoked(crl, entry)) {
        fail("cannot add a revoked entry");
    }
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 8) {
        std::fprintf(stderr, "usage: %s CA.crt CA.key OUT.pem COUNT PREFIX CRLNUMBER DAYS [EXTRA_HEX...]\n", argv[0]);
        return 2;
    }
    const long count = std::strtol(argv[4], nullptr, 10);
    const auto prefix = static_cast<std::uint8_t>(std::strtoul(argv[5], nullptr, 16));
    const long crl_number = std::strtol(argv[6], nullptr, 10);
    const long days = std::strtol(argv[7], nullptr, 10);
    const int extras = argc - 8;
    if (count < extras) return 2;

    FILE* in = std::fopen(argv[1], "r");
    if (!in) fail(std::string("cannot open ") + argv[1]);
    Ptr<X509, X509_free> ca(PEM_read_X509(in, nullptr, nullptr, nullptr));
    std::fclose(in);
    in = std::fopen(argv[2], "r");
    if (!in) fail(std::string("cannot open ") + argv[2]);
    Ptr<EVP_PKEY, EVP_PKEY_free> key(PEM_read_PrivateKey(in, nullptr, nullptr, nullptr));
    std::fclose(in);
    if (!ca || !key) fail("cannot read the CA certificate or key");

    Ptr<X509_CRL, X509_CRL_free> crl(X509_CRL_new());
    const std::time_t now = std::time(nullptr);
    Ptr<ASN1_TIME, ASN1_TIME_free> last(ASN1_TIME_adj(nullptr, now, 0, -3600));
    Ptr<ASN1_TIME, ASN1_TIME_free> next(ASN1_TIME_adj(nullptr, now, static_cast<int>(days), 0));
    if (!crl || !last || !next || !X509_CRL_set_version(crl.get(), X509_CRL_VERSION_2) ||
        !X509_CRL_set_issuer_name(crl.get(), X509_get_subject_name(ca.get())) ||
        !X509_CRL_set1_lastUpdate(crl.get(), last.get()) || !X509_CRL_set1_nextUpdate(crl.get(), next.get())) {
        fail("cannot set up the CRL");
    }
    for (long i = 0; i < count - extras; ++i) {
        add_revoked(crl.get(), last.get(), e2e::synthetic_serial(prefix, static_cast<std::uint64_t>(i)));
    }
    for (int i = 8; i < argc; ++i) add_revoked(crl.get(), last.get(), std::strtoull(argv[i], nullptr, 16));

    Ptr<ASN1_INTEGER, ASN1_INTEGER_free> number(ASN1_INTEGER_new());
    if (!number || !ASN1_INTEGER_set(number.get(), crl_number) ||
        !X509_CRL_add1_ext_i2d(crl.get(), NID_crl_number, number.get(), 0, 0)) {
        fail("cannot add the crlNumber");
    }
    // authorityKeyIdentifier, as every real CA's CRL carries (and pki.sh's).
    X509V3_CTX ctx;
    X509V3_set_ctx(&ctx, ca.get(), nullptr, nullptr, crl.get(), 0);
    Ptr<X509_EXTENSION, X509_EXTENSION_free> aki(
        X509V3_EXT_conf_nid(nullptr, &ctx, NID_authority_key_identifier, "keyid:always"));
    if (!aki || !X509_CRL_add_ext(crl.get(), aki.get(), -1)) fail("cannot add the authorityKeyIdentifier");

    if (!X509_CRL_sort(crl.get()) || !X509_CRL_sign(crl.get(), key.get(), EVP_sha256())) fail("cannot sign");
    const std::string tmp = std::string(argv[3]) + ".tmp";
    FILE* out = std::fopen(tmp.c_str(), "w");
    if (!out || !PEM_write_X509_CRL(out, crl.get()) || std::fclose(out) != 0) fail("cannot write " + tmp);
    if (std::rename(tmp.c_str(), argv[3]) != 0) fail(std::string("cannot rename to ") + argv[3]);
    return 0;
}
