// Builds certificates in memory for unit tests (libcrypto directly), so
// each test states exactly the certificate it needs.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "policy/openssl_ptr.h"

namespace cscguard::testing {

struct CertSpec {
    std::vector<std::pair<std::string, std::string>> subject;  // {"CN", "eager"}
    std::string serial_hex = "01";                               // "-01" for negative
    std::vector<std::string> san_emails;  // put in as given (no checks: tests need hostile values too)
    bool is_ca = false;
    long not_before = -3600;       // seconds from now
    long not_after = 86400L * 30;  // seconds from now
};

struct CrlSpec {
    std::vector<std::string> revoked_hex;
    long this_update = -3600;               // seconds from now
    std::optional<long> next_update = 86400;  // nullopt: no nextUpdate at all
    bool delta = false;                     // deltaCRLIndicator
    bool indirect = false;                  // issuingDistributionPoint indirectCRL
    bool only_some_reasons = false;         // issuingDistributionPoint onlySomeReasons
    bool unknown_critical = false;          // a critical private extension on the CRL
    bool entry_unknown_critical = false;    // ... on the first entry
    bool entry_certificate_issuer = false;  // certificateIssuer on the first entry
    bool der = false;
    std::optional<long> number;             // crlNumber; default: one more than this CA's last CRL
    bool no_number = false;                 // no crlNumber extension at all
};

class TestCa {
public:
    // A CA with a fresh P-256 key; two CAs with the same subject differ by key.
    explicit TestCa(const std::string& common_name);

    std::string pem() const;
    X509& cert() const { return *cert_; }

    // A certificate signed by this CA; issuer name and AKI set as a CA would.
    std::string issue(const CertSpec& spec) const;

    // A CRL signed by this CA (PEM, or DER when spec.der). CRL numbers count
    // up per CA, as a real CA's do, unless the spec says otherwise.
    std::string crl(const CrlSpec& spec) const;

private:
    EvpPkeyPtr key_;
    X509Ptr cert_;
    mutable long next_number_ = 1;
};

// A self-signed certificate (what a forger presents with optional_no_ca).
std::string self_signed(const CertSpec& spec);

std::string to_pem(X509& cert);

}  // namespace cscguard::testing
