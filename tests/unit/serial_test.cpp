#include "policy/serial.h"

#include <gtest/gtest.h>

#include "policy/error.h"
#include "tests/support/asn1_integer.h"
#include "policy/openssl_ptr.h"

namespace cscguard {
namespace {

struct Spelling {
    const char* text;
    const char* canonical;
};

void PrintTo(const Spelling& s, std::ostream* os) { *os << s.text; }

class SerialSpelling : public ::testing::TestWithParam<Spelling> {};

TEST_P(SerialSpelling, DenotesTheSameInteger) {
    EXPECT_EQ(Serial::parse(GetParam().text).canonical(), GetParam().canonical) << GetParam().text;
}

INSTANTIATE_TEST_SUITE_P(
    AllSpellings, SerialSpelling,
    ::testing::Values(Spelling{"D1D11C749D9C2D16", "D1D11C749D9C2D16"},
                      Spelling{"d1d11c749d9c2d16", "D1D11C749D9C2D16"},
                      Spelling{"d1:d1:1c:74:9d:9c:2d:16", "D1D11C749D9C2D16"},
                      Spelling{"D1:D1:1C:74:9D:9C:2D:16", "D1D11C749D9C2D16"},
                      Spelling{"0xD1D11C749D9C2D16", "D1D11C749D9C2D16"},
                      Spelling{"0Xd1d11c749d9c2d16", "D1D11C749D9C2D16"},
                      Spelling{"00D1D11C749D9C2D16", "D1D11C749D9C2D16"},
                      Spelling{"00:d1:d1:1c:74:9d:9c:2d:16", "D1D11C749D9C2D16"},
                      Spelling{"0A1B", "A1B"},     // mod_ssl's whole-byte spelling
                      Spelling{"a:1b", "A1B"},     // one-digit groups
                      Spelling{"80", "80"},        // high bit: no sign-padding byte
                      Spelling{"0080", "80"},      // DER's padded spelling
                      Spelling{"00", "0"},
                      Spelling{"0", "0"},
                      Spelling{"0x0", "0"},
                      Spelling{"-01", "-1"},       // negative, as i2a_ASN1_INTEGER prints it
                      Spelling{"-0x80", "-80"},
                      Spelling{"-0", "0"}));

struct BadSpelling {
    const char* text;
    const char* reason;
};

void PrintTo(const BadSpelling& s, std::ostream* os) { *os << s.text; }

class SerialError : public ::testing::TestWithParam<BadSpelling> {};

TEST_P(SerialError, IsRefusedWithAReason) {
    try {
        Serial::parse(GetParam().text);
        FAIL() << "accepted " << GetParam().text;
    } catch (const PolicyError& err) {
        EXPECT_NE(std::string(err.what()).find(GetParam().reason), std::string::npos) << err.what();
        EXPECT_NE(std::string(err.what()).find("is not a serial number"), std::string::npos);
    }
    EXPECT_FALSE(Serial::try_parse(GetParam().text));
}

INSTANTIATE_TEST_SUITE_P(
    NotSerials, SerialError,
    ::testing::Values(BadSpelling{"", "no hexadecimal digits"},
                      BadSpelling{"0x", "no hexadecimal digits"},
                      BadSpelling{"-", "no hexadecimal digits"},
                      BadSpelling{"d1d1g2", "'g' at position 5"},
                      BadSpelling{"eager-client", "'g' at position 3"},
                      BadSpelling{"12 34", "' ' at position 3"},
                      BadSpelling{"d1::d1", "empty group"},
                      BadSpelling{":d1", "empty group"},
                      BadSpelling{"d1:", "ends with ':'"},
                      BadSpelling{"d1d:1c", "one or two"},
                      BadSpelling{"--01", "'-' at position 2"},
                      BadSpelling{"1.5", "'.' at position 2"},
                      BadSpelling{"AB\\\n01", "'\\' at position 3"},  // OpenSSL's line break past 35 octets
                      BadSpelling{"0x1111111111111111111111111111111111111111111111111111111111111111111111111",
                                  "longer than 35 octets"}));

TEST(Serial, SeventyDigitsAreTheLongestAccepted) {
    EXPECT_NO_THROW(Serial::parse(std::string(70, 'F')));
    EXPECT_FALSE(Serial::try_parse(std::string(71, 'F')));
}

TEST(Serial, TryParseExplainsWhy) {
    std::string why;
    EXPECT_FALSE(Serial::try_parse("xyz", &why));
    EXPECT_EQ(why, "'x' at position 1 is not a hexadecimal digit");
}

TEST(Serial, FromCertificateIntegerMatchesWrittenForms) {
    for (const char* hex : {"80", "0A1B", "0", "-1", "D1D11C749D9C2D16", "7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF"}) {
        EXPECT_EQ(Serial::from_asn1(*testing::hex_integer(hex)), Serial::parse(hex)) << hex;
    }
}

}  // namespace
}  // namespace cscguard
