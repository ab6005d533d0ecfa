// The per-process cache of decoded client certificates (HTTP/2 streams and
// reconnecting clients must not pay a decode and a signature check each).
#include "policy/identity_cache.h"

#include <thread>

#include <gtest/gtest.h>

#include "policy/error.h"
#include "tests/support/test_pki.h"

namespace cscguard {
namespace {

class Identities : public ::testing::Test {
protected:
    testing::TestCa kitty{"kitty-ca"};
    Policy policy{{Issuer::from_pem("kitty", kitty.pem())}, {}};
    std::string a = kitty.issue({{{"CN", "a"}}, "0A"});
    std::string b = kitty.issue({{{"CN", "b"}}, "0B"});
    std::string c = kitty.issue({{{"CN", "c"}}, "0C"});
};

TEST_F(Identities, DecodedOncePerCertificate) {
    IdentityCache cache(8);
    bool decoded = false;
    const auto first = cache.get(a, policy, &decoded);
    EXPECT_TRUE(decoded);
    EXPECT_EQ(first->issuer_name, "kitty");
    EXPECT_EQ(first->cert.serial().canonical(), "A");
    decoded = false;
    EXPECT_EQ(cache.get(std::string(a), policy, &decoded), first) << "a copy of the same text";
    EXPECT_FALSE(decoded);
    EXPECT_EQ(cache.get(b, policy)->cert.common_name(), "b");
    EXPECT_EQ(cache.size(), 2u);
}

TEST_F(Identities, BoundedByDroppingTheLeastRecentlyUsed) {
    IdentityCache cache(2);
    cache.get(a, policy);
    cache.get(b, policy);
    cache.get(a, policy);  // a is now the most recent
    cache.get(c, policy);  // drops b
    EXPECT_EQ(cache.size(), 2u);
    bool decoded = false;
    cache.get(a, policy, &decoded);
    EXPECT_FALSE(decoded);
    cache.get(b, policy, &decoded);
    EXPECT_TRUE(decoded);
}

TEST_F(Identities, HugeCertificatesAreNotKept) {
    IdentityCache cache(8);
    // PEM allows text before the block: a stand-in for a certificate with huge extensions.
    const std::string huge = std::string(IdentityCache::kMaxCachedPem, 'x') + "\n" + a;
    bool decoded = false;
    EXPECT_EQ(cache.get(huge, policy, &decoded)->cert.common_name(), "a");
    EXPECT_TRUE(decoded);
    EXPECT_EQ(cache.size(), 0u);
}

TEST_F(Identities, GarbageIsNotCached) {
    IdentityCache cache(2);
    EXPECT_THROW(cache.get("not a certificate", policy), PolicyError);
    EXPECT_EQ(cache.size(), 0u);
}

TEST_F(Identities, ManyThreadsAgree) {
    IdentityCache cache(2);
    std::vector<std::thread> threads;
    std::atomic<int> wrong{0};
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < 200; ++i) {
                const std::string& pem = (i + t) % 3 == 0 ? a : (i + t) % 3 == 1 ? b : c;
                const auto id = cache.get(pem, policy);
                const std::string want = &pem == &a ? "a" : &pem == &b ? "b" : "c";
                if (id->cert.common_name() != want) ++wrong;
            }
        });
    }
    for (auto& th : threads) th.join();
    EXPECT_EQ(wrong, 0);
    EXPECT_LE(cache.size(), 2u);
}

}  // namespace
}  // namespace cscguard
