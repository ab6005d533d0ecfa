#include "x509_builder.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>

#include "crl.h"
#include "tool_error.h"

namespace cscguard::tool {
namespace {

void free_extensions(STACK_OF(X509_EXTENSION)* s) { sk_X509_EXTENSION_pop_free(s, X509_EXTENSION_free); }
void free_certificates(STACK_OF(X509)* s) { sk_X509_pop_free(s, X509_free); }

using CrlPtr = OpenSslPtr<X509_CRL, X509_CRL_free>;
using Pkcs12Ptr = OpenSslPtr<PKCS12, PKCS12_free>;
using ExtensionsPtr = OpenSslPtr<STACK_OF(X509_EXTENSION), free_extensions>;
using CertificatesPtr = OpenSslPtr<STACK_OF(X509), free_certificates>;
using TimePtr = OpenSslPtr<ASN1_TIME, ASN1_TIME_free>;

[[noreturn]] void openssl_failed(const std::string& what) {
    throw ToolError(kFailure, what + ": " + drain_openssl_errors());
}

std::string bio_text(BIO& bio) {
    char* data = nullptr;
    const long len = BIO_get_mem_data(&bio, &data);
    return std::string(data, static_cast<std::size_t>(len));
}

void add_ext(X509* cert, X509* issuer, int nid, const std::string& value) {
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
    if (!ext) openssl_failed("cannot make extension " + value);
    X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
}

ASN1_INTEGER* hex_to_asn1(const std::string& hex) {
    BIGNUM* bn = nullptr;
    if (!BN_hex2bn(&bn, hex.c_str())) openssl_failed("bad serial " + hex);
    ASN1_INTEGER* value = BN_to_ASN1_INTEGER(bn, nullptr);
    BN_free(bn);
    return value;
}

bool is_ed_key(EVP_PKEY& key) {
    const int id = EVP_PKEY_get_base_id(&key);
    return id == EVP_PKEY_ED25519 || id == EVP_PKEY_ED448;
}

}  // namespace

void check_key_spec(std::string_view spec, bool for_client) {
    if (spec == "ed25519" || spec == "ed448") {
        if (for_client) {
            throw ToolError(kRefused, "Ed25519 client certificates are refused: browsers do not accept them "
                                      "(use ec:P-256, the default, or rsa:2048)");
        }
        return;
    }
    for (const char* ok : {"ec:P-256", "ec:P-384", "rsa:2048", "rsa:3072", "rsa:4096"}) {
        if (spec == ok) return;
    }
    throw ToolError(kUsage, "'" + std::string(spec) + "' is not a key type (ec:P-256, ec:P-384, rsa:2048, rsa:3072, rsa:4096)");
}

EvpPkeyPtr generate_key(std::string_view spec, bool for_client) {
    check_key_spec(spec, for_client);
    EVP_PKEY* key = nullptr;
    if (spec.substr(0, 3) == "ec:") {
        key = EVP_EC_gen(std::string(spec.substr(3)).c_str());
    } else if (spec.substr(0, 4) == "rsa:") {
        key = EVP_RSA_gen(static_cast<unsigned>(std::stoul(std::string(spec.substr(4)))));
    } else {
        key = EVP_PKEY_Q_keygen(nullptr, nullptr, spec == "ed25519" ? "ED25519" : "ED448");
    }
    if (!key) openssl_failed("cannot generate a " + std::string(spec) + " key");
    return EvpPkeyPtr(key);
}

std::string private_key_pem(EVP_PKEY& key, const std::string& passphrase) {
    BioPtr bio(BIO_new(BIO_s_mem()));
    const EVP_CIPHER* cipher = passphrase.empty() ? nullptr : EVP_aes_256_cbc();
    auto* pass = reinterpret_cast<const unsigned char*>(passphrase.data());
    if (!PEM_write_bio_PKCS8PrivateKey(bio.get(), &key, cipher, reinterpret_cast<const char*>(pass),
                                       static_cast<int>(passphrase.size()), nullptr, nullptr)) {
        openssl_failed("cannot write a private key");
    }
    return bio_text(*bio);
}

EvpPkeyPtr load_private_key(const std::string& pem, const std::string& passphrase, const std::string& origin) {
    BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
    // An empty passphrase must not make OpenSSL prompt on the terminal.
    std::string pass = passphrase;
    EVP_PKEY* key = PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, pass.empty() ? const_cast<char*>("") : pass.data());
    if (!key) {
        const std::string errors = drain_openssl_errors();
        if (pem.find("ENCRYPTED") != std::string::npos) {
            throw ToolError(kBadSecret, origin + ": wrong or missing CA passphrase (give it with --ca-pass SRC)");
        }
        throw ToolError(kFailure, origin + ": not a private key: " + errors);
    }
    return EvpPkeyPtr(key);
}

