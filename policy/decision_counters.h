// Counts of the module's decisions since httpd started, by provider and
// outcome, for the status page (SetHandler cscguard-status).
//
// One DecisionCounters lives in memory that every process of an httpd
// shares (the glue maps it before the children are forked), so the page
// shows the sum over all children without asking them: each decision is one
// relaxed atomic increment, lock-free, which is safe across processes.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "policy/rules.h"

namespace cscguard {

// Why a `Require cscguard-*` line granted or denied, in the words of the
// metrics ("granted", "revoked", ...). One Require line is one decision; a
// RequireAny of two lines that denies counts two.
enum class Outcome : std::uint8_t {
    Granted,
    NoCertificate,     // plain HTTP, or no certificate mod_ssl verified
    BadCertificate,    // mod_ssl's certificate could not be decoded
    UnknownIssuer,     // no declared CSCGuardIssuer signed it
    OutsideValidity,   // expired or not yet valid
    Revoked,           // on its issuer's CRL
    StaleCrl,          // its issuer's CRL is past nextUpdate + grace
    CacheRevoked,      // listed in the revocation cache
    CacheUnavailable,  // the cache cannot be asked and fails closed
    NotMatched,        // a good certificate the rule does not name
    Error,             // no policy, no certificate text from mod_ssl, an internal error
    kCount
};
inline constexpr std::size_t kOutcomeCount = static_cast<std::size_t>(Outcome::kCount);

// "granted", "no_certificate", ... (the label value in ?metrics).
std::string_view outcome_name(Outcome outcome);

// The outcome a verdict stands for (the first reason evaluate() checks wins).
Outcome outcome_of(const Verdict& verdict);

// The providers, in the order of the counters.
inline constexpr std::array<std::string_view, 5> kProviders = {
    SerialRule::kProvider, EmailRule::kProvider, SubjectRule::kProvider, AllowlistRule::kProvider,
    ValidRule::kProvider};
inline constexpr std::size_t kProviderCount = kProviders.size();

// Its place in kProviders; kProviderCount when it is none of them.
std::size_t provider_index(std::string_view provider);

struct DecisionCounters {
    // Says which layout the shared memory holds: a module upgraded under a
    // graceful restart must not read counters of another shape.
    static constexpr std::uint64_t kLayout = 0x4353474400010000ULL | (kProviderCount << 8) | kOutcomeCount;

    std::uint64_t layout = kLayout;
    std::atomic<std::int64_t> since{0};  // when counting started (Unix time)
    std::array<std::array<std::atomic<std::uint64_t>, kOutcomeCount>, kProviderCount> counts{};

    void add(std::size_t provider, Outcome outcome) {
        if (provider < kProviderCount) {
            counts[provider][static_cast<std::size_t>(outcome)].fetch_add(1, std::memory_order_relaxed);
        }
    }
    std::uint64_t get(std::size_t provider, Outcome outcome) const {
        return counts[provider][static_cast<std::size_t>(outcome)].load(std::memory_order_relaxed);
    }
};
static_assert(std::atomic<std::uint64_t>::is_always_lock_free, "counters shared between processes must be lock-free");
static_assert(std::atomic<std::int64_t>::is_always_lock_free, "counters shared between processes must be lock-free");

}  // namespace cscguard
