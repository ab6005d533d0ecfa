// The tool's building blocks: database lines, secrets, serials, arguments.
#include <cstdlib>
#include <fstream>
#include <set>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

#include <gtest/gtest.h>

#include "tools/cscguard/args.h"
#include "tests/support/asn1_integer.h"
#include "tools/cscguard/ca_dir.h"
#include "tools/cscguard/database.h"
#include "tools/cscguard/secret.h"
#include "tests/support/temp_dir.h"
#include "tools/cscguard/tool_error.h"
#include "tools/cscguard/x509_builder.h"

namespace cscguard::tool {
namespace {

TEST(Database, RoundTripsOpensslCaLines) {
    const std::string text =
        "V\t271122090343Z\t\t2D30159CA73CC61BEAB329C23139EAC3\tclient\t/CN=eager-client/OU=staff/OU=ops\n"
        "R\t271122090343Z\t261122090500Z,keyCompromise\t0A1B\tclient\t/CN=lazy-client\n"
        "V\t20510101000000Z\t\t01\tserver\t/CN=picture-server\n";
    const auto records = parse_database(text, "index.txt");
    ASSERT_EQ(records.size(), 3u);
    EXPECT_EQ(records[0].name(), "eager-client");
    EXPECT_EQ(records[0].groups(), (std::vector<std::string>{"staff", "ops"}));
    EXPECT_TRUE(records[1].revoked());
    EXPECT_EQ(records[1].reason, "keyCompromise");
    EXPECT_EQ(records[2].kind, "server");
    EXPECT_EQ(format_asn1_time(records[2].expires), "20510101000000Z");  // GeneralizedTime past 2049
    EXPECT_EQ(format_database(records), text);
}

TEST(Database, TimesInEitherSpellingBeforeAndAfter1970) {
    EXPECT_EQ(parse_asn1_time("700101000000Z"), std::optional<std::time_t>(0));
    EXPECT_EQ(parse_asn1_time("691231235959Z"), std::optional<std::time_t>(-1)) << "a real second, not an error";
    EXPECT_EQ(parse_asn1_time("20510101000000Z"), std::optional<std::time_t>(2556144000));
    EXPECT_EQ(parse_asn1_time("20270101000000Z"), parse_asn1_time("270101000000Z"));
    EXPECT_EQ(parse_asn1_time("270230000000Z"), std::nullopt) << "30 February";
}

TEST(Database, CorruptedLinesAreNamed) {
    for (const char* bad : {"V\t271122090343Z\t\t0A1B\tclient\n",                  // 5 fields
                            "X\t271122090343Z\t\t0A1B\tclient\t/CN=a\n",          // status
                            "V\tyesterday\t\t0A1B\tclient\t/CN=a\n",              // time
                            "V\t271122090343Z\t\t0a1b\tclient\t/CN=a\n",          // lowercase serial
                            "V\t271122090343Z\t\tA1B\tclient\t/CN=a\n",           // odd length
                            "R\t271122090343Z\tnow\t0A1B\tclient\t/CN=a\n",        // revocation date
                            "R\t271122090343Z\t261122090500Z,oops\t0A1B\tclient\t/CN=a\n",
                            "V\t271122090343Z\t\t0A1B\tunknown\t/CN=a\n",         // kind
                            "V\t271122090343Z\t\t0A1B\tclient\tCN=a\n",
                            // found by fuzzing: out-of-range fields were rolled into other dates
                            "R\t002135580630Z\t261123120000Z,affiliationChanged\t0A1B\tclient\t/CN=a\n",
                            "V\t261399000000Z\t\t0A1B\tclient\t/CN=a\n",     // month 13
                            "V\t99991299235959Z\t\t0A1B\tclient\t/CN=a\n",   // day 99 (became year 10000)
                            "V\t+71122090343Z\t\t0A1B\tclient\t/CN=a\n",     // sign instead of a digit
                            "V\t271122090360Z\t\t0A1B\tclient\t/CN=a\n",    // second 60
                            "R\t00000929013820Z\t261124120000Z\t0A1B\tclient\t/CN=a\n"}) {  // year 0
        try {
            parse_database(std::string("V\t271122090343Z\t\t01\tclient\t/CN=ok\n") + bad, "/ca/index.txt");
            ADD_FAILURE() << "accepted: " << bad;
        } catch (const ToolError& err) {
            EXPECT_EQ(std::string(err.what()).rfind("/ca/index.txt:2: corrupted database line (", 0), 0u) << err.what();
        }
    }
}

TEST(Secret, Sources) {
    EXPECT_EQ(read_secret("pass:s3cret"), "s3cret");
    setenv("CSCGUARD_TEST_SECRET", "from-env", 1);
    EXPECT_EQ(read_secret("env:CSCGUARD_TEST_SECRET"), "from-env");
    const cscguard::testing::TempDir temp;
    const std::string file = temp / "secret.txt";
    std::ofstream(file) << "from-file\r\nsecond line\n";
    EXPECT_EQ(read_secret("file:" + file), "from-file");
    try {
        read_secret("env:CSCGUARD_NO_SUCH_VARIABLE");
        FAIL();
    } catch (const ToolError& err) {
        EXPECT_EQ(err.code(), kBadSecret);
    }
    EXPECT_THROW(read_secret("file:/nonexistent"), ToolError);
    EXPECT_THROW(read_secret("pass:"), ToolError);
    try {
        read_secret("s3cret");
        FAIL();
    } catch (const ToolError& err) {
        EXPECT_EQ(err.code(), kUsage);
    }
}

TEST(Secret, RandomPasswordsAreLongAndDifferent) {
    const std::string a = random_password(), b = random_password();
    EXPECT_GE(a.size(), 20u);
    EXPECT_NE(a, b);
    EXPECT_EQ(a.find_first_of("0O1lI"), std::string::npos);
}

// RFC 5280 4.1.2.2: a serial is a positive INTEGER of at most 20 octets, and
// CA/Browser Forum rules want 64 random bits or more. random_serial gives 16
// random octets with the top bit clear and a non-zero first octet: in DER
// exactly 16 content octets (no 00 sign octet, none stripped), 18 with the
// tag and length. Uppercase hex is how index.txt and certs/HEX.pem spell it.
TEST(Serials, PositiveSixteenOctetIntegersAsRfc5280Wants) {
    for (int i = 0; i < 2000; ++i) {
        const std::string s = random_serial({});
        ASSERT_EQ(s.size(), 32u) << s;
        EXPECT_EQ(s.find_first_not_of("0123456789ABCDEF"), std::string::npos) << s;
        const cscguard::testing::Asn1IntegerPtr integer = cscguard::testing::hex_integer(s);
        EXPECT_EQ(ASN1_STRING_type(integer.get()), V_ASN1_INTEGER) << "not positive: " << s;
        EXPECT_EQ(i2d_ASN1_INTEGER(integer.get(), nullptr), 18) << "not 16 content octets in DER: " << s;
    }
}

// The serials are random, not a fixed or repeating value: with nothing taken,
// 2000 draws of 127 bits never repeat unless the generator is broken (the
// `taken` argument, which excludes known serials by construction, is not
// what is tested here: a collision cannot be forced).
TEST(Serials, DrawsDoNotRepeat) {
    std::set<std::string> drawn;
    for (int i = 0; i < 2000; ++i) drawn.insert(random_serial({}));
    EXPECT_EQ(drawn.size(), 2000u);
}

TEST(Args, OptionsFlagsAndPositionals) {
    const Args a({"client", "eager", "--email", "a@x", "--email=b@x", "--rekey", "--days", "30"}, {"email", "days"}, {"rekey"});
    EXPECT_EQ(a.positional(), (std::vector<std::string>{"client", "eager"}));
    EXPECT_EQ(a.values("email"), (std::vector<std::string>{"a@x", "b@x"}));
    EXPECT_EQ(a.int_value_or("days", 1), 30);
    EXPECT_TRUE(a.flag("rekey"));
    EXPECT_THROW(Args({"--nope"}, {}, {}), ToolError);
    EXPECT_THROW(Args({"--email"}, {"email"}, {}), ToolError);
    EXPECT_THROW(Args({"--days", "x"}, {"days"}, {}).int_value_or("days", 1), ToolError);
}

TEST(Keys, Ed25519RefusedForClients) {
    try {
        check_key_spec("ed25519", true);
        FAIL();
    } catch (const ToolError& err) {
        EXPECT_EQ(err.code(), kRefused);
        EXPECT_NE(std::string(err.what()).find("browsers do not accept"), std::string::npos);
    }
    EXPECT_NO_THROW(check_key_spec("ec:P-384", true));
    EXPECT_THROW(check_key_spec("dsa:1024", false), ToolError);
}

// The tool reads its files through policy's checked reader: an error while
// reading is reported with the file, never taken for an empty file.
TEST(ReadFile, AReadErrorIsReportedNotAnEmptyFile) {
    const cscguard::testing::TempDir temp;
    const std::string dir = temp.path();
    try {
        const std::string text = read_file(dir);  // open(2) succeeds on a directory; read(2) fails
        ADD_FAILURE() << "read a directory as " << text.size() << " bytes";
    } catch (const ToolError& e) {
        EXPECT_EQ(e.code(), kFailure);
        EXPECT_EQ(std::string(e.what()), dir + ": cannot read: it is a directory");
    }
    try {
        read_file(dir + "/missing");
        ADD_FAILURE() << "read a missing file";
    } catch (const ToolError& e) {
        EXPECT_EQ(std::string(e.what()), dir + "/missing: cannot read: No such file or directory");
    }
}

// A request or a CSV may come from a pipe (`sign client <(...)`): read to its end.
TEST(ReadFile, APipeIsReadToItsEnd) {
    const cscguard::testing::TempDir temp;
    const std::string fifo = temp.path() + "/pipe";
    ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
    std::thread writer([&] { std::ofstream(fifo) << "first\nsecond\n"; });
    EXPECT_EQ(read_file(fifo), "first\nsecond\n");
    writer.join();
}

}  // namespace
}  // namespace cscguard::tool
