#include "tools/cscguard/x509_builder.h"

#include <arpa/inet.h>

#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>

#include "policy/crl.h"
#include "policy/crl_reason.h"
#include "policy/email.h"
#include "tools/cscguard/tool_error.h"

namespace cscguard::tool {
namespace {

void free_extensions(STACK_OF(X509_EXTENSION)* s) { sk_X509_EXTENSION_pop_free(s, X509_EXTENSION_free); }
void free_certificates(STACK_OF(X509)* s) { sk_X509_pop_free(s, X509_free); }

using CrlPtr = OpenSslPtr<X509_CRL, X509_CRL_free>;
using Pkcs12Ptr = OpenSslPtr<PKCS12, PKCS12_free>;
using ExtensionsPtr = OpenSslPtr<STACK_OF(X509_EXTENSION), free_extensions>;
using CertificatesPtr = OpenSslPtr<STACK_OF(X509), free_certificates>;
using TimePtr = OpenSslPtr<ASN1_TIME, ASN1_TIME_free>;
using Ia5StringPtr = OpenSslPtr<ASN1_IA5STRING, ASN1_IA5STRING_free>;
using OctetStringPtr = OpenSslPtr<ASN1_OCTET_STRING, ASN1_OCTET_STRING_free>;
using GeneralNamePtr = OpenSslPtr<GENERAL_NAME, GENERAL_NAME_free>;
using DistPointPtr = OpenSslPtr<DIST_POINT, DIST_POINT_free>;
using DistPointsPtr = OpenSslPtr<CRL_DIST_POINTS, CRL_DIST_POINTS_free>;
using AlgorPtr = OpenSslPtr<X509_ALGOR, X509_ALGOR_free>;
using Pkcs8InfoPtr = OpenSslPtr<PKCS8_PRIV_KEY_INFO, PKCS8_PRIV_KEY_INFO_free>;
using SigPtr = OpenSslPtr<X509_SIG, X509_SIG_free>;
using RevokedPtr = OpenSslPtr<X509_REVOKED, X509_REVOKED_free>;
using ExtensionPtr = OpenSslPtr<X509_EXTENSION, X509_EXTENSION_free>;
using BasicConstraintsPtr = OpenSslPtr<BASIC_CONSTRAINTS, BASIC_CONSTRAINTS_free>;
using EnumeratedPtr = OpenSslPtr<ASN1_ENUMERATED, ASN1_ENUMERATED_free>;

[[noreturn]] void openssl_failed(const std::string& what) {
    throw ToolError(kFailure, what + ": " + drain_openssl_errors());
}

std::string bio_text(BIO& bio) {
    char* data = nullptr;
    const long len = BIO_get_mem_data(&bio, &data);
    if (len < 0 || (len > 0 && !data)) openssl_failed("cannot read a memory buffer");
    return std::string(data, static_cast<std::size_t>(len));
}

BioPtr memory_bio() {
    BioPtr bio(BIO_new(BIO_s_mem()));
    if (!bio) openssl_failed("cannot make a memory buffer");
    return bio;
}

// A read-only BIO over `data`, which must outlive it.
BioPtr reader_bio(const std::string& data) {
    BioPtr bio(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
    if (!bio) openssl_failed("cannot make a memory buffer");
    return bio;
}

void add_ext(X509* cert, X509* issuer, int nid, const std::string& value) {
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
    const ExtensionPtr ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str()));
    if (!ext) openssl_failed("cannot make extension " + value);
    if (!X509_add_ext(cert, ext.get(), -1)) openssl_failed("cannot add extension " + value);
}

// Names go in through the ASN.1 API, never as config text: "a,email:b"
// stays one name instead of becoming two.
GeneralNamePtr ia5_name(int type, const std::string& value) {
    Ia5StringPtr text(ASN1_IA5STRING_new());
    if (!text || !ASN1_STRING_set(text.get(), value.data(), static_cast<int>(value.size()))) openssl_failed("cannot store " + value);
    GeneralNamePtr name(GENERAL_NAME_new());
    if (!name) openssl_failed("cannot store " + value);
    GENERAL_NAME_set0_value(name.get(), type, text.release());
    return name;
}

GeneralNamePtr ip_name(const std::string& text) {
    unsigned char bytes[16];
    int size = 4;
    if (inet_pton(AF_INET, text.c_str(), bytes) != 1) {
        size = 16;
        if (inet_pton(AF_INET6, text.c_str(), bytes) != 1) throw ToolError(kUsage, "'" + printable(text) + "' is not an IP address");
    }
    OctetStringPtr octets(ASN1_OCTET_STRING_new());
    if (!octets || !ASN1_OCTET_STRING_set(octets.get(), bytes, size)) openssl_failed("cannot store " + text);
    GeneralNamePtr name(GENERAL_NAME_new());
    if (!name) openssl_failed("cannot store " + text);
    GENERAL_NAME_set0_value(name.get(), GEN_IPADD, octets.release());
    return name;
}

void push_name(GENERAL_NAMES& names, GeneralNamePtr name) {
    if (!sk_GENERAL_NAME_push(&names, name.get())) openssl_failed("cannot add a name");
    name.release();  // the stack owns it now
}

// One GENERAL_NAME for "DNS:name" or "IP:address"; ToolError(kUsage) saying why not.
GeneralNamePtr alt_name(const std::string& san) {
    if (const std::string why = san_problem(san); !why.empty()) throw ToolError(kUsage, "subjectAltName '" + printable(san) + "': " + why);
    return san.rfind("DNS:", 0) == 0 ? ia5_name(GEN_DNS, san.substr(4)) : ip_name(san.substr(3));
}

void add_subject_alt_names(X509& cert, const CertProfile& p) {
    GeneralNamesPtr names(GENERAL_NAMES_new());
    if (!names) openssl_failed("cannot make subjectAltName");
    for (const auto& e : p.emails) {
        if (!is_valid_email(e)) throw ToolError(kUsage, "subjectAltName e-mail '" + printable(e) + "' is not an e-mail address");
        push_name(*names, ia5_name(GEN_EMAIL, e));
    }
    for (const auto& san : p.sans) push_name(*names, alt_name(san));
    if (sk_GENERAL_NAME_num(names.get()) == 0) return;
    if (X509_add1_ext_i2d(&cert, NID_subject_alt_name, names.get(), 0, X509V3_ADD_DEFAULT) != 1) {
        openssl_failed("cannot add subjectAltName");
    }
}

void add_crl_distribution_point(X509& cert, const std::string& url) {
    if (const std::string why = crl_url_problem(url); !why.empty()) throw ToolError(kUsage, "CRL URL '" + printable(url) + "': " + why);
    DistPointPtr point(DIST_POINT_new());
    if (!point || !(point->distpoint = DIST_POINT_NAME_new()) || !(point->distpoint->name.fullname = GENERAL_NAMES_new())) {
        openssl_failed("cannot make crlDistributionPoints");
    }
    point->distpoint->type = 0;  // fullName
    push_name(*point->distpoint->name.fullname, ia5_name(GEN_URI, url));
    DistPointsPtr points(sk_DIST_POINT_new_null());
    if (!points || !sk_DIST_POINT_push(points.get(), point.get())) openssl_failed("cannot make crlDistributionPoints");
    point.release();
    if (X509_add1_ext_i2d(&cert, NID_crl_distribution_points, points.get(), 0, X509V3_ADD_DEFAULT) != 1) {
        openssl_failed("cannot add crlDistributionPoints");
    }
}

bool is_ldh(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
}

Asn1IntegerPtr hex_to_asn1(const std::string& hex) {
    BignumPtr bn(BN_new());
    BIGNUM* in_place = bn.get();  // BN_hex2bn fills a BIGNUM it is given instead of allocating one
    if (!bn || BN_hex2bn(&in_place, hex.c_str()) != static_cast<int>(hex.size())) openssl_failed("bad serial " + hex);
    Asn1IntegerPtr value(BN_to_ASN1_INTEGER(bn.get(), nullptr));
    if (!value) openssl_failed("bad serial " + hex);
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
    EvpPkeyPtr key;
    if (spec.substr(0, 3) == "ec:") {
        key.reset(EVP_EC_gen(std::string(spec.substr(3)).c_str()));
    } else if (spec.substr(0, 4) == "rsa:") {
        key.reset(EVP_RSA_gen(static_cast<unsigned>(std::stoul(std::string(spec.substr(4))))));
    } else {
        key.reset(EVP_PKEY_Q_keygen(nullptr, nullptr, spec == "ed25519" ? "ED25519" : "ED448"));
    }
    if (!key) openssl_failed("cannot generate a " + std::string(spec) + " key");
    return key;
}

std::string private_key_pem(EVP_PKEY& key, const std::string& passphrase) {
    const BioPtr bio = memory_bio();
    if (passphrase.empty()) {
        if (!PEM_write_bio_PKCS8PrivateKey(bio.get(), &key, nullptr, nullptr, 0, nullptr, nullptr)) {
            openssl_failed("cannot write a private key");
        }
        return bio_text(*bio);
    }
    // PKCS#8 PBES2: PBKDF2-HMAC-SHA256 with kKeyPbkdf2Iterations and a 16-byte
    // salt, then AES-256-CBC (PEM_write_bio_PKCS8PrivateKey would use 2048 iterations).
    unsigned char salt[16];
    if (RAND_bytes(salt, sizeof salt) != 1) openssl_failed("the random number generator failed");
    AlgorPtr pbe(PKCS5_pbe2_set_iv_ex(EVP_aes_256_cbc(), kKeyPbkdf2Iterations, salt, sizeof salt, nullptr, NID_hmacWithSHA256,
                                      nullptr));
    Pkcs8InfoPtr info(EVP_PKEY2PKCS8(&key));
    if (!pbe || !info) openssl_failed("cannot encrypt a private key");
    SigPtr sig(PKCS8_set0_pbe_ex(passphrase.data(), static_cast<int>(passphrase.size()), info.get(), pbe.get(), nullptr, nullptr));
    if (!sig) openssl_failed("cannot encrypt a private key");
    pbe.release();  // the X509_SIG owns it now (on failure it stays ours)
    if (!PEM_write_bio_PKCS8(bio.get(), sig.get())) openssl_failed("cannot write a private key");
    return bio_text(*bio);
}

EvpPkeyPtr load_private_key(const std::string& pem, const std::string& passphrase, const std::string& origin) {
    const BioPtr bio = reader_bio(pem);
    // An empty passphrase must not make OpenSSL prompt on the terminal.
    std::string pass = passphrase;
    EvpPkeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, pass.empty() ? const_cast<char*>("") : pass.data()));
    if (!key) {
        const std::string errors = drain_openssl_errors();
        if (pem.find("ENCRYPTED") != std::string::npos) {
            throw ToolError(kBadSecret, origin + ": wrong or missing CA passphrase (give it with --ca-pass SRC)");
        }
        throw ToolError(kFailure, origin + ": not a private key: " + errors);
    }
    return key;
}

