// Keys, certificates, CSRs, CRLs and .p12 bundles, with OpenSSL 3 libcrypto.
#pragma once

#include <ctime>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "tools/cscguard/database.h"
#include "policy/openssl_ptr.h"

namespace cscguard::tool {

using X509ReqPtr = OpenSslPtr<X509_REQ, X509_REQ_free>;

// "ec:P-256" (default), "ec:P-384", "rsa:2048", "rsa:3072", "rsa:4096".
// Ed25519 is refused for client certificates: browsers do not accept it.
EvpPkeyPtr generate_key(std::string_view spec, bool for_client);
void check_key_spec(std::string_view spec, bool for_client);

// PBKDF2 iterations for an encrypted key (OWASP's 2023 figure for
// PBKDF2-HMAC-SHA256): decrypting the CA key takes about 0.15 s on a 2.1 GHz core,
// once per signing command.
constexpr int kKeyPbkdf2Iterations = 600000;

// PKCS#8 PEM; with a passphrase, PBES2: PBKDF2-HMAC-SHA256 (kKeyPbkdf2Iterations,
// 16-byte random salt) and AES-256-CBC.
std::string private_key_pem(EVP_PKEY& key, const std::string& passphrase = "");
// Throws ToolError(kBadSecret) for a wrong passphrase.
EvpPkeyPtr load_private_key(const std::string& pem, const std::string& passphrase, const std::string& origin);
X509Ptr load_certificate(const std::string& pem, const std::string& origin);
std::string certificate_pem(X509& cert);

struct CertProfile {
    std::string kind;  // "ca", "client" or "server"
    std::string common_name;
    std::vector<std::string> groups;  // subject OU values
    std::vector<std::string> emails;  // rfc822Name subjectAltNames
    std::vector<std::string> sans;    // server: "DNS:host", "IP:127.0.0.1" (san_problem)
    int days = 365;
    std::string crl_url;
    std::time_t not_before = 0;  // 0: now
};

// Signs a certificate for `subject_key` (self-signed when issuer is null).
// Names (e-mails, SANs, the CRL URL) are checked again here and go in through
// the ASN.1 API; ToolError(kUsage) for one that is not valid.
X509Ptr build_certificate(const CertProfile& profile, EVP_PKEY& subject_key, X509* issuer, EVP_PKEY& issuer_key,
                          const std::string& serial_hex);

// Why `name` is not a DNS name a certificate may carry, "" when it is one:
// letters, digits and '-' in labels of 1 to 63 characters, not starting or
// ending with '-', 253 characters in all, no trailing dot; an optional leading
// "*." wildcard before two labels or more; not an IPv4 address.
std::string dns_name_problem(std::string_view name);
// Why a subjectAltName is refused ("" when fine): "DNS:name" (dns_name_problem)
// or "IP:address" (IPv4 or IPv6, as inet_pton reads them), nothing else.
std::string san_problem(const std::string& san);
// ToolError(kUsage) naming the --san value when san_problem finds something.
void check_san(const std::string& san);
// Why a CRL distribution point URL is refused ("" when fine): http(s)://,
// printable ASCII without spaces.
std::string crl_url_problem(std::string_view url);

// SHA-256 of the DER certificate, "AB:CD:..." as `openssl x509 -fingerprint` shows it.
std::string sha256_fingerprint(X509& cert);

// 16 random bytes with the top bit cleared (positive, 127 bits of entropy,
// within RFC 5280's 20 octets), as uppercase hex, not in `taken`.
std::string random_serial(const std::set<std::string>& taken);

// A CSR's public key, after checking its signature; refuses (kRefused) a
// request for CA:TRUE and (kFailure) anything that is not a CSR.
EvpPkeyPtr public_key_of_csr(const std::string& pem, const std::string& origin, bool for_client);

// The dates of the CRL in a PEM file; ToolError when it is not a CRL with a nextUpdate.
struct CrlDates {
    std::time_t this_update = 0;
    std::time_t next_update = 0;
};
CrlDates read_crl_dates(const std::string& pem, const std::string& origin);

// A CRL of `revoked` records, nextUpdate `days` from `now`.
std::string build_crl_pem(X509& ca, EVP_PKEY& ca_key, const std::vector<Record>& revoked,
                          const std::string& number_hex, int days, std::time_t now);

// PKCS#12: "compat" is 3DES/SHA-1 (old macOS keychains, Java, Windows Server
// 2016 import it); "modern" is AES-256-CBC/PBKDF2 with a SHA-256 MAC.
std::string build_p12(X509& cert, EVP_PKEY& key, X509& ca, const std::string& friendly_name,
                      const std::string& password, std::string_view profile);

}  // namespace cscguard::tool
