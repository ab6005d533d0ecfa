#include "policy.h"

#include <atomic>

#include "allowlist.h"
#include "error.h"

namespace cscguard {
namespace {

std::uint64_t next_generation() {
    static std::atomic<std::uint64_t> counter{0};
    return ++counter;
}

}  // namespace

Policy::Policy(std::vector<std::shared_ptr<const Issuer>> issuers,
               const std::vector<AllowlistSource>& allowlists)
    : issuers_(std::move(issuers)), generation_(next_generation()) {
    const std::vector<std::string> names = issuer_names();
    for (std::size_t i = 0; i < names.size(); ++i) {
        for (std::size_t j = 0; j < i; ++j) {
            if (names[i] == names[j]) throw PolicyError("issuer '" + names[i] + "' is declared twice");
        }
    }
    for (const auto& source : allowlists) {
        const std::string label = "CSCGuardAllowlist " + source.name +
                                  (source.declared_at.empty() ? "" : " (" + source.declared_at + ")");
        if (allowlists_.count(source.name)) throw PolicyError(label + ": the name is declared twice");
        try {
            allowlists_.emplace(source.name, load_allowlist(source.path, names));
        } catch (const PolicyError& err) {
            throw PolicyError(label + ": " + err.what());
        }
    }
}

std::vector<std::string> Policy::issuer_names() const {
    std::vector<std::string> names;
    for (const auto& issuer : issuers_) names.push_back(issuer->name());
    return names;
}

const Issuer* Policy::find_issuer(const std::string& name) const {
    for (const auto& issuer : issuers_) {
        if (issuer->name() == name) return issuer.get();
    }
    return nullptr;
}

const SerialSet* Policy::find_allowlist(const std::string& name) const {
    const auto it = allowlists_.find(name);
    return it == allowlists_.end() ? nullptr : &it->second;
}

Identity Policy::identify(std::string_view pem) const {
    Identity identity{ClientCertificate::parse(pem), {}};
    for (const auto& issuer : issuers_) {
        if (issuer->issued(identity.cert.x509())) {
            identity.issuer = issuer->name();
            break;
        }
    }
    return identity;
}

}  // namespace cscguard