X509Ptr load_certificate(const std::string& pem, const std::string& origin) {
    BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
    X509* cert = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr);
    if (!cert) throw ToolError(kFailure, origin + ": not a PEM certificate: " + drain_openssl_errors());
    return X509Ptr(cert);
}

std::string certificate_pem(X509& cert) {
    BioPtr bio(BIO_new(BIO_s_mem()));
    if (!PEM_write_bio_X509(bio.get(), &cert)) openssl_failed("cannot write a certificate");
    return bio_text(*bio);
}

std::string random_serial(const std::set<std::string>& taken) {
    for (;;) {
        unsigned char bytes[16];
        if (RAND_bytes(bytes, sizeof bytes) != 1) openssl_failed("the random number generator failed");
        bytes[0] &= 0x7f;
        if (bytes[0] == 0) continue;  // keep 16 whole bytes: no leading zero to strip
        static const char* hex = "0123456789ABCDEF";
        std::string s;
        for (unsigned char b : bytes) {
            s += hex[b >> 4];
            s += hex[b & 15];
        }
        if (!taken.count(s)) return s;
    }
}

X509Ptr build_certificate(const CertProfile& p, EVP_PKEY& subject_key, X509* issuer, EVP_PKEY& issuer_key,
                          const std::string& serial_hex) {
    X509Ptr cert(X509_new());
    X509_set_version(cert.get(), 2);
    ASN1_INTEGER* serial = hex_to_asn1(serial_hex);
    X509_set_serialNumber(cert.get(), serial);
    ASN1_INTEGER_free(serial);
    const std::time_t start = p.not_before ? p.not_before : std::time(nullptr) - 300;  // tolerate clock skew
    ASN1_TIME_set(X509_getm_notBefore(cert.get()), start);
    ASN1_TIME_set(X509_getm_notAfter(cert.get()), start + 300 + static_cast<std::time_t>(p.days) * 86400);

    X509_NAME* name = X509_get_subject_name(cert.get());
    for (const auto& group : p.groups) {
        X509_NAME_add_entry_by_txt(name, "OU", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(group.c_str()), -1, -1, 0);
    }
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(p.common_name.c_str()), -1, -1, 0);
    X509_set_issuer_name(cert.get(), issuer ? X509_get_subject_name(issuer) : name);
    X509_set_pubkey(cert.get(), &subject_key);

    X509* signer = issuer ? issuer : cert.get();
    add_ext(cert.get(), signer, NID_subject_key_identifier, "hash");
    if (p.kind == "ca") {
        add_ext(cert.get(), signer, NID_basic_constraints, "critical,CA:TRUE,pathlen:0");
        add_ext(cert.get(), signer, NID_key_usage, "critical,keyCertSign,cRLSign");
    } else {
        add_ext(cert.get(), signer, NID_authority_key_identifier, "keyid");
        add_ext(cert.get(), signer, NID_basic_constraints, "critical,CA:FALSE");
        const bool rsa = EVP_PKEY_get_base_id(&subject_key) == EVP_PKEY_RSA;
        add_ext(cert.get(), signer, NID_key_usage,
                p.kind == "server" && rsa ? "critical,digitalSignature,keyEncipherment" : "critical,digitalSignature");
        add_ext(cert.get(), signer, NID_ext_key_usage, p.kind == "client" ? "clientAuth" : "serverAuth");
        std::string san;
        for (const auto& e : p.emails) san += (san.empty() ? "" : ",") + std::string("email:") + e;
        for (const auto& s : p.sans) san += (san.empty() ? "" : ",") + s;
        if (!san.empty()) add_ext(cert.get(), signer, NID_subject_alt_name, san);
        if (!p.crl_url.empty()) add_ext(cert.get(), signer, NID_crl_distribution_points, "URI:" + p.crl_url);
    }
    // Ed25519 signs without a separate digest.
    if (!X509_sign(cert.get(), &issuer_key, is_ed_key(issuer_key) ? nullptr : EVP_sha256())) {
        openssl_failed("cannot sign the certificate");
    }
    return cert;
}

