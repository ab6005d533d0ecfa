// Reload decisions: what changes is picked up, what is bad or missing keeps
// its last good content, each problem is logged once per change.
#include "policy_store.h"

#include <chrono>
#include <cstdio>
#include <fstream>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "accepted_files.h"
#include "error.h"
#include "test_pki.h"

namespace cscguard {
namespace {

using testing::CrlSpec;
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
        std::system(("mkdir -p '" + dir + "/state'").c_str());
        store = another_store();
    }

    // A store over the same files and the same record of accepted versions:
    // a restart's, or a process that has not refreshed since this moment.
    std::unique_ptr<PolicyStore> another_store(PolicyStore::Start start = PolicyStore::Start::First,
                                               std::vector<std::shared_ptr<const Issuer>> with = {}) {
        logged.clear();
        return std::make_unique<PolicyStore>(with.empty() ? issuers : with,
                                             std::vector<AllowlistSource>{{"staff", list, "site.conf:3"}},
                                             std::vector<CrlSource>{{crl, "site.conf:4"}}, 0, &accepted, start,
                                             [this](LogLevel level, const std::string& text) {
                                                 logged.push_back({level, text});
                                             });
    }

    std::unique_ptr<PolicyStore> restart(std::vector<std::shared_ptr<const Issuer>> with = {}) {
        return another_store(PolicyStore::Start::Restart, std::move(with));
    }

    std::string recorded(const std::string& path) const {
        const auto version = accepted.find(path);
        return version ? version->bytes : "(none)";
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

    bool refresh(PolicyStore* which = nullptr) {
        logged.clear();
        return (which ? which : store.get())->refresh([this](LogLevel level, const std::string& text) {
            logged.push_back({level, text});
        });
    }

    std::size_t errors() const {
        std::size_t n = 0;
        for (const auto& [level, text] : logged) n += level == LogLevel::Error;
        return n;
    }

    bool listed(const char* serial, const PolicyStore* which = nullptr) const {
        return (which ? which : store.get())->current()->find_allowlist("staff")->contains("kitty", Serial::parse(serial));
    }

    bool revoked(const char* serial, const char* issuer = "kitty", const PolicyStore* which = nullptr) const {
        const RevocationList* l = (which ? which : store.get())->current()->revocation(issuer);
        return l && l->revokes(Serial::parse(serial));
    }

    std::string first_error() const {
        for (const auto& [level, text] : logged) {
            if (level == LogLevel::Error) return text;
        }
        return "(none)";
    }


    TestCa kitty{"kitty-ca"};
    TestCa impostor{"kitty-ca"};
    TestCa acme{"acme-ca"};
    std::vector<std::shared_ptr<const Issuer>> issuers{Issuer::from_pem("kitty", kitty.pem()),
                                                       Issuer::from_pem("acme", acme.pem())};
    std::string dir, list, crl;
    std::unique_ptr<PolicyStore> store;
    std::vector<std::pair<LogLevel, std::string>> logged;
    AcceptedFiles accepted{::testing::TempDir() + "/store-" +
                           ::testing::UnitTest::GetInstance()->current_test_info()->name() + "/state"};
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
                                               ":1: unknown issuer 'nobody' (declared with CSCGuardIssuer: kitty, acme)");
    }
    replace(crl, impostor.crl({}));
    EXPECT_THROW(PolicyStore(issuers, {}, {{crl, "site.conf:4"}}, 0), PolicyError);
}

// A file holding two issuers' CRLs caught mid-write, or replaced by another
// issuer's CRL, must not make an issuer lose its CRL at a reload.
TEST_F(Store, CrlFileThatWouldDropAnIssuerIsRefused) {
    replace(crl, kitty.crl({{"01"}}) + acme.crl({{"02"}}));
    ASSERT_TRUE(refresh());
    ASSERT_TRUE(revoked("02", "acme"));
    const std::string both = kitty.crl({{"01"}}) + acme.crl({{"02"}});
    replace(crl, both.substr(0, both.find("-----BEGIN", 1)));  // torn at the block boundary: a valid file of kitty alone
    EXPECT_FALSE(refresh());
    EXPECT_TRUE(revoked("02", "acme"));
    EXPECT_EQ(first_error().rfind("CSCGuardCRL (site.conf:4): " + crl + ": no longer holds a CRL of acme", 0), 0u)
        << first_error();
    replace(crl, acme.crl({{"02"}}));  // another declared issuer's valid CRL
    EXPECT_FALSE(refresh());
    EXPECT_TRUE(revoked("01"));
    replace(crl, both.substr(0, both.size() - 200));  // torn inside the second block
    EXPECT_FALSE(refresh());
    EXPECT_NE(first_error().find("PEM block #2 is damaged or truncated"), std::string::npos) << first_error();
    EXPECT_TRUE(revoked("01"));
    EXPECT_TRUE(revoked("02", "acme"));
}

