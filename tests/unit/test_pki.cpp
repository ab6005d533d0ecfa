#include "test_pki.h"

#include <stdexcept>

#include <openssl/ec.h>
#include <openssl/pem.h>

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
    BIGNUM* bn = nullptr;
    BN_hex2bn(&bn, spec.serial_hex.c_str());
    ASN1_INTEGER* serial = BN_to_ASN1_INTEGER(bn, nullptr);
    X509_set_serialNumber(cert.get(), serial);
    ASN1_INTEGER_free(serial);
    BN_free(bn);
    X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
    X509_gmtime_adj(X509_getm_notAfter(cert.get()), 86400L * 30);
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
        std::string san;
        for (const auto& e : spec.san_emails) san += (san.empty() ? "email:" : ",email:") + e;
        add_ext(cert.get(), issuer, NID_subject_alt_name, san.c_str());
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

std::string self_signed(const CertSpec& spec) {
    EvpPkeyPtr key = new_key();
    X509Ptr cert = build(spec, *key, nullptr, *key);
    return to_pem(*cert);
}

}  // namespace cscguard::testing
