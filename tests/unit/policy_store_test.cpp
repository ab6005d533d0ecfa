// Reload decisions: what changes is picked up, what is bad or missing keeps
// its last good content, each problem is logged once per change.
#include "policy/policy_store.h"

#include <chrono>
#include <cstdio>
#include <fstream>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "policy/error.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_pki.h"

namespace cscguard {
namespace {

using testing::CrlSpec;
using testing::TestCa;

class Store : public ::testing::Test {
protected:
    void SetUp() override {
        list = dir + "/staff.list";
        crl = dir + "/kitty.crl";
        replace(list, "kitty:01\n");
        replace(crl, kitty.crl({}));
        store = another_store();
    }

    // A store over the same files: a first start's, or - given the snapshot in
    // force before - a restart's.
    std::unique_ptr<PolicyStore> another_store(const Snapshot* before = nullptr,
                                               std::vector<std::shared_ptr<const Issuer>> with = {}) {
        logged.clear();
        return std::make_unique<PolicyStore>(with.empty() ? issuers : with,
                                             std::vector<AllowlistSource>{{"staff", list, "site.conf:3"}},
                                             std::vector<CrlSource>{{crl, "site.conf:4"}}, 0, before,
                                             [this](LogLevel level, const std::string& text) {
                                                 logged.push_back({level, text});
                                             });
    }