X509Ptr load_certificate(const std::string& pem, const std::string& origin) {
    const BioPtr bio = reader_bio(pem);
    X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
    if (!cert) throw ToolError(kFailure, origin + ": not a PEM certificate: " + drain_openssl_errors());
    return cert;
}

std::string certificate_pem(X509& cert) {
    const BioPtr bio = memory_bio();
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
    if (!cert || !X509_set_version(cert.get(), 2)) openssl_failed("cannot make a certificate");
    if (!X509_set_serialNumber(cert.get(), hex_to_asn1(serial_hex).get())) openssl_failed("cannot set the serial");
    const std::time_t start = p.not_before ? p.not_before : std::time(nullptr) - 300;  // tolerate clock skew
    if (!ASN1_TIME_set(X509_getm_notBefore(cert.get()), start) ||
        !ASN1_TIME_set(X509_getm_notAfter(cert.get()), start + 300 + static_cast<std::time_t>(p.days) * 86400)) {
        openssl_failed("cannot set the validity");
    }

    X509_NAME* name = X509_get_subject_name(cert.get());
    for (const auto& group : p.groups) {
        if (!X509_NAME_add_entry_by_txt(name, "OU", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(group.c_str()), -1, -1, 0)) {
            openssl_failed("cannot set OU=" + group);
        }
    }
    if (!X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(p.common_name.c_str()), -1, -1, 0) ||
        !X509_set_issuer_name(cert.get(), issuer ? X509_get_subject_name(issuer) : name) || !X509_set_pubkey(cert.get(), &subject_key)) {
        openssl_failed("cannot set the names and key of " + p.common_name);
    }

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
        add_subject_alt_names(*cert, p);
        if (!p.crl_url.empty()) add_crl_distribution_point(*cert, p.crl_url);
    }
    // Ed25519 signs without a separate digest.
    if (!X509_sign(cert.get(), &issuer_key, is_ed_key(issuer_key) ? nullptr : EVP_sha256())) {
        openssl_failed("cannot sign the certificate");
    }
    return cert;
}