EvpPkeyPtr public_key_of_csr(const std::string& pem, const std::string& origin, bool for_client) {
    BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
    X509ReqPtr req(PEM_read_bio_X509_REQ(bio.get(), nullptr, nullptr, nullptr));
    if (!req) {
        const auto* der = reinterpret_cast<const unsigned char*>(pem.data());
        req.reset(d2i_X509_REQ(nullptr, &der, static_cast<long>(pem.size())));
    }
    if (!req) throw ToolError(kFailure, origin + ": not a certificate signing request: " + drain_openssl_errors());
    EVP_PKEY* key = X509_REQ_get0_pubkey(req.get());
    if (!key || X509_REQ_verify(req.get(), key) != 1) {
        throw ToolError(kFailure, origin + ": the request's signature does not verify: " + drain_openssl_errors());
    }
    ExtensionsPtr exts(X509_REQ_get_extensions(req.get()));
    for (int i = 0; exts && i < sk_X509_EXTENSION_num(exts.get()); ++i) {
        X509_EXTENSION* ext = sk_X509_EXTENSION_value(exts.get(), i);
        if (OBJ_obj2nid(X509_EXTENSION_get_object(ext)) != NID_basic_constraints) continue;
        auto* bc = static_cast<BASIC_CONSTRAINTS*>(X509V3_EXT_d2i(ext));
        const bool ca = bc && bc->ca;
        BASIC_CONSTRAINTS_free(bc);
        if (ca) throw ToolError(kRefused, origin + ": the request asks for CA:TRUE; cscguard signs end-entity certificates only");
    }
    if (for_client && is_ed_key(*key)) {
        throw ToolError(kRefused, origin + ": Ed25519 client certificates are refused: browsers do not accept them");
    }
    ERR_clear_error();
    EVP_PKEY_up_ref(key);
    return EvpPkeyPtr(key);
}

CrlDates read_crl_dates(const std::string& pem, const std::string& origin) {
    BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
    CrlPtr crl(PEM_read_bio_X509_CRL(bio.get(), nullptr, nullptr, nullptr));
    if (!crl || !X509_CRL_get0_nextUpdate(crl.get())) {
        drain_openssl_errors();
        throw ToolError(kFailure, origin + ": not a CRL with a nextUpdate");
    }
    return {asn1_to_time(*X509_CRL_get0_lastUpdate(crl.get())), asn1_to_time(*X509_CRL_get0_nextUpdate(crl.get()))};
}