    // What the watcher would publish from `from`, as a child opens it.
    static Snapshot snapshot_of(const PolicyStore& from, std::uint64_t generation = 1) {
        Snapshot snapshot;
        snapshot.generation = generation;
        snapshot.configuration = from.configuration_id();
        for (const CompiledFile* file : from.files()) snapshot.files.push_back(*file);
        auto bytes = std::make_shared<const std::string>(encode_snapshot(snapshot));
        return open_snapshot(*bytes, bytes, "policy.snapshot", from.issuer_names());
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
        return (which ? which : store.get())->current()->find_allowlist("staff")->contains(0, Serial::parse(serial));
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
    testing::TempDir temp;
    const std::string dir = temp.path();
    std::string list, crl;
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
    EXPECT_FALSE(before->find_allowlist("staff")->contains(0, Serial::parse("02")))
        << "an old snapshot never changes under a reader";
    ASSERT_EQ(logged.size(), 1u);
    EXPECT_EQ(logged[0].second, "CSCGuardAllowlist staff (site.conf:3): reloaded " + list + " (2 entries)");
}

// `cscguard publish` rewrites every list each time: the same bytes are
// neither parsed again nor handed on as a change.
TEST_F(Store, TheSameBytesRenamedIntoPlaceAreNoChange) {
    const auto before = store->current();
    replace(list, "kitty:01\n");
    replace(crl, read_policy_file(crl, "CRL").bytes);
    EXPECT_FALSE(refresh());
    EXPECT_EQ(store->current(), before);
    EXPECT_TRUE(logged.empty());
    replace(list, "kitty:01\nkitty:02\n");
    EXPECT_TRUE(refresh()) << "a change after it still counts";
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

// Files that changed together are compiled side by side, and still judged
// and logged in the configuration's order, in one refresh.
TEST_F(Store, FilesChangedTogetherAreAllTakenInOneRefreshAndLoggedInOrder) {
    replace(list, "kitty:01\nkitty:02\nkitty:03\n");
    replace(crl, kitty.crl({{"05", "06"}}));
    EXPECT_TRUE(refresh());
    EXPECT_TRUE(listed("03"));
    EXPECT_TRUE(revoked("06"));
    ASSERT_EQ(logged.size(), 2u);
    EXPECT_EQ(logged[0].second, "CSCGuardAllowlist staff (site.conf:3): reloaded " + list + " (3 entries)");
    EXPECT_EQ(logged[1].second, "CSCGuardCRL (site.conf:4): reloaded " + crl + " (2 revoked serials)");
    EXPECT_FALSE(refresh()) << "both were judged: nothing is left for the next round";
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
// A file holding two issuers' CRLs caught mid-write, or replaced by another
// issuer's CRL, must not make an issuer lose its CRL at a reload.
TEST_F(Store, AnIssuerTheFileNoLongerCoversKeepsItsCrl) {
    replace(crl, kitty.crl({{"01"}}) + acme.crl({{"02"}}));
    ASSERT_TRUE(refresh());
    ASSERT_TRUE(revoked("02", "acme"));
    const std::string both = kitty.crl({{"01", "03"}}) + acme.crl({{"02"}});
    replace(crl, both.substr(0, both.find("-----BEGIN", 1)));  // torn at the block boundary: a valid file of kitty alone
    EXPECT_TRUE(refresh()) << "kitty's newer CRL is taken";
    EXPECT_TRUE(revoked("03"));
    EXPECT_TRUE(revoked("02", "acme")) << "acme keeps its CRL";
    EXPECT_EQ(first_error().rfind("CSCGuardCRL (site.conf:4): " + crl + ": no longer holds a CRL of acme", 0), 0u)
        << first_error();
    EXPECT_NE(first_error().find("its CRL in force (crlNumber "), std::string::npos) << first_error();
    replace(crl, both.substr(0, both.size() - 200));  // torn inside the second block: nothing of it is believed
    EXPECT_FALSE(refresh());
    EXPECT_NE(first_error().find("PEM block #2 is damaged or truncated"), std::string::npos) << first_error();
    EXPECT_TRUE(revoked("03"));
    EXPECT_TRUE(revoked("02", "acme"));
}

// One issuer's problem never holds back another issuer's new revocations.
TEST_F(Store, OneIssuersRollbackDoesNotBlockAnothersRevocation) {
    const std::string old_acme = acme.crl({});
    replace(crl, kitty.crl({}) + acme.crl({{"02"}}));
    ASSERT_TRUE(refresh());
    replace(crl, kitty.crl({{"01"}}) + old_acme);  // kitty revokes 01; acme's part is an old CRL
    EXPECT_TRUE(refresh());
    EXPECT_TRUE(revoked("01"));
    EXPECT_TRUE(revoked("02", "acme")) << "acme's CRL did not roll back";
    EXPECT_NE(first_error().find("its CRL of acme"), std::string::npos) << first_error();
    EXPECT_NE(first_error().find("is older than the one in force"), std::string::npos) << first_error();
    const Snapshot snapshot = snapshot_of(*store);
    const CrlSet& handed_on = snapshot.find(crl)->crls;
    ASSERT_EQ(handed_on.size(), 2u) << "the snapshot holds what is in force, not the file";
    EXPECT_TRUE(newest_of(handed_on, "kitty")->revokes(Serial::parse("01")));
    EXPECT_TRUE(newest_of(handed_on, "acme")->revokes(Serial::parse("02")));
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

// A restart gets the snapshot in force before it: a file that is bad now
// keeps that version instead of stopping httpd.
TEST_F(Store, RestartKeepsTheVersionOfAFileThatIsBadNow) {
    replace(crl, kitty.crl({{"01"}}));
    ASSERT_TRUE(refresh());
    const Snapshot before = snapshot_of(*store, 7);
    replace(crl, "garbage");
    replace(list, "kitty:zz\n");
    EXPECT_THROW(another_store(), PolicyError) << "a first start refuses";
    store = another_store(&before);
    EXPECT_TRUE(revoked("01"));
    EXPECT_TRUE(listed("01"));
    ASSERT_EQ(errors(), 2u);
    EXPECT_NE(logged[0].second.find("the version in force before the restart stays in force"), std::string::npos);
    EXPECT_EQ(snapshot_of(*store).find(crl)->digest, before.find(crl)->digest) << "and is what it hands on";
    EXPECT_FALSE(refresh()) << "the bad files are not tried again until they change";
    EXPECT_EQ(errors(), 0u);
}

TEST_F(Store, RestartRefusesARolledBackCrlAndTakesANewerOne) {
    const std::string old_crl = kitty.crl({});
    replace(crl, kitty.crl({{"01"}}));
    ASSERT_TRUE(refresh());
    const Snapshot before = snapshot_of(*store);
    replace(crl, old_crl);
    store = another_store(&before);
    EXPECT_TRUE(revoked("01"));
    EXPECT_NE(first_error().find("is older than the one in force"), std::string::npos) << first_error();
    replace(crl, kitty.crl({{"02"}}));
    store = another_store(&before);
    EXPECT_TRUE(revoked("02"));
    EXPECT_EQ(errors(), 0u);
}

// The version a restart keeps over a rolled-back file is not the file's:
// the next restart, with the same file still on disk, must judge it again
// (it took the file as already judged, and its old CRL with it).
TEST_F(Store, ARolledBackCrlStaysRefusedAcrossRestartsAndReloads) {
    const std::string old_crl = kitty.crl({});
    replace(crl, kitty.crl({{"01"}}));
    ASSERT_TRUE(refresh());
    replace(crl, old_crl);
    EXPECT_FALSE(refresh()) << "the watcher refuses it";
    const Snapshot watchers = snapshot_of(*store);
    auto first = another_store(&watchers);
    EXPECT_TRUE(revoked("01", "kitty", first.get()));
    const Snapshot firsts = snapshot_of(*first);
    auto second = another_store(&firsts);
    EXPECT_TRUE(revoked("01", "kitty", second.get())) << "the second restart took the rolled-back CRL";
    EXPECT_NE(first_error().find("is older than the one in force"), std::string::npos) << first_error();
    replace(crl, old_crl);  // the same bytes again, a new file
    EXPECT_FALSE(refresh(second.get()));
    const Snapshot seconds = snapshot_of(*second);
    auto third = another_store(&seconds);
    EXPECT_TRUE(revoked("01", "kitty", third.get()));
}

// An issuer added at the end at a restart keeps every old index: the policy
// before still guards against a rolled-back CRL (it used to be dropped
// silently whenever the issuers changed at all).
TEST_F(Store, AnIssuerAddedAtTheEndKeepsThePolicyBefore) {
    const std::string old_crl = kitty.crl({});
    replace(crl, kitty.crl({{"01"}}));
    auto kitty_only = another_store(nullptr, {Issuer::from_pem("kitty", kitty.pem())});
    const Snapshot before = snapshot_of(*kitty_only);
    replace(crl, old_crl);
    store = another_store(&before);  // kitty, then acme: acme is new
    EXPECT_TRUE(revoked("01"));
    EXPECT_NE(first_error().find("is older than the one in force"), std::string::npos) << first_error();
}

TEST_F(Store, ASnapshotOfAnotherIssuerSetNoLongerApplies) {
    replace(crl, kitty.crl({{"01"}}) + acme.crl({}));
    ASSERT_TRUE(refresh());
    const Snapshot before = snapshot_of(*store);
    replace(crl, kitty.crl({}));  // acme is no longer declared after this restart: the file is right
    store = another_store(&before, {Issuer::from_pem("kitty", kitty.pem())});
    EXPECT_FALSE(revoked("01"));
    ASSERT_EQ(errors(), 1u);
    EXPECT_NE(first_error().find("compiled for other CSCGuardIssuer lines"), std::string::npos) << first_error();
}

TEST_F(Store, TheSnapshotHoldsWhatIsInForce) {
    const Snapshot first = snapshot_of(*store, 3);
    EXPECT_EQ(first.generation, 3u);
    EXPECT_EQ(first.configuration, store->configuration_id());
    EXPECT_TRUE(first.find(list)->allowlist.contains(0, Serial::parse("01")));
    EXPECT_EQ(first.find(list)->digest, sha256_of("kitty:01\n"));
    EXPECT_EQ(first.find(list)->stamp, FileStamp::of(list));
    replace(list, "kitty:05\n");
    EXPECT_TRUE(refresh());
    EXPECT_TRUE(snapshot_of(*store).find(list)->allowlist.contains(0, Serial::parse("05")));
    replace(list, "kitty:zz\n");
    EXPECT_FALSE(refresh());
    const Snapshot last = snapshot_of(*store);
    EXPECT_TRUE(last.find(list)->allowlist.contains(0, Serial::parse("05"))) << "never a refused version";
    EXPECT_FALSE(last.find(list)->allowlist.contains(0, Serial::parse("01")));
}

// Children take the watcher's snapshots instead of reading files, and
// search them where they are: nothing is parsed or copied.
TEST_F(Store, AdoptTakesASnapshotWithoutParsingOrCopying) {
    auto child = another_store();  // the parent's policy: kitty:01, nothing revoked
    replace(list, "kitty:02\n");
    replace(crl, kitty.crl({{"02"}}));
    ASSERT_TRUE(refresh());
    const Snapshot snapshot = snapshot_of(*store, 2);
    std::remove(list.c_str());  // nothing is read from disk
    std::remove(crl.c_str());
    child->adopt(snapshot);
    EXPECT_TRUE(listed("02", child.get()));
    EXPECT_FALSE(listed("01", child.get()));
    EXPECT_TRUE(revoked("02", "kitty", child.get()));
    const std::string_view mine = child->current()->find_allowlist("staff")->bytes();
    EXPECT_EQ(mine.data(), snapshot.find(list)->allowlist.bytes().data()) << "searched in place";
}

TEST_F(Store, AdoptKeepsWhatTheSnapshotDoesNotHold) {
    auto child = another_store();
    Snapshot snapshot = snapshot_of(*store);
    snapshot.files.erase(snapshot.files.begin());  // only the CRL file
    replace(list, "kitty:09\n");
    child->adopt(snapshot);
    EXPECT_TRUE(listed("01", child.get()));
}

TEST_F(Store, TheConfigurationIdNamesIssuersAndFiles) {
    const std::string id = store->configuration_id();
    EXPECT_EQ(id.size(), 194u);  // each issuer's SHA-256, '.', '-', the files'
    EXPECT_TRUE(store->extends_issuers_of(id));
    EXPECT_TRUE(store->extends_issuers_of(id.substr(0, 130) + "another file set"));
    EXPECT_TRUE(store->extends_issuers_of(id.substr(0, 64) + "-files")) << "kitty alone: acme added at the end";
    EXPECT_FALSE(store->extends_issuers_of(id.substr(0, 64)));
    EXPECT_FALSE(store->extends_issuers_of(id.substr(65, 64) + "-files")) << "acme alone: kitty added before it";
    EXPECT_EQ(another_store()->configuration_id(), id);
    EXPECT_NE(another_store(nullptr, {Issuer::from_pem("kitty", kitty.pem())})->configuration_id(), id);
    EXPECT_NE(another_store(nullptr, {Issuer::from_pem("kitty", kitty.pem()), Issuer::from_pem("acme", impostor.pem())})
                  ->configuration_id(),
              id)
        << "another certificate under the same name";
    EXPECT_FALSE(another_store(nullptr, {Issuer::from_pem("acme", acme.pem()), Issuer::from_pem("kitty", kitty.pem())})
                     ->extends_issuers_of(id))
        << "another order: compiled tables index issuers by their place";
}

TEST_F(Store, DuplicateAllowlistNames) {
    EXPECT_THROW(PolicyStore(issuers, {{"staff", list, "a:1"}, {"staff", list, "a:2"}}, {}, 0), PolicyError);
}

}  // namespace
}  // namespace cscguard
