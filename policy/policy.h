// One immutable snapshot of the policy: the declared issuers, the named
// allowlists and the CRL in force for each issuer.
//
// A reload builds a new Policy from the files that changed (and the last good
// content of the others) and swaps the pointer (see PolicyStore); a request
// takes a snapshot with one atomic load (libstdc++ guards an atomic
// shared_ptr with a short spin lock, never held across a parse) and never
// sees half of one.
#pragma once

#include <cstdint>
#include <ctime>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "policy/certificate.h"
#include "policy/crl.h"
#include "policy/issuer.h"
#include "policy/serial_table.h"

namespace cscguard {

// A client certificate together with the declared issuer that signed it.
// Depends only on the issuers, which do not change while httpd runs.
struct Identity {
    ClientCertificate cert;
    std::string issuer_name;         // the declared issuer's name; "" when none of them issued it
    std::uint16_t issuer_index = 0;  // its place among the declared issuers (what compiled tables hold)
};

class Policy {
public:
    Policy(std::vector<std::shared_ptr<const Issuer>> issuers,
           std::map<std::string, SerialTable> allowlists,
           std::vector<std::shared_ptr<const RevocationList>> crls = {}, std::time_t crl_grace = 0);

    const std::vector<std::shared_ptr<const Issuer>>& issuers() const { return issuers_; }
    std::vector<std::string> issuer_names() const;
    const Issuer* find_issuer(const std::string& name) const;
    const SerialTable* find_allowlist(const std::string& name) const;
    const std::map<std::string, SerialTable>& allowlists() const { return allowlists_; }
    // Every CRL in force, of every CRL file (the status page).
    const std::vector<std::shared_ptr<const RevocationList>>& crls() const { return crls_; }

    // The CRL in force for `issuer` (the newest: see compare_age), or null when
    // no CRL of that issuer is configured.
    const RevocationList* revocation(const std::string& issuer) const;
    // How long past nextUpdate a CRL is still believed (CSCGuardCRLGrace).
    std::time_t crl_grace() const { return crl_grace_; }

    // Decodes a PEM client certificate and finds its declared issuer by key.
    // Throws PolicyError when the PEM is not a certificate.
    Identity identify(std::string_view pem) const;

private:
    std::vector<std::shared_ptr<const Issuer>> issuers_;
    std::map<std::string, SerialTable> allowlists_;
    std::vector<std::shared_ptr<const RevocationList>> crls_;
    std::unordered_map<std::string, const RevocationList*> crl_by_issuer_;
    std::time_t crl_grace_;
};

}  // namespace cscguard