std::string dns_name_problem(std::string_view name) {
    if (name.empty()) return "an empty name";
    if (name.size() > 253) return "longer than 253 characters";
    std::string_view rest = name;
    const bool wildcard = rest.substr(0, 2) == "*.";
    if (wildcard) rest.remove_prefix(2);
    if (wildcard && rest.find('.') == std::string_view::npos) return "a wildcard needs two labels or more after \"*.\"";
    unsigned char v4[4];
    if (inet_pton(AF_INET, std::string(name).c_str(), v4) == 1) return "an IPv4 address: use IP:";
    for (std::size_t start = 0;;) {
        const std::size_t dot = rest.find('.', start);
        const std::string_view label = rest.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
        if (label.empty()) return "an empty label (\"..\", or a dot at the start or end)";
        if (label.size() > 63) return "a label longer than 63 characters";
        for (char c : label) {
            if (c == '*') return "a wildcard is \"*.\" at the start only";
            if (!is_ldh(c)) return "'" + printable(std::string(1, c)) + "' is not a letter, digit or '-'";
        }
        if (label.front() == '-' || label.back() == '-') return "a label starts or ends with '-'";
        if (dot == std::string_view::npos) return "";
        start = dot + 1;
    }
}

std::string san_problem(const std::string& san) {
    if (san.rfind("DNS:", 0) == 0) {
        const std::string why = dns_name_problem(std::string_view(san).substr(4));
        return why.empty() ? "" : "not a DNS name: " + why;
    }
    if (san.rfind("IP:", 0) == 0) {
        unsigned char bytes[16];
        const std::string ip = san.substr(3);
        if (inet_pton(AF_INET, ip.c_str(), bytes) == 1 || inet_pton(AF_INET6, ip.c_str(), bytes) == 1) return "";
        return "not an IPv4 or IPv6 address";
    }
    return "use DNS:name or IP:address";
}

