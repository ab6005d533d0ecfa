// A CA whose client certificates the rules speak about (CSCGuardIssuer).
//
// A certificate belongs to an issuer only when the issuer's key verifies the
// certificate's signature: a second CA that copies the DN (or reuses serials)
// never passes for the first one.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "policy/openssl_ptr.h"

namespace cscguard {

class Issuer {
public:
    // Loads one CA certificate (PEM or DER) from `path`. Throws PolicyError
    // naming the file when it is unreadable, holds no or several
    // certificates, or the certificate is not a CA.
    static std::shared_ptr<const Issuer> load(std::string name, std::string path);

    // Same, from certificate text already in memory (tests, tools).
    static std::shared_ptr<const Issuer> from_pem(std::string name, std::string_view pem,
                                                  std::string origin = "<memory>");

    const std::string& name() const { return name_; }
    const std::string& path() const { return path_; }
    const std::string& subject() const { return subject_; }
    X509& certificate() const { return *cert_; }

    // True when this CA issued `cert`: the names chain and this CA's public
    // key verifies the certificate's signature.
    bool issued(X509& cert) const;

private:
    Issuer(std::string name, std::string path, X509Ptr cert);
    std::string name_;
    std::string path_;
    std::string subject_;
    X509Ptr cert_;
};

// Issuer and allowlist names. Issuer names are the prefix of ISSUER:SERIAL
// entries, so they must not be mistaken for a serial: a letter first, then
// letters, digits, '.', '_', '-', and never a one- or two-digit hex group
// such as "ab". Allowlist names follow the same rule, so one rule is learnt.
bool is_valid_name(std::string_view name);

// Throws PolicyError explaining the naming rule when `name` breaks it;
// `what` is "issuer" or "allowlist".
void check_name(std::string_view what, std::string_view name);

// RFC 2253 text of a name, UTF-8 kept as mod_ssl prints SSL_CLIENT_S_DN.
std::string name_to_string(const X509_NAME& name);

}  // namespace cscguard