std::string build_crl_pem(X509& ca, EVP_PKEY& ca_key, const std::vector<Record>& revoked,
                          const std::string& number_hex, int days, std::time_t now) {
    CrlPtr crl(X509_CRL_new());
    X509_CRL_set_version(crl.get(), 1);
    X509_CRL_set_issuer_name(crl.get(), X509_get_subject_name(&ca));
    TimePtr t(ASN1_TIME_set(nullptr, now - 60));
    X509_CRL_set1_lastUpdate(crl.get(), t.get());
    ASN1_TIME_set(t.get(), now + static_cast<std::time_t>(days) * 86400);
    X509_CRL_set1_nextUpdate(crl.get(), t.get());
    for (const Record& r : revoked) {
        X509_REVOKED* entry = X509_REVOKED_new();
        ASN1_INTEGER* serial = hex_to_asn1(r.serial);
        X509_REVOKED_set_serialNumber(entry, serial);
        ASN1_INTEGER_free(serial);
        ASN1_TIME_set(t.get(), r.revoked_at);
        X509_REVOKED_set_revocationDate(entry, t.get());
        if (!r.reason.empty() && r.reason != "unspecified") {
            static const char* names[] = {"unspecified", "keyCompromise", "CACompromise", "affiliationChanged",
                                          "superseded", "cessationOfOperation", "certificateHold", "", "removeFromCRL",
                                          "privilegeWithdrawn"};
            for (long code = 0; code < 10; ++code) {
                if (r.reason != names[code]) continue;
                ASN1_ENUMERATED* reason = ASN1_ENUMERATED_new();
                ASN1_ENUMERATED_set(reason, code);
                X509_REVOKED_add1_ext_i2d(entry, NID_crl_reason, reason, 0, 0);
                ASN1_ENUMERATED_free(reason);
            }
        }
        X509_CRL_add0_revoked(crl.get(), entry);
    }
    ASN1_INTEGER* number = hex_to_asn1(number_hex);
    X509_CRL_add1_ext_i2d(crl.get(), NID_crl_number, number, 0, 0);
    ASN1_INTEGER_free(number);
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, &ca, nullptr, nullptr, crl.get(), 0);
    if (X509_EXTENSION* aki = X509V3_EXT_conf_nid(nullptr, &ctx, NID_authority_key_identifier, "keyid:always")) {
        X509_CRL_add_ext(crl.get(), aki, -1);
        X509_EXTENSION_free(aki);
    }
    X509_CRL_sort(crl.get());
    if (!X509_CRL_sign(crl.get(), &ca_key, is_ed_key(ca_key) ? nullptr : EVP_sha256())) openssl_failed("cannot sign the CRL");
    BioPtr bio(BIO_new(BIO_s_mem()));
    PEM_write_bio_X509_CRL(bio.get(), crl.get());
    return bio_text(*bio);
}

std::string build_p12(X509& cert, EVP_PKEY& key, X509& ca, const std::string& friendly_name,
                      const std::string& password, std::string_view profile) {
    CertificatesPtr chain(sk_X509_new_null());
    X509_up_ref(&ca);
    sk_X509_push(chain.get(), &ca);
    const bool modern = profile == "modern";
    if (!modern && profile != "compat") throw ToolError(kUsage, "'" + std::string(profile) + "' is not a .p12 profile (compat or modern)");
    const int nid = modern ? NID_aes_256_cbc : NID_pbe_WithSHA1And3_Key_TripleDES_CBC;
    // mac_iter -1: no MAC yet; it is added below with the profile's digest.
    Pkcs12Ptr p12(PKCS12_create_ex(password.c_str(), friendly_name.c_str(), &key, &cert, chain.get(), nid, nid,
                                   PKCS12_DEFAULT_ITER, -1, 0, nullptr, nullptr));
    if (!p12) openssl_failed("cannot build the .p12");
    if (!PKCS12_set_mac(p12.get(), password.c_str(), -1, nullptr, 0, PKCS12_DEFAULT_ITER,
                        modern ? EVP_sha256() : EVP_sha1())) {
        openssl_failed("cannot MAC the .p12");
    }
    BioPtr bio(BIO_new(BIO_s_mem()));
    if (!i2d_PKCS12_bio(bio.get(), p12.get())) openssl_failed("cannot write the .p12");
    return bio_text(*bio);
}

}  // namespace cscguard::tool