TEST_F(Store, OlderCrlIsRefusedNewerIsTaken) {
    const std::string last_week = kitty.crl({});  // revokes nothing
    replace(crl, kitty.crl({{"01"}}));
    ASSERT_TRUE(refresh());
    replace(crl, last_week);  // an old file put back would un-revoke 01
    EXPECT_FALSE(refresh());
    EXPECT_TRUE(revoked("01"));
    EXPECT_NE(first_error().find("is older than the one in force"), std::string::npos) << first_error();
    CrlSpec stale{{}};
    stale.this_update = -86400 * 8;
    stale.next_update = -86400;
    stale.number = 1;
    replace(crl, kitty.crl(stale));  // an old stale CRL would lock kitty out
    EXPECT_FALSE(refresh());
    EXPECT_GT(store->current()->revocation("kitty")->next_update, std::time(nullptr));
    replace(crl, kitty.crl({{"02"}}));
    EXPECT_TRUE(refresh());
    EXPECT_TRUE(revoked("02"));
    EXPECT_FALSE(revoked("01"));
}

TEST_F(Store, FifoAtAPolicyPathIsRefusedWithoutBlocking) {
    std::remove(crl.c_str());
    ASSERT_EQ(mkfifo(crl.c_str(), 0644), 0);
    const auto start = std::chrono::steady_clock::now();
    EXPECT_FALSE(refresh());  // a blocking open() would never return: no writer ever comes
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
    EXPECT_NE(first_error().find(crl + ": cannot read CRL: it is a FIFO, not a regular file"), std::string::npos)
        << first_error();
    std::remove(list.c_str());
    ASSERT_EQ(mkdir(list.c_str(), 0755), 0);
    EXPECT_FALSE(refresh());
    EXPECT_NE(first_error().find("it is a directory, not a regular file"), std::string::npos) << first_error();
    EXPECT_TRUE(listed("01"));
}

TEST_F(Store, TornAllowlistIsRefused) {
    replace(list, "kitty:1000\n");
    ASSERT_TRUE(refresh());
    replace(list, "kitty:1000\nkitty:10");  // caught mid-write: "kitty:10" of "kitty:1000"
    EXPECT_FALSE(refresh());
    EXPECT_FALSE(listed("10"));
    EXPECT_TRUE(listed("1000"));
    EXPECT_NE(first_error().find(list + ":2: the last line has no line end"), std::string::npos) << first_error();
}

// A restart hands what was accepted before it to the new store: a file
// that is bad now keeps that version instead of stopping httpd.
TEST_F(Store, RestartKeepsTheVersionOfAFileThatIsBadNow) {
    replace(crl, kitty.crl({{"01"}}));
    ASSERT_TRUE(refresh());
    replace(crl, "garbage");
    replace(list, "kitty:zz\n");
    EXPECT_THROW(another_store(PolicyStore::Start::First), PolicyError) << "a first start refuses";
    store = restart();
    EXPECT_TRUE(revoked("01"));
    EXPECT_TRUE(listed("01"));
    ASSERT_EQ(errors(), 2u);
    EXPECT_NE(logged[0].second.find("the version accepted before the restart stays in force"), std::string::npos);
    EXPECT_FALSE(refresh()) << "the bad files are not tried again until they change";
    EXPECT_EQ(errors(), 0u);
}

