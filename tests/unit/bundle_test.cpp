// Policy bundles: what the watcher hands to every child, checked before use.
#include "bundle.h"

#include <gtest/gtest.h>

#include "error.h"

namespace cscguard {
namespace {

Bundle sample() {
    Bundle b;
    b.generation = 42;
    b.configuration = "3f2a";
    FileStamp stamp;
    stamp.exists = true;
    stamp.device = 2049;
    stamp.inode = 1234567;
    stamp.size = 9;
    stamp.mtime_ns = 1763900000123456789LL;
    stamp.ctime_ns = -5;  // any value survives
    b.files.push_back({"/etc/apache2/staff.list", stamp, "kitty:01\n"});
    b.files.push_back({"/etc/apache2/kitty.crl", stamp, std::string("\0\x30\x82 binary", 10)});
    return b;
}

std::string error_of(std::string_view data) {
    try {
        decode_bundle(data, "policy.bundle");
    } catch (const PolicyError& err) {
        return err.what();
    }
    return "(no error)";
}

TEST(Bundle, RoundTrip) {
    const Bundle b = sample();
    const Bundle back = decode_bundle(encode_bundle(b), "policy.bundle");
    EXPECT_EQ(back.generation, 42u);
    EXPECT_EQ(back.configuration, "3f2a");
    ASSERT_EQ(back.files.size(), 2u);
    for (std::size_t i = 0; i < 2; ++i) {
        EXPECT_EQ(back.files[i].path, b.files[i].path);
        EXPECT_EQ(back.files[i].stamp, b.files[i].stamp);
        EXPECT_EQ(back.files[i].bytes, b.files[i].bytes);
    }
    EXPECT_EQ(back.find("/etc/apache2/kitty.crl")->bytes, b.files[1].bytes);
    EXPECT_EQ(back.find("/elsewhere"), nullptr);
    EXPECT_EQ(decode_bundle(encode_bundle(Bundle{}), "empty").files.size(), 0u);
}

TEST(Bundle, EveryTruncationIsRefused) {
    const std::string data = encode_bundle(sample());
    for (std::size_t size = 0; size < data.size(); ++size) {
        EXPECT_NE(error_of(data.substr(0, size)), "(no error)") << "truncated to " << size;
    }
}

TEST(Bundle, EveryFlippedByteIsRefused) {
    const std::string data = encode_bundle(sample());
    for (std::size_t i = 0; i < data.size(); ++i) {
        std::string damaged = data;
        damaged[i] = static_cast<char>(damaged[i] ^ 0x40);
        EXPECT_NE(error_of(damaged), "(no error)") << "byte " << i;
    }
}

TEST(Bundle, ForeignFilesAndOtherFormatsAreRefusedWithTheReason) {
    EXPECT_EQ(error_of("kitty:01\n"), "policy.bundle: not a policy bundle: no CSGBUNDL header");
    EXPECT_EQ(error_of(std::string(100, '\0')), "policy.bundle: not a policy bundle: no CSGBUNDL header");
    std::string data = encode_bundle(sample());
    EXPECT_EQ(error_of(data + "x"), "policy.bundle: not a policy bundle: its SHA-256 does not match (damaged or truncated)");
}

}  // namespace
}  // namespace cscguard
