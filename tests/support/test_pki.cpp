#include "tests/support/test_pki.h"

#include <algorithm>
#include <stdexcept>

#include <openssl/ec.h>
#include <openssl/pem.h>

#include "tests/support/asn1_integer.h"

namespace cscguard::testing {
namespace {

EvpPkeyPtr new_key() {
    EvpPkeyPtr key(EVP_EC_gen("P-256"));
    if (!key) throw std::runtime_error("EVP_EC_gen failed");
    return key;
}

void add_ext(X509* cert, X509* issuer, int nid, const char* value) {
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
    if (!ext) throw std::runtime_error(std::string("bad extension ") + value);
    X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
}

X509Ptr build(const CertSpec& spec, EVP_PKEY& subject_key, X509* issuer_cert, EVP_PKEY& issuer_key) {
    X509Ptr cert(X509_new());
    X509_set_version(cert.get(), 2);
    X509_set_serialNumber(cert.get(), hex_integer(spec.serial_hex).get());
    X509_gmtime_adj(X509_getm_notBefore(cert.get()), spec.not_before);
    X509_gmtime_adj(X509_getm_notAfter(cert.get()), spec.not_after);
    X509_NAME* name = X509_get_subject_name(cert.get());
    for (const auto& [attr, value] : spec.subject) {
        X509_NAME_add_entry_by_txt(name, attr.c_str(), MBSTRING_UTF8,
                                   reinterpret_cast<const unsigned char*>(value.data()),
                                   static_cast<int>(value.size()), -1, 0);
    }
    X509_set_issuer_name(cert.get(), issuer_cert ? X509_get_subject_name(issuer_cert) : name);
    X509_set_pubkey(cert.get(), &subject_key);
    X509* issuer = issuer_cert ? issuer_cert : cert.get();
    add_ext(cert.get(), issuer, NID_basic_constraints, spec.is_ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
    add_ext(cert.get(), issuer, NID_subject_key_identifier, "hash");
    if (issuer_cert) add_ext(cert.get(), issuer, NID_authority_key_identifier, "keyid");
    if (spec.is_ca) add_ext(cert.get(), issuer, NID_key_usage, "critical,keyCertSign,cRLSign");
    if (!spec.san_emails.empty()) {
        GENERAL_NAMES* names = GENERAL_NAMES_new();
        for (const auto& e : spec.san_emails) {
            ASN1_IA5STRING* text = ASN1_IA5STRING_new();
            ASN1_STRING_set(text, e.data(), static_cast<int>(e.size()));
            GENERAL_NAME* general = GENERAL_NAME_new();
            GENERAL_NAME_set0_value(general, GEN_EMAIL, text);
            sk_GENERAL_NAME_push(names, general);
        }
        X509_add1_ext_i2d(cert.get(), NID_subject_alt_name, names, 0, 0);
        GENERAL_NAMES_free(names);
    }
    if (!X509_sign(cert.get(), &issuer_key, EVP_sha256())) throw std::runtime_error("X509_sign failed");
    return cert;
}

}  // namespace

std::string to_pem(X509& cert) {
    BioPtr bio(BIO_new(BIO_s_mem()));
    PEM_write_bio_X509(bio.get(), &cert);
    char* data = nullptr;
    const long len = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, static_cast<std::size_t>(len));
}

TestCa::TestCa(const std::string& common_name) : key_(new_key()) {
    CertSpec spec;
    spec.subject = {{"CN", common_name}, {"O", "Test CAs"}};
    spec.is_ca = true;
    cert_ = build(spec, *key_, nullptr, *key_);
}

std::string TestCa::pem() const { return to_pem(*cert_); }

std::string TestCa::issue(const CertSpec& spec) const {
    EvpPkeyPtr key = new_key();
    X509Ptr cert = build(spec, *key, cert_.get(), *key_);
    return to_pem(*cert);
}

namespace {

void add_private_critical(X509_CRL* crl, X509_REVOKED* entry) {
    ASN1_OBJECT* obj = OBJ_txt2obj("1.3.6.1.4.1.99999.1", 1);
    ASN1_OCTET_STRING* data = ASN1_OCTET_STRING_new();
    ASN1_OCTET_STRING_set(data, reinterpret_cast<const unsigned char*>("\x05\x00"), 2);
    X509_EXTENSION* ext = X509_EXTENSION_create_by_OBJ(nullptr, obj, 1, data);
    if (crl) X509_CRL_add_ext(crl, ext, -1);
    if (entry) X509_REVOKED_add_ext(entry, ext, -1);
    X509_EXTENSION_free(ext);
    ASN1_OCTET_STRING_free(data);
    ASN1_OBJECT_free(obj);
}

}  // namespace

std::string TestCa::crl(const CrlSpec& spec) const {
    X509_CRL* crl = X509_CRL_new();
    X509_CRL_set_version(crl, 1);
    X509_CRL_set_issuer_name(crl, X509_get_subject_name(cert_.get()));
    const time_t now = time(nullptr);
    ASN1_TIME* t = ASN1_TIME_set(nullptr, now + spec.this_update);
    X509_CRL_set1_lastUpdate(crl, t);
    if (spec.next_update) {
        ASN1_TIME_set(t, now + *spec.next_update);
        X509_CRL_set1_nextUpdate(crl, t);
    }
    bool first = true;
    for (const auto& hex : spec.revoked_hex) {
        X509_REVOKED* entry = X509_REVOKED_new();
        X509_REVOKED_set_serialNumber(entry, hex_integer(hex).get());
        ASN1_TIME_set(t, now - 60);
        X509_REVOKED_set_revocationDate(entry, t);
        ASN1_ENUMERATED* reason = ASN1_ENUMERATED_new();
        ASN1_ENUMERATED_set(reason, 1);  // keyCompromise
        X509_REVOKED_add1_ext_i2d(entry, NID_crl_reason, reason, 0, 0);
        ASN1_ENUMERATED_free(reason);
        if (first && spec.entry_unknown_critical) add_private_critical(nullptr, entry);
        if (first && spec.entry_certificate_issuer) {
            GENERAL_NAMES* names = GENERAL_NAMES_new();
            GENERAL_NAME* name = GENERAL_NAME_new();
            GENERAL_NAME_set0_value(name, GEN_DIRNAME, X509_NAME_dup(X509_get_subject_name(cert_.get())));
            sk_GENERAL_NAME_push(names, name);
            X509_REVOKED_add1_ext_i2d(entry, NID_certificate_issuer, names, 1, 0);
            GENERAL_NAMES_free(names);
        }
        first = false;
        X509_CRL_add0_revoked(crl, entry);
    }
    ASN1_TIME_free(t);
    const long n = spec.number ? *spec.number : next_number_;
    next_number_ = std::max(next_number_, n) + 1;
    ASN1_INTEGER* number = ASN1_INTEGER_new();
    ASN1_INTEGER_set(number, n);
    if (!spec.no_number) X509_CRL_add1_ext_i2d(crl, NID_crl_number, number, 0, 0);
    if (spec.delta) X509_CRL_add1_ext_i2d(crl, NID_delta_crl, number, 1, 0);
    ASN1_INTEGER_free(number);
    if (spec.indirect || spec.only_some_reasons) {
        ISSUING_DIST_POINT* idp = ISSUING_DIST_POINT_new();
        idp->indirectCRL = spec.indirect ? 1 : 0;
        if (spec.only_some_reasons) {
            idp->onlysomereasons = ASN1_BIT_STRING_new();
            ASN1_BIT_STRING_set_bit(idp->onlysomereasons, 1, 1);
        }
        X509_CRL_add1_ext_i2d(crl, NID_issuing_distribution_point, idp, 1, 0);
        ISSUING_DIST_POINT_free(idp);
    }
    if (spec.unknown_critical) add_private_critical(crl, nullptr);
    X509_CRL_sort(crl);
    X509_CRL_sign(crl, key_.get(), EVP_sha256());

    BioPtr bio(BIO_new(BIO_s_mem()));
    if (spec.der) i2d_X509_CRL_bio(bio.get(), crl);
    else PEM_write_bio_X509_CRL(bio.get(), crl);
    X509_CRL_free(crl);
    char* data = nullptr;
    const long len = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, static_cast<std::size_t>(len));
}

std::string self_signed(const CertSpec& spec) {
    EvpPkeyPtr key = new_key();
    X509Ptr cert = build(spec, *key, nullptr, *key);
    return to_pem(*cert);
}

}  // namespace cscguard::testing
