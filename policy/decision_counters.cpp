#include "policy/decision_counters.h"

namespace cscguard {

std::string_view outcome_name(Outcome outcome) {
    switch (outcome) {
        case Outcome::Granted: return "granted";
        case Outcome::NoCertificate: return "no_certificate";
        case Outcome::BadCertificate: return "bad_certificate";
        case Outcome::UnknownIssuer: return "unknown_issuer";
        case Outcome::OutsideValidity: return "outside_validity";
        case Outcome::Revoked: return "revoked";
        case Outcome::StaleCrl: return "stale_crl";
        case Outcome::CacheRevoked: return "cache_revoked";
        case Outcome::CacheUnavailable: return "cache_unavailable";
        case Outcome::NotMatched: return "not_matched";
        case Outcome::Error: return "error";
        case Outcome::kCount: break;
    }
    return "error";
}

Outcome outcome_of(const Verdict& verdict) {
    if (verdict.granted) return Outcome::Granted;
    if (verdict.unknown_issuer) return Outcome::UnknownIssuer;
    if (verdict.outside_validity) return Outcome::OutsideValidity;
    if (verdict.cache_revoked) return Outcome::CacheRevoked;  // sets `revoked` too
    if (verdict.revoked) return Outcome::Revoked;
    if (verdict.stale_crl) return Outcome::StaleCrl;
    if (verdict.cache_unavailable) return Outcome::CacheUnavailable;
    return Outcome::NotMatched;
}

std::size_t provider_index(std::string_view provider) {
    for (std::size_t i = 0; i < kProviderCount; ++i) {
        if (kProviders[i] == provider) return i;
    }
    return kProviderCount;
}

}  // namespace cscguard
