#include "policy/identity_cache.h"

namespace cscguard {

std::shared_ptr<const Identity> IdentityCache::get(std::string_view pem, const Policy& policy, bool* decoded) {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        if (const auto it = index_.find(pem); it != index_.end()) {
            recent_.splice(recent_.begin(), recent_, it->second);
            return it->second->second;
        }
    }
    auto identity = std::make_shared<const Identity>(policy.identify(pem));
    if (decoded) *decoded = true;
    if (capacity_ == 0 || pem.size() > kMaxCachedPem) return identity;
    std::lock_guard<std::mutex> lock(mutex_);
    if (const auto it = index_.find(pem); it != index_.end()) return it->second->second;  // another thread won
    recent_.emplace_front(std::string(pem), identity);
    index_.emplace(recent_.front().first, recent_.begin());
    if (recent_.size() > capacity_) {
        index_.erase(recent_.back().first);
        recent_.pop_back();
    }
    return identity;
}

std::size_t IdentityCache::size() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return recent_.size();
}

}  // namespace cscguard
