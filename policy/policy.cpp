#include "policy/policy.h"

#include "policy/error.h"

namespace cscguard {

Policy::Policy(std::vector<std::shared_ptr<const Issuer>> issuers,
               std::map<std::string, SerialTable> allowlists,
               std::vector<std::shared_ptr<const RevocationList>> crls, std::time_t crl_grace)
    : issuers_(std::move(issuers)), allowlists_(std::move(allowlists)), crls_(std::move(crls)), crl_grace_(crl_grace) {
    const std::vector<std::string> names = issuer_names();
    for (std::size_t i = 0; i < names.size(); ++i) {
        for (std::size_t j = 0; j < i; ++j) {
            if (names[i] == names[j]) throw PolicyError("issuer '" + names[i] + "' is declared twice");
        }
    }
    if (names.size() > 0xFFFF) throw PolicyError("more than 65535 issuers are declared");
    for (const auto& crl : crls_) {
        const RevocationList*& slot = crl_by_issuer_[crl->issuer];
        if (!slot || compare_age(*crl, *slot) > 0) slot = crl.get();
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

const SerialTable* Policy::find_allowlist(const std::string& name) const {
    const auto it = allowlists_.find(name);
    return it == allowlists_.end() ? nullptr : &it->second;
}

const RevocationList* Policy::revocation(const std::string& issuer) const {
    const auto it = crl_by_issuer_.find(issuer);
    return it == crl_by_issuer_.end() ? nullptr : it->second;
}

Identity Policy::identify(std::string_view pem) const {
    const X509Ptr x509 = parse_pem_certificate(pem);
    Identity identity{ClientCertificate::from_x509(*x509), {}};
    for (std::size_t i = 0; i < issuers_.size(); ++i) {
        if (issuers_[i]->issued(*x509)) {
            identity.issuer_name = issuers_[i]->name();
            identity.issuer_index = static_cast<std::uint16_t>(i);
            break;
        }
    }
    return identity;
}

}  // namespace cscguard
