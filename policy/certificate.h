// What the rules need to know about a client certificate, decoded once.
//
// The glue hands us mod_ssl's SSL_CLIENT_CERT (PEM); everything here comes
// from that certificate, never from request headers or the environment.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "openssl_ptr.h"
#include "serial.h"

namespace cscguard {

struct SubjectAttribute {
    std::string oid;    // dotted OID, e.g. "2.5.4.3" for CN
    std::string value;  // UTF-8
};

class ClientCertificate {
public:
    // Throws PolicyError when `pem` is not one certificate.
    static ClientCertificate parse(std::string_view pem);

    const Serial& serial() const { return serial_; }
    const std::string& subject_dn() const { return subject_dn_; }
    const std::string& issuer_dn() const { return issuer_dn_; }
    const std::vector<SubjectAttribute>& subject() const { return subject_; }
    // Subject emailAddress values and rfc822Name subjectAltNames, in that
    // order, lowercased (mail domains and, here, local parts match without case).
    const std::vector<std::string>& emails() const { return emails_; }
    // The first subject CN, or "" when there is none.
    std::string common_name() const;
    X509& x509() const { return *x509_; }

private:
    ClientCertificate(X509Ptr x509, Serial serial)
        : x509_(std::move(x509)), serial_(std::move(serial)) {}
    X509Ptr x509_;
    Serial serial_;
    std::string subject_dn_;
    std::string issuer_dn_;
    std::vector<SubjectAttribute> subject_;
    std::vector<std::string> emails_;
};

// Dotted OID text of an attribute name ("CN", "commonName", "2.5.4.3"...),
// or "" when OpenSSL does not know the name.
std::string attribute_oid(std::string_view name);

std::string ascii_lower(std::string_view text);

}  // namespace cscguard
