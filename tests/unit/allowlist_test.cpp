#include "policy/allowlist.h"

#include <fstream>

#include <gtest/gtest.h>

#include "policy/error.h"
#include "tests/support/error_of.h"
#include "tests/support/temp_dir.h"

namespace cscguard {
namespace {

const std::vector<std::string> kOne{"kitty"};
const std::vector<std::string> kTwo{"kitty", "acme"};
constexpr std::uint16_t kKitty = 0, kAcme = 1;  // their places in kTwo (and kOne)

std::string error_of(std::string_view text, const std::vector<std::string>& issuers) {
    return testing::error_of([&] { parse_allowlist(text, "partners.list", issuers); });
}

TEST(Allowlist, EntriesCommentsLabelsAndBlankLines) {
    const SerialTable set = parse_allowlist(
        "# partners\n"
        "\n"
        "kitty:D1:D1:1C:74:9D:9C:2D:16   eager-client laptop  # since 2026\n"
        "  acme:0x0A1B\tAcme API\n"
        "kitty:80\r\n"  // CRLF files from Windows editors
        "   # indented comment\n"
        "kitty:00:80\n",  // duplicate of the line above
        "partners.list", kTwo);
    EXPECT_EQ(set.size(), 3u);
    EXPECT_TRUE(set.contains(kKitty, Serial::parse("d1d11c749d9c2d16")));
    EXPECT_TRUE(set.contains(kAcme, Serial::parse("A1B")));
    EXPECT_TRUE(set.contains(kKitty, Serial::parse("80")));
}

TEST(Allowlist, EntriesAreBoundToTheirIssuer) {
    const SerialTable set = parse_allowlist("kitty:1D1D\n", "x", kTwo);
    EXPECT_TRUE(set.contains(kKitty, Serial::parse("1D1D")));
    EXPECT_FALSE(set.contains(kAcme, Serial::parse("1D1D")));
}

TEST(Allowlist, BareSerialsBelongToTheOnlyIssuer) {
    const SerialTable set = parse_allowlist("d1:d1:1c\n0A1B label\n", "x", kOne);
    EXPECT_TRUE(set.contains(kKitty, Serial::parse("D1D11C")));
    EXPECT_TRUE(set.contains(kKitty, Serial::parse("A1B")));
}

TEST(Allowlist, EmptyFileIsAnEmptyList) {
    EXPECT_EQ(parse_allowlist("", "x", kOne).size(), 0u);
    EXPECT_EQ(parse_allowlist("# nothing yet\n\n", "x", kOne).size(), 0u);
}

struct BadFile {
    const char* text;
    std::vector<std::string> issuers;
    const char* message;
};

void PrintTo(const BadFile& f, std::ostream* os) { *os << f.message; }

class AllowlistError : public ::testing::TestWithParam<BadFile> {};

TEST_P(AllowlistError, NamesFileLineAndReason) {
    EXPECT_EQ(error_of(GetParam().text, GetParam().issuers), GetParam().message);
}

INSTANTIATE_TEST_SUITE_P(
    EveryError, AllowlistError,
    ::testing::Values(
        BadFile{"kitty:01\nkitty:zz\n", kTwo,
                "partners.list:2: 'zz' is not a serial number: 'z' at position 1 is not a hexadecimal digit"},
        BadFile{"\n\nnobody:01\n", kTwo,
                "partners.list:3: unknown issuer 'nobody' (declared with CSCGuardIssuer: kitty, acme)"},
        BadFile{"01\n", kTwo,
                "partners.list:1: serial 1 has no issuer, but 2 issuers are declared (kitty, acme): write "
                "ISSUER:SERIAL"},
        BadFile{"01\n", {},
                "partners.list:1: serial 1 has no issuer, but 0 issuers are declared (none): write ISSUER:SERIAL"},
        BadFile{"kitty:\n", kOne, "partners.list:1: '' is not a serial number: no hexadecimal digits"},
        BadFile{"eager-client 1D1D\n", kOne,
                "partners.list:1: 'eager-client' is not a serial number: 'g' at position 3 is not a hexadecimal "
                "digit"},
        BadFile{"kitty:1D1D;\n", kOne,
                "partners.list:1: '1D1D;' is not a serial number: ';' at position 5 is not a hexadecimal digit"}));

TEST(Allowlist, NulByteInTheMiddleOfAFile) {
    const std::string text("01\n02\0\n", 7);
    EXPECT_EQ(error_of(text, kOne), "partners.list:2: NUL byte in line");
}

TEST(Allowlist, LoadsFilesAndNamesMissingOnes) {
    const testing::TempDir temp;
    const std::string path = temp / "allow.list";
    std::ofstream(path) << "kitty:01\n";
    EXPECT_TRUE(load_allowlist(path, kOne).contains(kKitty, Serial::parse("1")));
    try {
        load_allowlist(path + ".missing", kOne);
        FAIL();
    } catch (const PolicyError& err) {
        EXPECT_EQ(std::string(err.what()), path + ".missing: cannot read allowlist: No such file or directory");
    }
}

// A file caught mid-write as "kitty:10" (of "kitty:1000") must not grant 0x10.
TEST(Allowlist, LastLineWithoutLineEndIsRefused) {
    EXPECT_EQ(error_of("kitty:1000\nkitty:10", kOne),
              "partners.list:2: the last line has no line end (a file still being written?); end every line with a "
              "newline and replace the file by renaming a complete one into place");
    EXPECT_NE(error_of("kitty:01\n# just a comm", kOne), "(no error)") << "every line, comments too";
    EXPECT_EQ(error_of("kitty:01\r\n", kOne), "(no error)");
}

// --- the writer -------------------------------------------------------------

TEST(AllowlistWriter, WhatItWritesIsReadBackAsWritten) {
    const std::string text = format_allowlist_comment("all valid client certificates of kitty") +
                             format_allowlist_entry("kitty", "0A1B", "eager-client") +
                             format_allowlist_entry("acme", "D1:D1:1C", "") +
                             format_allowlist_entry("kitty", "7F00000000000000000000000000AB", "a label # with a hash");
    EXPECT_EQ(text,
              "# all valid client certificates of kitty\n"
              "kitty:0A1B  eager-client\n"
              "acme:D1:D1:1C\n"
              "kitty:7F00000000000000000000000000AB  a label # with a hash\n");
    const SerialTable set = parse_allowlist(text, "x", kTwo);
    EXPECT_EQ(set.size(), 3u);
    EXPECT_TRUE(set.contains(kKitty, Serial::parse("A1B")));
    EXPECT_TRUE(set.contains(kAcme, Serial::parse("D1D11C")));
    EXPECT_TRUE(set.contains(kKitty, Serial::parse("7F00000000000000000000000000AB")));
    EXPECT_FALSE(set.contains(kAcme, Serial::parse("A1B")));
}

TEST(AllowlistWriter, RefusesWhatTheParserWouldReadOtherwise) {
    // A line end in a label would add an entry; a bad issuer or serial would
    // make the whole file unreadable for the module.
    EXPECT_THROW(format_allowlist_entry("kitty", "0A1B", "laptop\nacme:0A1B"), PolicyError);
    EXPECT_THROW(format_allowlist_entry("kitty", "0A1B", std::string("a\0b", 3)), PolicyError);
    EXPECT_THROW(format_allowlist_entry("kitty", "0A1B", "a\rb"), PolicyError);
    EXPECT_THROW(format_allowlist_entry("ab", "0A1B", ""), PolicyError);  // reads as a serial octet
    EXPECT_THROW(format_allowlist_entry("", "0A1B", ""), PolicyError);
    EXPECT_THROW(format_allowlist_entry("kitty", "0A1G", ""), PolicyError);
    EXPECT_THROW(format_allowlist_entry("kitty", "", ""), PolicyError);
    EXPECT_THROW(format_allowlist_comment("partners\nkitty:0A1B"), PolicyError);
}

}  // namespace
}  // namespace cscguard