void check_san(const std::string& san) {
    if (const std::string why = san_problem(san); !why.empty()) throw ToolError(kUsage, "--san '" + printable(san) + "': " + why);
}

std::string crl_url_problem(std::string_view url) {
    const std::size_t scheme = url.rfind("http://", 0) == 0 ? 7 : url.rfind("https://", 0) == 0 ? 8 : 0;
    if (scheme == 0) return "want an http:// or https:// URL";
    if (url.size() == scheme) return "no host";
    for (char c : url) {
        if (c <= ' ' || c >= 0x7f) return "spaces, control and non-ASCII characters must be %-encoded";
    }
    return "";
}

std::string sha256_fingerprint(X509& cert) {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (!X509_digest(&cert, EVP_sha256(), md, &len)) openssl_failed("cannot hash a certificate");
    static const char* hex = "0123456789ABCDEF";
    std::string out;
    for (unsigned int i = 0; i < len; ++i) {
        if (i) out += ':';
        out += hex[md[i] >> 4];
        out += hex[md[i] & 15];
    }
    return out;
}

EvpPkeyPtr public_key_of_csr(const std::string& pem, const std::string& origin, bool for_client) {
    const ClearErrorsOnReturn clear;  // a DER request first fails as PEM
    const BioPtr bio = reader_bio(pem);
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
        const BasicConstraintsPtr bc(static_cast<BASIC_CONSTRAINTS*>(X509V3_EXT_d2i(ext)));
        if (bc && bc->ca) throw ToolError(kRefused, origin + ": the request asks for CA:TRUE; cscguard signs end-entity certificates only");
    }
    if (for_client && is_ed_key(*key)) {
        throw ToolError(kRefused, origin + ": Ed25519 client certificates are refused: browsers do not accept them");
    }
    if (!EVP_PKEY_up_ref(key)) openssl_failed(origin + ": cannot keep the request's key");
    return EvpPkeyPtr(key);
}

