// The loaded policy of one server: its declared issuers and named allowlists.
//
// A Policy is immutable once built; a later reload builds a new one and swaps
// the pointer, so requests read it without locks and never see half of one.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "certificate.h"
#include "issuer.h"
#include "serial_set.h"

namespace cscguard {

struct AllowlistSource {
    std::string name;
    std::string path;
    std::string declared_at;  // where the configuration names it, for errors
};

// A client certificate together with the declared issuer that signed it.
struct Identity {
    ClientCertificate cert;
    std::string issuer;  // declared issuer name; "" when none of them issued it
};

class Policy {
public:
    // Loads the allowlist files. Throws PolicyError naming file and line.
    Policy(std::vector<std::shared_ptr<const Issuer>> issuers,
           const std::vector<AllowlistSource>& allowlists);

    const std::vector<std::shared_ptr<const Issuer>>& issuers() const { return issuers_; }
    std::vector<std::string> issuer_names() const;
    const Issuer* find_issuer(const std::string& name) const;
    const SerialSet* find_allowlist(const std::string& name) const;

    // Each Policy gets a distinct number, so per-connection caches built
    // against an older policy can tell they are stale.
    std::uint64_t generation() const { return generation_; }

    // Decodes a PEM client certificate and finds its declared issuer by key.
    // Throws PolicyError when the PEM is not a certificate.
    Identity identify(std::string_view pem) const;

private:
    std::vector<std::shared_ptr<const Issuer>> issuers_;
    std::unordered_map<std::string, SerialSet> allowlists_;
    std::uint64_t generation_;
};

}  // namespace cscguard
