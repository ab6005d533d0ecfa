// The on-disk record of accepted policy files that restarts fall back to.
#include "accepted_files.h"

#include <fstream>
#include <thread>

#include <dirent.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include "error.h"

namespace cscguard {
namespace {

class Accepted : public ::testing::Test {
protected:
    void SetUp() override {
        char tmpl[] = "/tmp/cscguard-accepted-XXXXXX";
        ASSERT_NE(mkdtemp(tmpl), nullptr);
        dir = tmpl;
    }
    void TearDown() override { std::system(("rm -rf '" + dir + "'").c_str()); }

    // The one record file's name.
    std::string record_name() const {
        std::string name;
        DIR* d = opendir(dir.c_str());
        while (const dirent* e = readdir(d)) {
            if (std::string(e->d_name).rfind("accepted-", 0) == 0) name = e->d_name;
        }
        closedir(d);
        return name;
    }

    std::size_t records() const {
        std::size_t n = 0;
        DIR* d = opendir(dir.c_str());
        while (const dirent* e = readdir(d)) n += std::string(e->d_name).rfind("accepted-", 0) == 0;
        closedir(d);
        return n;
    }

    static FileStamp stamp(long long mtime) {
        FileStamp s;
        s.exists = true;
        s.inode = 7;
        s.size = 9;
        s.mtime_ns = mtime;
        return s;
    }

    std::string dir;
};

TEST_F(Accepted, RecordedVersionsAreFoundByPath) {
    AcceptedFiles files(dir);
    files.record("/etc/x/staff.list", stamp(1), "kitty:01\n");
    files.record("/etc/x/kitty.crl", stamp(2), std::string("\0binary\n", 8));
    EXPECT_EQ(files.find("/etc/x/staff.list")->bytes, "kitty:01\n");
    EXPECT_EQ(files.find("/etc/x/staff.list")->stamp, stamp(1));
    EXPECT_EQ(files.find("/etc/x/kitty.crl")->bytes, std::string("\0binary\n", 8));
    EXPECT_EQ(files.find("/etc/x/kitty.crl")->stamp, stamp(2));
    EXPECT_EQ(files.find("/etc/x/none.list"), std::nullopt);
}

TEST_F(Accepted, ANewerVersionReplacesTheRecord) {
    AcceptedFiles files(dir);
    files.record("/p", stamp(1), "one\n");
    files.record("/p", stamp(2), "two\n");
    EXPECT_EQ(files.find("/p")->bytes, "two\n");
    EXPECT_EQ(records(), 1u);
}

TEST_F(Accepted, TheSameVersionIsWrittenOnce) {
    AcceptedFiles files(dir);
    files.record("/p", stamp(1), "one\n");
    const std::string name = record_name();
    struct stat before {};
    ASSERT_EQ(stat((dir + "/" + name).c_str(), &before), 0);
    files.record("/p", stamp(1), "one\n");  // another child accepting the same version
    struct stat after {};
    ASSERT_EQ(stat((dir + "/" + name).c_str(), &after), 0);
    EXPECT_EQ(before.st_ino, after.st_ino) << "rewritten";
}

TEST_F(Accepted, DamagedRecordsAreIgnored) {
    AcceptedFiles files(dir);
    files.record("/p", stamp(1), "one\n");
    std::ofstream(dir + "/" + record_name(), std::ios::trunc) << "not a record";
    EXPECT_EQ(files.find("/p"), std::nullopt);
}

TEST_F(Accepted, PruneKeepsOnlyTheGivenPaths) {
    AcceptedFiles files(dir);
    files.record("/a", stamp(1), "a\n");
    files.record("/b", stamp(1), "b\n");
    files.prune({"/b"});
    EXPECT_EQ(records(), 1u);
    EXPECT_EQ(files.find("/a"), std::nullopt);
    EXPECT_EQ(files.find("/b")->bytes, "b\n");
}

TEST_F(Accepted, ConcurrentWritersLeaveOneWholeRecord) {
    AcceptedFiles files(dir);
    const std::string big(1 << 20, 'x');
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < 20; ++i) files.record("/p", stamp(t * 100 + i), big + std::to_string(t));
        });
    }
    for (auto& th : threads) th.join();
    const std::string loaded = files.find("/p")->bytes;
    EXPECT_EQ(loaded.size(), big.size() + 1);
    EXPECT_EQ(records(), 1u) << "no temporary file left behind";
}

TEST_F(Accepted, UnwritableDirectoryIsAnError) {
    AcceptedFiles files(dir + "/missing");
    EXPECT_THROW(files.record("/p", stamp(1), "x\n"), PolicyError);
    EXPECT_EQ(files.find("/p"), std::nullopt);
}

}  // namespace
}  // namespace cscguard