TEST_F(Store, RestartRefusesARolledBackCrlAndTakesANewerOne) {
    const std::string old_crl = kitty.crl({});
    replace(crl, kitty.crl({{"01"}}));
    ASSERT_TRUE(refresh());
    replace(crl, old_crl);
    store = restart();
    EXPECT_TRUE(revoked("01"));
    EXPECT_NE(first_error().find("is older than the one in force"), std::string::npos) << first_error();
    replace(crl, kitty.crl({{"02"}}));
    store = restart();
    EXPECT_TRUE(revoked("02"));
    EXPECT_EQ(errors(), 0u);
}

TEST_F(Store, ARecordedVersionThatNoLongerAppliesIsIgnored) {
    replace(crl, kitty.crl({{"01"}}) + acme.crl({}));
    ASSERT_TRUE(refresh());
    replace(crl, kitty.crl({}));  // acme is no longer declared after this restart: the file is right
    store = restart({Issuer::from_pem("kitty", kitty.pem())});
    EXPECT_FALSE(revoked("01"));
    EXPECT_EQ(errors(), 0u);
}

TEST_F(Store, EveryAcceptedVersionIsRecordedAndNoBadOne) {
    EXPECT_EQ(recorded(list), "kitty:01\n") << "start-up content";
    replace(list, "kitty:05\n");
    EXPECT_TRUE(refresh());
    EXPECT_EQ(recorded(list), "kitty:05\n");
    EXPECT_EQ(accepted.find(list)->stamp, FileStamp::of(list));
    replace(list, "kitty:zz\n");
    EXPECT_FALSE(refresh());
    EXPECT_EQ(recorded(list), "kitty:05\n");
}

// A child forked after a file went bad starts from the parent's start-up
// content: it must take the version other children accepted since.
TEST_F(Store, AProcessThatMissedAVersionTakesTheRecordedOneWhenTheFileIsBad) {
    auto forked_later = another_store();  // the parent's state: kitty:01, nothing revoked
    replace(list, "kitty:02\n");
    replace(crl, kitty.crl({{"02"}}));
    ASSERT_TRUE(refresh());  // a child accepts and records them
    replace(list, "kitty:02\nkitty:0");  // torn
    replace(crl, "garbage");
    EXPECT_TRUE(refresh(forked_later.get()));
    EXPECT_TRUE(listed("02", forked_later.get()));
    EXPECT_FALSE(listed("01", forked_later.get()));
    EXPECT_TRUE(revoked("02", "kitty", forked_later.get()));
    EXPECT_EQ(errors(), 2u) << "the bad files are still reported";
}

TEST_F(Store, AGoodButOlderCrlNeverReplacesANewerRecordedOne) {
    auto forked_later = another_store();  // CRL #1
    const std::string second = kitty.crl({{"02"}});
    replace(crl, kitty.crl({{"03"}}));  // #3, accepted by a child
    ASSERT_TRUE(refresh());
    replace(crl, second);  // #2 put back: newer than what forked_later holds, older than #3
    refresh(forked_later.get());
    EXPECT_TRUE(revoked("03", "kitty", forked_later.get()));
    EXPECT_FALSE(revoked("02", "kitty", forked_later.get()));
    EXPECT_NE(first_error().find("is older than the one in force"), std::string::npos) << first_error();
}

class FailingRecord : public VersionRecord {
public:
    void record(const std::string&, const FileStamp&, std::string_view) const override {
        throw PolicyError("/run/apache2/cscguard: disk full");
    }
    std::optional<AcceptedVersion> find(const std::string&) const override { return std::nullopt; }
};

TEST_F(Store, ARecordingFailureChangesNothingInForce) {
    FailingRecord failing;
    PolicyStore other(issuers, {{"staff", list, "site.conf:3"}}, {}, 0, &failing);
    replace(list, "kitty:06\n");
    logged.clear();
    EXPECT_TRUE(refresh(&other));
    EXPECT_TRUE(listed("06", &other));
    ASSERT_EQ(logged.size(), 2u);
    EXPECT_EQ(logged[0].first, LogLevel::Warning);
    EXPECT_NE(logged[0].second.find("disk full"), std::string::npos);
}

TEST_F(Store, DuplicateAllowlistNames) {
    EXPECT_THROW(PolicyStore(issuers, {{"staff", list, "a:1"}, {"staff", list, "a:2"}}, {}, 0), PolicyError);
}

}  // namespace
}  // namespace cscguard
