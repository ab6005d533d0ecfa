// Decoded client certificates of one process, keyed by their PEM text.
//
// Decoding a certificate and checking its issuer's signature costs ~180 us;
// a client reconnecting, or sending many HTTP/2 streams on one connection,
// presents the same certificate again. The cache keys on mod_ssl's PEM text
// itself (compared whole, so a hash collision never returns another
// certificate's identity) and holds at most `capacity` identities, dropping
// the least recently used; a certificate bigger than kMaxCachedPem (a usual
// one is 1-2 KB) is decoded every time instead, so the cache stays small.
// An identity depends only on the declared issuers, which change only with a
// restart, when the cache is rebuilt.
#pragma once

#include <cstddef>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "policy/policy.h"

namespace cscguard {

class IdentityCache {
public:
    static constexpr std::size_t kMaxCachedPem = 16 * 1024;

    explicit IdentityCache(std::size_t capacity) : capacity_(capacity) {}

    // The identity of `pem`, decoded with `policy` when not cached (then
    // `*decoded` is set). Thread-safe; decoding runs outside the lock.
    // Throws PolicyError when `pem` is not a certificate (nothing is cached).
    std::shared_ptr<const Identity> get(std::string_view pem, const Policy& policy, bool* decoded = nullptr);

    std::size_t size() const;
    std::size_t capacity() const { return capacity_; }

private:
    using Entry = std::pair<std::string, std::shared_ptr<const Identity>>;
    const std::size_t capacity_;
    mutable std::mutex mutex_;
    std::list<Entry> recent_;  // most recently used first
    std::unordered_map<std::string_view, std::list<Entry>::iterator> index_;  // views into recent_'s keys
};

}  // namespace cscguard
