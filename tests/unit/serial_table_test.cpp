// Compiled serial tables: every spelling of a serial finds its entry, and
// nothing else does, at any size.
#include "policy/serial_table.h"

#include <random>
#include <set>

#include <gtest/gtest.h>

#include "tests/support/asn1_integer.h"
#include "policy/error.h"

namespace cscguard {
namespace {

SerialOctets octets(std::string_view text) {
    SerialOctets o;
    EXPECT_TRUE(SerialOctets::parse(text, o)) << text;
    return o;
}

TEST(SerialTable, EmptyTablesFindNothing) {
    EXPECT_FALSE(SerialTable().contains(0, Serial::parse("0")));
    SerialTable built = SerialTableBuilder().build();
    EXPECT_EQ(built.size(), 0u);
    EXPECT_FALSE(built.contains(0, Serial::parse("1")));
}

TEST(SerialTable, FindsEverySpellingOfAnEntryAndKeepsDuplicatesOnce) {
    SerialTableBuilder b;
    b.add(0, octets("00:d1:d1:1c"));
    b.add(0, octets("D1D11C"));  // the same integer
    b.add(1, octets("0"));
    b.add(0, octets("-0x80"));
    SerialTable t = b.build();
    EXPECT_EQ(t.size(), 3u);
    EXPECT_TRUE(t.contains(0, Serial::parse("d1d11c")));
    EXPECT_TRUE(t.contains(0, octets("0xD1D11C")));
    EXPECT_TRUE(t.contains(1, Serial::parse("00")));
    EXPECT_TRUE(t.contains(0, Serial::parse("-80")));
    EXPECT_FALSE(t.contains(0, Serial::parse("80"))) << "the sign is part of the serial";
    EXPECT_FALSE(t.contains(1, Serial::parse("D1D11C"))) << "an entry is bound to its issuer";
    EXPECT_FALSE(t.contains(0, Serial::parse("0")));
    EXPECT_FALSE(t.contains(0, Serial::parse("D1D11C00")));
}

// A certificate's serial may be longer than any entry: never found, never
// read beyond a key.
TEST(SerialTable, SerialsLongerThanTheKeysAreNotFound) {
    SerialTableBuilder b;
    b.add(0, octets("01"));
    const SerialTable t = b.build();
    EXPECT_FALSE(t.contains(0, Serial::parse(std::string(70, 'F'))));
}

// A CRL may revoke a serial longer than an allowlist accepts: a certificate
// carrying it is still found.
TEST(SerialTable, CrlSerialsUpTo127OctetsAndNoLonger) {
    SerialTableBuilder b;
    b.add(0, std::string(127, '\x7f'), false);
    EXPECT_THROW(b.add(0, std::string(128, '\x7f'), false), PolicyError);
    const SerialTable t = b.build();
    std::string hex;
    for (int i = 0; i < 127; ++i) hex += "7F";
    const testing::Asn1IntegerPtr number = testing::hex_integer(hex);
    ASSERT_EQ(ASN1_STRING_length(number.get()), 127);
    const Serial serial = Serial::from_asn1(*number);
    EXPECT_TRUE(t.contains(0, serial));
}

TEST(SerialTable, ManyRandomEntriesAreAllFoundAndOthersAreNot) {
    std::mt19937_64 rng(7);
    std::set<std::pair<int, std::string>> in;
    SerialTableBuilder b;
    for (int i = 0; i < 50000; ++i) {
        char hex[40];
        std::snprintf(hex, sizeof hex, "%llX", static_cast<unsigned long long>(rng() >> (rng() % 60)));
        const int issuer = static_cast<int>(rng() % 3);
        b.add(static_cast<std::uint16_t>(issuer), octets(hex));
        in.emplace(issuer, Serial::parse(hex).canonical());
    }
    const SerialTable t = b.build();
    EXPECT_EQ(t.size(), in.size());
    for (const auto& [issuer, hex] : in) {
        ASSERT_TRUE(t.contains(static_cast<std::uint16_t>(issuer), Serial::parse(hex))) << issuer << ":" << hex;
    }
    int absent = 0;
    for (int i = 0; i < 50000; ++i) {
        char hex[40];
        std::snprintf(hex, sizeof hex, "%llX", static_cast<unsigned long long>(rng()));
        const bool member = in.count({0, Serial::parse(hex).canonical()}) != 0;
        EXPECT_EQ(t.contains(0, Serial::parse(hex)), member) << hex;
        absent += !member;
    }
    EXPECT_GT(absent, 49000);
}

TEST(SerialTable, DamagedLayoutsAreRefused) {
    SerialTableBuilder b;
    b.add(0, octets("01"));
    b.add(0, octets("02"));
    b.add(0, octets("03"));
    const std::string good(b.build().bytes());
    const auto open = [](std::string bytes) {
        auto owned = std::make_shared<const std::string>(std::move(bytes));
        return SerialTable::open(*owned, owned);
    };
    EXPECT_EQ(open(good).size(), 3u);
    for (std::size_t size = 0; size < good.size(); ++size) {
        EXPECT_THROW(open(good.substr(0, size)), PolicyError) << size;
    }
    EXPECT_THROW(open(good + "x"), PolicyError);
    std::string wide = good;
    wide[4] = 2;  // key width below the prefix
    EXPECT_THROW(open(wide), PolicyError);
    std::string bits = good;
    bits[6] = 40;
    EXPECT_THROW(open(bits), PolicyError);
}

}  // namespace
}  // namespace cscguard
