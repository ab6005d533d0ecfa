// Policy files are read by a thread while httpd serves: nothing at a policy
// path may block it or exhaust its memory.
#include "policy/file.h"

#include <chrono>
#include <cstdio>
#include <fstream>
#include <thread>

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include "policy/error.h"
#include "tests/support/error_of.h"
#include "tests/support/temp_dir.h"

namespace cscguard {
namespace {

class PolicyFile : public ::testing::Test {
protected:

    std::string error_of() {
        return testing::error_of([&] { read_policy_file(path, "allowlist"); });
    }

    testing::TempDir dir;
    std::string path = dir / "policy";
};

TEST_F(PolicyFile, RegularFileAndItsStamp) {
    std::ofstream(path) << "kitty:01\n";
    const FileContent content = read_policy_file(path, "allowlist");
    EXPECT_EQ(content.bytes, "kitty:01\n");
    EXPECT_EQ(content.stamp, FileStamp::of(path));
    EXPECT_TRUE(content.stamp.exists);
}

TEST_F(PolicyFile, FifoIsRefusedAtOnce) {
    ASSERT_EQ(mkfifo(path.c_str(), 0644), 0);
    const auto start = std::chrono::steady_clock::now();
    EXPECT_EQ(error_of(), path + ": cannot read allowlist: it is a FIFO, not a regular file");
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

TEST_F(PolicyFile, DirectoryAndDeviceAreRefused) {
    ASSERT_EQ(mkdir(path.c_str(), 0755), 0);
    EXPECT_EQ(error_of(), path + ": cannot read allowlist: it is a directory, not a regular file");
    path = "/dev/zero";  // endless: would fill the memory
    EXPECT_EQ(error_of(), "/dev/zero: cannot read allowlist: it is a device, not a regular file");
}

TEST_F(PolicyFile, FileOverTheCapIsRefusedWithoutReadingIt) {
    const int fd = open(path.c_str(), O_CREAT | O_WRONLY, 0644);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(ftruncate(fd, static_cast<off_t>(kMaxPolicyFileBytes) + 1), 0);  // sparse: no disk used
    close(fd);
    EXPECT_EQ(error_of(), path + ": cannot read allowlist: bigger than 256 MiB");
}

TEST_F(PolicyFile, MissingFileNamesTheReason) {
    EXPECT_EQ(error_of(), path + ": cannot read allowlist: No such file or directory");
    EXPECT_FALSE(FileStamp::of(path).exists);
}

// --- files a person names to the CA tool --------------------------------------

std::string named_error(const std::string& path, std::size_t max_bytes = kMaxPolicyFileBytes) {
    try {
        read_named_file(path, "", max_bytes);
    } catch (const PolicyError& err) {
        return err.what();
    }
    return "(no error)";
}

TEST_F(PolicyFile, NamedFileIsReadWhole) {
    std::ofstream(path) << "kitty:01\n";
    EXPECT_EQ(read_named_file(path, "request"), "kitty:01\n");
    EXPECT_EQ(named_error(dir / "missing"), dir / "missing" + ": cannot read: No such file or directory");
}

TEST_F(PolicyFile, NamedDirectoryIsAnErrorNotAnEmptyFile) {
    ASSERT_EQ(mkdir(path.c_str(), 0755), 0);
    EXPECT_EQ(named_error(path), path + ": cannot read: it is a directory");
}

TEST_F(PolicyFile, NamedPipeIsReadToItsEndAndEndlessInputIsCapped) {
    ASSERT_EQ(mkfifo(path.c_str(), 0644), 0);
    std::thread writer([&] { std::ofstream(path) << "first\nsecond\n"; });
    EXPECT_EQ(read_named_file(path, "CSV"), "first\nsecond\n");
    writer.join();
    EXPECT_EQ(named_error("/dev/zero", std::size_t{1} << 20), "/dev/zero: cannot read: bigger than 1 MiB");
}

}  // namespace
}  // namespace cscguard
