// Reload decisions: what changes is picked up, what is bad or missing keeps
// its last good content, each problem is logged once per change.
#include "policy_store.h"

#include <cstdio>
#include <fstream>
#include <fcntl.h>
#include <sys/stat.h>

#include <gtest/gtest.h>

#include "error.h"
#include "test_pki.h"

namespace cscguard {
namespace {

using testing::TestCa;

class Store : public ::testing::Test {
protected:
    void SetUp() override {
        dir = ::testing::TempDir() + "/store-" + ::testing::UnitTest::GetInstance()->current_test_info()->name();
        std::system(("rm -rf '" + dir + "' && mkdir -p '" + dir + "'").c_str());
        list = dir + "/staff.list";
        crl = dir + "/kitty.crl";
        replace(list, "kitty:01\n");
        replace(crl, kitty.crl({}));
        store = std::make_unique<PolicyStore>(issuers, std::vector<AllowlistSource>{{"staff", list, "site.conf:3"}},
                                              std::vector<CrlSource>{{crl, "site.conf:4"}}, 0);
    }

    // Atomic rename into place, as careful tools write.
    static void replace(const std::string& path, const std::string& text) {
        std::ofstream(path + ".new", std::ios::binary) << text;
        std::rename((path + ".new").c_str(), path.c_str());
    }

    // In-place rewrite keeping the size, as an editor might.
    static void rewrite_in_place(const std::string& path, const std::string& text) {
        std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
    }

    bool refresh() {
        logged.clear();
        return store->refresh([this](LogLevel level, const std::string& text) { logged.push_back({level, text}); });
    }

    std::size_t errors() const {
        std::size_t n = 0;
        for (const auto& [level, text] : logged) n += level == LogLevel::Error;
        return n;
    }

    bool listed(const char* serial) const {
        return store->current()->find_allowlist("staff")->contains("kitty", Serial::parse(serial));
    }

    bool revoked(const char* serial) const {
        const RevocationList* l = store->current()->revocation("kitty");
        return l && l->revokes(Serial::parse(serial));
    }

    TestCa kitty{"kitty-ca"};
    TestCa impostor{"kitty-ca"};
    std::vector<std::shared_ptr<const Issuer>> issuers{Issuer::from_pem("kitty", kitty.pem())};
    std::string dir, list, crl;
    std::unique_ptr<PolicyStore> store;
    std::vector<std::pair<LogLevel, std::string>> logged;
};

TEST_F(Store, UnchangedFilesKeepTheSnapshot) {
    const auto before = store->current();
    EXPECT_FALSE(refresh());
    EXPECT_EQ(store->current(), before);
    EXPECT_TRUE(logged.empty());
}

TEST_F(Store, RenamedIntoPlaceAllowlistIsPickedUp) {
    const auto before = store->current();
    replace(list, "kitty:01\nkitty:02\n");
    EXPECT_TRUE(refresh());
    EXPECT_TRUE(listed("02"));
    EXPECT_FALSE(before->find_allowlist("staff")->contains("kitty", Serial::parse("02")))
        << "an old snapshot never changes under a reader";
    ASSERT_EQ(logged.size(), 1u);
    EXPECT_EQ(logged[0].second, "CSCGuardAllowlist staff (site.conf:3): reloaded " + list + " (2 entries)");
}

TEST_F(Store, InPlaceRewriteOfTheSameSizeIsNoticed) {
    struct timespec times[2] = {{0, UTIME_OMIT}, {1, 0}};  // make sure mtime differs
    rewrite_in_place(list, "kitty:02\n");
    utimensat(AT_FDCWD, list.c_str(), times, 0);
    EXPECT_TRUE(refresh());
    EXPECT_TRUE(listed("02"));
    EXPECT_FALSE(listed("01"));
}

TEST_F(Store, BadAllowlistKeepsTheLastGoodOneAndLogsOnce) {
    replace(list, "kitty:01\nkitty:zz\n");
    EXPECT_FALSE(refresh());
    EXPECT_TRUE(listed("01"));
    ASSERT_EQ(errors(), 1u);
    EXPECT_EQ(logged[0].second, "CSCGuardAllowlist staff (site.conf:3): " + list +
                                    ":2: 'zz' is not a serial number: 'z' at position 1 is not a hexadecimal digit; "
                                    "the last good version stays in force");
    EXPECT_FALSE(refresh());
    EXPECT_EQ(errors(), 0u) << "logged once per change, not once per check";
    replace(list, "kitty:03\n");
    EXPECT_TRUE(refresh());
    EXPECT_TRUE(listed("03"));
}

TEST_F(Store, MissingFileKeepsItsContentAndIsLoggedOnce) {
    std::remove(list.c_str());
    EXPECT_FALSE(refresh());
    EXPECT_TRUE(listed("01"));
    ASSERT_EQ(errors(), 1u);
    EXPECT_NE(logged[0].second.find("has disappeared; its last good content stays in force"), std::string::npos);
    EXPECT_FALSE(refresh());
    EXPECT_EQ(errors(), 0u);
    replace(list, "kitty:04\n");
    EXPECT_TRUE(refresh());
    EXPECT_TRUE(listed("04"));
}

TEST_F(Store, NewCrlRevokesAndAnImpostorCrlIsRefused) {
    replace(crl, kitty.crl({{"01"}}));
    EXPECT_TRUE(refresh());
    EXPECT_TRUE(revoked("01"));
    replace(crl, impostor.crl({}));  // would un-revoke 01 if believed
    EXPECT_FALSE(refresh());
    EXPECT_TRUE(revoked("01"));
    ASSERT_EQ(errors(), 1u);
    EXPECT_NE(logged[0].second.find("signature does not verify with the key of CSCGuardIssuer kitty"), std::string::npos);
}

TEST_F(Store, OneBadFileDoesNotBlockAnotherFilesChange) {
    replace(list, "garbage\n");
    replace(crl, kitty.crl({{"01"}}));
    EXPECT_TRUE(refresh());
    EXPECT_TRUE(revoked("01"));
    EXPECT_TRUE(listed("01"));
    EXPECT_EQ(errors(), 1u);
}

TEST_F(Store, StartupRefusesABadFileNamingTheDirective) {
    replace(list, "nobody:01\n");
    try {
        PolicyStore bad(issuers, {{"staff", list, "site.conf:3"}}, {}, 0);
        FAIL();
    } catch (const PolicyError& err) {
        EXPECT_EQ(std::string(err.what()), "CSCGuardAllowlist staff (site.conf:3): " + list +
                                               ":1: unknown issuer 'nobody' (declared with CSCGuardIssuer: kitty)");
    }
    replace(crl, impostor.crl({}));
    EXPECT_THROW(PolicyStore(issuers, {}, {{crl, "site.conf:4"}}, 0), PolicyError);
}

TEST_F(Store, DuplicateAllowlistNames) {
    EXPECT_THROW(PolicyStore(issuers, {{"staff", list, "a:1"}, {"staff", list, "a:2"}}, {}, 0), PolicyError);
}

}  // namespace
}  // namespace cscguard
