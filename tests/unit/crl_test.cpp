#include "crl.h"

#include <functional>

#include <gtest/gtest.h>
#include <openssl/err.h>

#include "error.h"
#include "test_pki.h"

namespace cscguard {
namespace {

using testing::CrlSpec;
using testing::TestCa;

class Crls : public ::testing::Test {
protected:
    std::vector<RevocationList> parse(const std::string& data) { return parse_crls(data, "kitty.crl", issuers); }

    std::string error_of(const std::string& data) {
        try {
            parse(data);
        } catch (const PolicyError& err) {
            return err.what();
        }
        return "(no error)";
    }

    TestCa kitty{"kitty-ca"};
    TestCa acme{"acme-ca"};
    TestCa impostor{"kitty-ca"};  // same DN as kitty, another key
    std::vector<std::shared_ptr<const Issuer>> issuers{Issuer::from_pem("kitty", kitty.pem()),
                                                       Issuer::from_pem("acme", acme.pem())};
};

TEST_F(Crls, PemCrlIsVerifiedAndRead) {
    const auto lists = parse(kitty.crl({{"1D1D1C749D9C2D16", "0A1B"}}));
    ASSERT_EQ(lists.size(), 1u);
    EXPECT_EQ(lists[0].issuer, "kitty");
    EXPECT_EQ(lists[0].source, "kitty.crl");
    EXPECT_TRUE(lists[0].revokes(Serial::parse("1d:1d:1c:74:9d:9c:2d:16")));
    EXPECT_TRUE(lists[0].revokes(Serial::parse("A1B")));
    EXPECT_FALSE(lists[0].revokes(Serial::parse("3333")));
    EXPECT_NEAR(static_cast<double>(lists[0].next_update - lists[0].this_update), 86400 + 3600, 2);
    EXPECT_EQ(ERR_peek_error(), 0u);
}

TEST_F(Crls, DerCrl) {
    CrlSpec spec{{"80"}};
    spec.der = true;
    const auto lists = parse(kitty.crl(spec));
    ASSERT_EQ(lists.size(), 1u);
    EXPECT_TRUE(lists[0].revokes(Serial::parse("0080")));
}

TEST_F(Crls, SeveralCrlsInOnePemFileEachBoundToItsIssuer) {
    const auto lists = parse(kitty.crl({{"01"}}) + acme.crl({{"02"}}));
    ASSERT_EQ(lists.size(), 2u);
    EXPECT_EQ(lists[0].issuer, "kitty");
    EXPECT_EQ(lists[1].issuer, "acme");
    EXPECT_TRUE(lists[1].revokes(Serial::parse("02")));
}

TEST_F(Crls, EmptyCrlRevokesNothing) {
    const auto lists = parse(kitty.crl({}));
    ASSERT_EQ(lists.size(), 1u);
    EXPECT_TRUE(lists[0].revoked.empty());
}

TEST_F(Crls, ImpostorSignatureIsRefused) {
    EXPECT_EQ(error_of(impostor.crl({{"01"}})),
              "kitty.crl: CRL of 'O=Test CAs,CN=kitty-ca' signature does not verify with the key of CSCGuardIssuer "
              "kitty (signed by another key with the same name?)");
    EXPECT_EQ(ERR_peek_error(), 0u);
}

TEST_F(Crls, UndeclaredIssuerIsRefused) {
    TestCa other("other-ca");
    EXPECT_EQ(error_of(other.crl({})),
              "kitty.crl: CRL of 'O=Test CAs,CN=other-ca' issuer 'O=Test CAs,CN=other-ca' is not a declared "
              "CSCGuardIssuer");
}

TEST_F(Crls, SecondOfSeveralNamesItsPosition) {
    EXPECT_NE(error_of(kitty.crl({}) + impostor.crl({})).find("kitty.crl: CRL #2 of 'O=Test CAs,CN=kitty-ca'"),
              std::string::npos);
}

struct Refusal {
    const char* name;
    std::function<void(CrlSpec&)> tweak;
    const char* reason;
};

void PrintTo(const Refusal& r, std::ostream* os) { *os << r.name; }

class CrlRefusal : public Crls, public ::testing::WithParamInterface<Refusal> {};

TEST_P(CrlRefusal, IsRefusedWithTheReason) {
    CrlSpec spec{{"01", "02"}};
    GetParam().tweak(spec);
    const std::string error = error_of(kitty.crl(spec));
    EXPECT_NE(error.find(GetParam().reason), std::string::npos) << error;
    EXPECT_EQ(error.rfind("kitty.crl: CRL of 'O=Test CAs,CN=kitty-ca' ", 0), 0u) << error;
}

INSTANTIATE_TEST_SUITE_P(
    EveryKind, CrlRefusal,
    ::testing::Values(
        Refusal{"NoNextUpdate", [](CrlSpec& s) { s.next_update.reset(); }, "has no nextUpdate"},
        Refusal{"Delta", [](CrlSpec& s) { s.delta = true; }, "is a delta CRL"},
        Refusal{"IndirectIdp", [](CrlSpec& s) { s.indirect = true; }, "is an indirect CRL"},
        Refusal{"PartialReasons", [](CrlSpec& s) { s.only_some_reasons = true; }, "is a partial CRL"},
        Refusal{"UnknownCriticalExtension", [](CrlSpec& s) { s.unknown_critical = true; },
                "has an unknown critical extension 1.3.6.1.4.1.99999.1"},
        Refusal{"EntryUnknownCritical", [](CrlSpec& s) { s.entry_unknown_critical = true; },
                "entry 1 has an unknown critical extension 1.3.6.1.4.1.99999.1"},
        Refusal{"EntryCertificateIssuer", [](CrlSpec& s) { s.entry_certificate_issuer = true; },
                "is an indirect CRL (entry 1 names a certificateIssuer)"}),
    [](const auto& param_info) { return std::string(param_info.param.name); });

TEST_F(Crls, GarbageIsRefused) {
    EXPECT_EQ(error_of("not a crl").rfind("kitty.crl: no CRL found (expected PEM or DER)", 0), 0u);
    EXPECT_EQ(error_of("").rfind("kitty.crl: no CRL found", 0), 0u);
    std::string truncated = kitty.crl({{"01"}});
    truncated.resize(truncated.size() / 2);
    EXPECT_EQ(error_of(truncated).rfind("kitty.crl: no CRL found", 0), 0u);
    EXPECT_EQ(ERR_peek_error(), 0u);
}

TEST_F(Crls, MissingFileIsNamed) {
    try {
        load_crls("/nonexistent/kitty.crl", issuers);
        FAIL();
    } catch (const PolicyError& err) {
        EXPECT_EQ(std::string(err.what()), "/nonexistent/kitty.crl: cannot read CRL: No such file or directory");
    }
}

TEST(Duration, AdminSpellings) {
    EXPECT_EQ(parse_duration("0"), 0);
    EXPECT_EQ(parse_duration("90"), 90);
    EXPECT_EQ(parse_duration("90s"), 90);
    EXPECT_EQ(parse_duration("15m"), 900);
    EXPECT_EQ(parse_duration("12h"), 43200);
    EXPECT_EQ(parse_duration("7d"), 604800);
    for (const char* bad : {"", "h", "-1", "1.5h", "12 h", "3w", "1234567890"}) {
        EXPECT_THROW(parse_duration(bad), PolicyError) << bad;
    }
}

TEST(FormatUtc, IsoLike) { EXPECT_EQ(format_utc(0), "1970-01-01 00:00:00 UTC"); }

}  // namespace
}  // namespace cscguard