CrlDates read_crl_dates(const std::string& pem, const std::string& origin) {
    const BioPtr bio = reader_bio(pem);
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
    TimePtr t(ASN1_TIME_set(nullptr, now - 60));
    if (!crl || !t || !X509_CRL_set_version(crl.get(), 1) || !X509_CRL_set_issuer_name(crl.get(), X509_get_subject_name(&ca)) ||
        !X509_CRL_set1_lastUpdate(crl.get(), t.get()) || !ASN1_TIME_set(t.get(), now + static_cast<std::time_t>(days) * 86400) ||
        !X509_CRL_set1_nextUpdate(crl.get(), t.get())) {
        openssl_failed("cannot make the CRL");
    }
    for (const Record& r : revoked) {
        RevokedPtr entry(X509_REVOKED_new());
        if (!entry || !X509_REVOKED_set_serialNumber(entry.get(), hex_to_asn1(r.serial).get()) || !ASN1_TIME_set(t.get(), r.revoked_at) ||
            !X509_REVOKED_set_revocationDate(entry.get(), t.get())) {
            openssl_failed("cannot add " + r.serial + " to the CRL");
        }
        // unspecified is left out, as RFC 5280 asks.
        if (const auto code = crl_reason_code(r.reason); code && *code != 0) {
            EnumeratedPtr reason(ASN1_ENUMERATED_new());
            if (!reason || !ASN1_ENUMERATED_set(reason.get(), *code) ||
                X509_REVOKED_add1_ext_i2d(entry.get(), NID_crl_reason, reason.get(), 0, 0) != 1) {
                openssl_failed("cannot add the reason of " + r.serial + " to the CRL");
            }
        }
        if (!X509_CRL_add0_revoked(crl.get(), entry.get())) openssl_failed("cannot add " + r.serial + " to the CRL");
        entry.release();  // the CRL owns it now
    }
    if (X509_CRL_add1_ext_i2d(crl.get(), NID_crl_number, hex_to_asn1(number_hex).get(), 0, 0) != 1) {
        openssl_failed("cannot set the CRL number");
    }
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, &ca, nullptr, nullptr, crl.get(), 0);
    const ExtensionPtr aki(X509V3_EXT_conf_nid(nullptr, &ctx, NID_authority_key_identifier, "keyid:always"));
    if (!aki || !X509_CRL_add_ext(crl.get(), aki.get(), -1)) openssl_failed("cannot add the CRL's authorityKeyIdentifier");
    if (!X509_CRL_sort(crl.get()) || !X509_CRL_sign(crl.get(), &ca_key, is_ed_key(ca_key) ? nullptr : EVP_sha256())) {
        openssl_failed("cannot sign the CRL");
    }
    const BioPtr bio = memory_bio();
    if (!PEM_write_bio_X509_CRL(bio.get(), crl.get())) openssl_failed("cannot write the CRL");
    return bio_text(*bio);
}

std::string build_p12(X509& cert, EVP_PKEY& key, X509& ca, const std::string& friendly_name,
                      const std::string& password, std::string_view profile) {
    CertificatesPtr chain(sk_X509_new_null());
    if (!chain || !X509_up_ref(&ca)) openssl_failed("cannot build the .p12");
    X509Ptr chained(&ca);  // the reference just taken, until the chain holds it
    if (!sk_X509_push(chain.get(), chained.get())) openssl_failed("cannot build the .p12");
    chained.release();
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
    const BioPtr bio = memory_bio();
    if (!i2d_PKCS12_bio(bio.get(), p12.get())) openssl_failed("cannot write the .p12");
    return bio_text(*bio);
}

}  // namespace cscguard::tool
