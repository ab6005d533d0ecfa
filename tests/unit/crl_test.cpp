#include "policy/crl.h"

#include <functional>

#include <gtest/gtest.h>
#include <openssl/err.h>

#include "policy/crl_reason.h"
#include "policy/error.h"
#include "tests/support/error_of.h"
#include "tests/support/test_pki.h"

namespace cscguard {
namespace {

using testing::CrlSpec;
using testing::TestCa;

class Crls : public ::testing::Test {
protected:
    std::vector<RevocationList> parse(const std::string& data) { return parse_crls(data, "kitty.crl", issuers); }

    std::string error_of(const std::string& data) {
        return testing::error_of([&] { parse(data); });
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
    EXPECT_EQ(lists[0].revoked.size(), 0u);
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
    EXPECT_EQ(error_of(truncated).rfind("kitty.crl: PEM block #1 is damaged or truncated", 0), 0u)
        << error_of(truncated);
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

namespace cscguard {
namespace {

// Torn writes: a PEM file of two issuers' CRLs caught mid-write must be
// refused whole - never read as the first issuer's CRL alone.
class TornCrlFile : public Crls {
protected:
    std::string both = kitty.crl({{"01"}}) + acme.crl({{"02"}});
    std::size_t second = both.find("-----BEGIN", 1);
};

TEST_F(TornCrlFile, InsideTheSecondBlockIsRefused) {
    const std::string torn = both.substr(0, second + (both.size() - second) / 2);
    EXPECT_EQ(error_of(torn).rfind("kitty.crl: PEM block #2 is damaged or truncated", 0), 0u) << error_of(torn);
    EXPECT_EQ(ERR_peek_error(), 0u);
}

TEST_F(TornCrlFile, InsideTheSecondBeginLineIsRefused) {
    for (std::size_t cut : {second + 3, second + 12, second + 20}) {
        const std::string torn = both.substr(0, cut);
        EXPECT_NE(error_of(torn), "(no error)") << "cut at " << cut;
    }
    EXPECT_EQ(error_of(both.substr(0, second + 12)), "kitty.crl: holds 2 BEGIN lines but 1 readable CRLs (a file still being written?)");
}

TEST_F(TornCrlFile, TextAfterTheLastBlockIsRefused) {
    EXPECT_EQ(error_of(both.substr(0, second) + "-"), "kitty.crl: text after the last CRL (a file still being written?)");
    EXPECT_EQ(parse(both.substr(0, second) + "\n\n").size(), 1u) << "trailing whitespace is fine";
}

// Found by fuzzing against OpenSSL's reader: bytes after the dashes of the
// last END line, on the same line, were taken as the end of the block.
TEST_F(TornCrlFile, AnEndLineThatGoesOnIsRefused) {
    const std::string first = both.substr(0, second);
    const std::string cut = first.substr(0, first.rfind("-----") + 5);  // "...-----END X509 CRL-----"
    EXPECT_EQ(error_of(cut + "garbage").rfind("kitty.crl: PEM block #1 is damaged or truncated", 0), 0u) << error_of(cut + "garbage");
    EXPECT_EQ(parse(cut).size(), 1u) << "an END line at the end of the text is whole";
    EXPECT_EQ(parse(cut + "\r\n").size(), 1u);
}

// OpenSSL stops at an empty line inside a block (fuzzing found the
// difference): such a block is refused, not read past the gap.
TEST_F(TornCrlFile, AnEmptyLineInsideTheBase64IsRefused) {
    const std::string first = both.substr(0, second);
    const std::size_t body = first.find('\n') + 1;
    const std::size_t gap = first.find('\n', body) + 1;  // after the first base64 line
    const std::string gapped = first.substr(0, gap) + "\n\n" + first.substr(gap);
    EXPECT_EQ(error_of(gapped).rfind("kitty.crl: PEM block #1", 0), 0u) << error_of(gapped);
    EXPECT_NE(error_of(gapped).find("empty line"), std::string::npos) << error_of(gapped);
    EXPECT_EQ(parse(first).size(), 1u);
}

// Found by fuzzing against OpenSSL's reader (CI, issue 11's landing): an
// empty line right before the END line also ends OpenSSL's block early (it
// takes the lines before it for headers and refuses them), so it is refused
// here too, with LF and with CRLF line ends.
TEST_F(TornCrlFile, AnEmptyLineBeforeTheEndLineIsRefused) {
    const std::string first = both.substr(0, second);
    const std::size_t end = first.rfind("-----END");
    for (const std::string gap : {"\n", "\r\n"}) {
        const std::string gapped = first.substr(0, end) + gap + first.substr(end);
        EXPECT_EQ(error_of(gapped).rfind("kitty.crl: PEM block #1", 0), 0u) << error_of(gapped);
        EXPECT_NE(error_of(gapped).find("empty line"), std::string::npos) << error_of(gapped);
    }
}

TEST_F(TornCrlFile, TextBeforeBlocksIsFine) {
    EXPECT_EQ(parse("Certificate Revocation List (CRL):\n  Version 2\n" + both).size(), 2u);  // openssl crl -text
}

TEST_F(Crls, BlockThatIsNoCrlIsRefused) {
    const std::string mixed = kitty.crl({}) + kitty.pem();
    EXPECT_EQ(error_of(mixed), "kitty.crl: PEM block #2 is a CERTIFICATE, not an X509 CRL");
}

TEST_F(Crls, DerWithTrailingBytesIsRefused) {
    CrlSpec spec{{"80"}};
    spec.der = true;
    EXPECT_EQ(error_of(kitty.crl(spec) + "x").rfind("kitty.crl: no CRL found", 0), 0u);
    std::string der = kitty.crl(spec);
    der.pop_back();
    EXPECT_EQ(error_of(der).rfind("kitty.crl: no CRL found", 0), 0u);
}

TEST_F(Crls, NumberDigestAndAge) {
    CrlSpec spec{{}};
    spec.number = 0x1A2B;
    const auto a = parse(kitty.crl(spec));
    EXPECT_EQ(a[0].number, "1A2B");
    EXPECT_EQ(a[0].digest.size(), 64u);
    const std::string pem = kitty.crl(spec);
    EXPECT_EQ(parse(pem)[0].digest, parse(pem)[0].digest) << "the same CRL read twice";
    EXPECT_NE(parse(pem)[0].digest, a[0].digest) << "another CRL (ECDSA signatures differ every time)";
    CrlSpec none{{}};
    none.no_number = true;
    EXPECT_EQ(parse(kitty.crl(none))[0].number, "");
    EXPECT_NE(parse(kitty.crl(none))[0].version().find("no crlNumber, thisUpdate "), std::string::npos);
}

// What check_crl_succession allows: the file's CRLs may only move forward.
class Succession : public Crls {
protected:
    CrlSet set(std::initializer_list<std::string> pems) {
        CrlSet out;
        for (const auto& pem : pems) {
            for (auto& l : parse(pem)) out.push_back(std::make_shared<const RevocationList>(std::move(l)));
        }
        return out;
    }
    std::string succession_error(const CrlSet& in_force, const CrlSet& next) {
        try {
            check_crl_succession(in_force, next);
        } catch (const PolicyError& err) {
            return err.what();
        }
        return "(no error)";
    }
    static CrlSpec numbered(long n, long this_update = -3600) {
        CrlSpec spec{{}};
        spec.number = n;
        spec.this_update = this_update;
        return spec;
    }
};

TEST_F(Succession, NewerSameOrAddedIssuersAreAccepted) {
    const CrlSet old = set({kitty.crl(numbered(5))});
    EXPECT_EQ(succession_error(old, set({kitty.crl(numbered(6))})), "(no error)");
    EXPECT_EQ(succession_error(old, old), "(no error)") << "the same CRL read again";
    EXPECT_EQ(succession_error(old, set({kitty.crl(numbered(6)), acme.crl(numbered(1))})), "(no error)");
}

TEST_F(Succession, DroppingAnIssuerIsRefused) {
    const CrlSet old = set({kitty.crl(numbered(5)), acme.crl(numbered(9))});
    const std::string error = succession_error(old, set({kitty.crl(numbered(6))}));
    EXPECT_EQ(error.rfind("no longer holds a CRL of acme (truncated, or replaced by another CA's CRL?): its CRL in force "
                          "(crlNumber 9, thisUpdate ", 0), 0u) << error;
    EXPECT_NE(error.find("stays, an issuer never loses its CRL"), std::string::npos);
    EXPECT_NE(succession_error(set({kitty.crl(numbered(5))}), set({acme.crl(numbered(9))})), "(no error)")
        << "replaced by another declared issuer's valid CRL";
}

TEST_F(Succession, RollbackIsRefused) {
    const CrlSet old = set({kitty.crl(numbered(7))});
    const std::string error = succession_error(old, set({kitty.crl(numbered(6, -60))}));
    EXPECT_EQ(error.rfind("its CRL of kitty (crlNumber 6, thisUpdate ", 0), 0u) << error;
    EXPECT_NE(error.find(") is older than the one in force (crlNumber 7, thisUpdate "), std::string::npos) << error;
    EXPECT_NE(error.find("an old file put back? The one in force stays, a CRL never rolls back"), std::string::npos);
}

TEST_F(Succession, WithoutNumbersThisUpdateDecides) {
    CrlSpec older{{}}, newer{{}};
    older.no_number = newer.no_number = true;
    older.this_update = -7200;
    newer.this_update = -60;
    EXPECT_NE(succession_error(set({kitty.crl(newer)}), set({kitty.crl(older)})), "(no error)");
    EXPECT_EQ(succession_error(set({kitty.crl(older)}), set({kitty.crl(newer)})), "(no error)");
}

TEST_F(Succession, MergeTakesWhatMovesForwardIssuerByIssuer) {
    const CrlSet old = set({kitty.crl(numbered(5)), acme.crl(numbered(9))});
    const CrlSet next = set({kitty.crl(numbered(6)), acme.crl(numbered(8))});
    const CrlMerge merge = merge_crls(old, next);
    EXPECT_TRUE(merge.changed);
    ASSERT_EQ(merge.in_force.size(), 2u);
    EXPECT_EQ(newest_of(merge.in_force, "kitty")->number, "6");
    EXPECT_EQ(newest_of(merge.in_force, "acme")->number, "9");
    ASSERT_EQ(merge.problems.size(), 1u);
    EXPECT_NE(merge.problems[0].find("its CRL of acme (crlNumber 8"), std::string::npos) << merge.problems[0];
    EXPECT_FALSE(merge_crls(old, old).changed) << "the same CRLs again";
    EXPECT_TRUE(merge_crls(old, old).problems.empty());
}

TEST_F(Succession, SameAgeButOtherContentIsRefused) {
    CrlSpec a{{"01"}}, b{{"02"}};
    a.number = b.number = 3;
    a.this_update = b.this_update = -3600;
    const std::string error = succession_error(set({kitty.crl(a)}), set({kitty.crl(b)}));
    EXPECT_NE(error.find("is not newer than the one in force but differs from it"), std::string::npos) << error;
}

TEST(CrlReasons, CodesAreRfc5280s) {
    const std::pair<const char*, int> rfc5280[] = {
        {"unspecified", 0}, {"keyCompromise", 1},        {"CACompromise", 2},    {"affiliationChanged", 3},
        {"superseded", 4},  {"cessationOfOperation", 5}, {"certificateHold", 6}, {"removeFromCRL", 8},
        {"privilegeWithdrawn", 9}, {"AACompromise", 10}};
    for (const auto& [name, code] : rfc5280) EXPECT_EQ(crl_reason_code(name), code) << name;
    for (const char* unknown : {"", "stolen", "keycompromise", "7"}) {
        EXPECT_EQ(crl_reason_code(unknown), std::nullopt) << unknown;
        EXPECT_FALSE(is_revocation_reason(unknown)) << unknown;
    }
}

TEST(CrlReasons, ARevocationTakesEveryReasonButTheDeltaAndAttributeOnes) {
    for (const char* name : {"unspecified", "keyCompromise", "CACompromise", "affiliationChanged", "superseded",
                             "cessationOfOperation", "certificateHold", "privilegeWithdrawn"}) {
        EXPECT_TRUE(is_revocation_reason(name)) << name;
    }
    EXPECT_FALSE(is_revocation_reason("removeFromCRL"));
    EXPECT_FALSE(is_revocation_reason("AACompromise"));
}

}  // namespace
}  // namespace cscguard
