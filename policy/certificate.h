// What the rules need to know about a client certificate, decoded once.
//
// The glue hands us mod_ssl's SSL_CLIENT_CERT (PEM); everything here comes
// from that certificate, never from request headers or the environment.
#pragma once

#include <ctime>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "policy/openssl_ptr.h"
#include "policy/serial.h"

namespace cscguard {

struct SubjectAttribute {
    std::string oid;    // dotted OID, e.g. "2.5.4.3" for CN
    std::string value;  // UTF-8
};

// Decodes one PEM certificate. Throws PolicyError when `pem` is not one.
X509Ptr parse_pem_certificate(std::string_view pem);

// The fields rules match on, copied out of a certificate: a few hundred
// bytes, so decoded identities can be cached without keeping OpenSSL objects.
class ClientCertificate {
public:
    // Throws PolicyError when `pem` is not one certificate.
    static ClientCertificate parse(std::string_view pem);
    // Throws PolicyError when a field cannot be decoded (e.g. its validity dates).
    static ClientCertificate from_x509(X509& x509);

    const Serial& serial() const { return serial_; }
    const std::string& subject_dn() const { return subject_dn_; }
    const std::string& issuer_dn() const { return issuer_dn_; }
    const std::vector<SubjectAttribute>& subject() const { return subject_; }
    // Subject emailAddress values and rfc822Name subjectAltNames, in that
    // order, lowercased (mail domains and, here, local parts match without case).
    // Values with control characters (CR, LF...) are left out: they are no
    // address, and must never reach a header a backend reads.
    const std::vector<std::string>& emails() const { return emails_; }
    // The first subject CN, or "" when there is none.
    std::string common_name() const;
    // The validity period (notBefore, notAfter).
    std::time_t not_before() const { return not_before_; }
    std::time_t not_after() const { return not_after_; }

private:
    explicit ClientCertificate(Serial serial) : serial_(std::move(serial)) {}
    Serial serial_;
    std::time_t not_before_ = 0;
    std::time_t not_after_ = 0;
    std::string subject_dn_;
    std::string issuer_dn_;
    std::vector<SubjectAttribute> subject_;
    std::vector<std::string> emails_;
};

// The rfc822Name subjectAltNames of `x509`, in order and as written (UTF-8):
// what the module matches (lowercased) and what the CA tool shows and renews.
// Values that are no address are left out: undecodable, hiding a NUL byte,
// or holding a control character (CR, LF...) that must never reach a header.
std::vector<std::string> san_emails(X509& x509);

// Dotted OID text of an attribute name ("CN", "commonName", "2.5.4.3"...),
// or "" when OpenSSL does not know the name.
std::string attribute_oid(std::string_view name);

std::string ascii_lower(std::string_view text);

// True when `text` holds a byte below 0x20 or 0x7F (CR, LF, NUL, ESC...).
bool has_control_character(std::string_view text);

}  // namespace cscguard
