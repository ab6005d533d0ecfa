// policy/crl_der.h: the DER walker must see exactly what OpenSSL's d2i sees
// (same serials, same header fields, same signature verdict) and refuse
// exactly what crl.cpp refuses, DER-only strictness aside.
#include "policy/crl_der.h"

#include <random>

#include <gtest/gtest.h>
#include <openssl/err.h>
#include <openssl/rsa.h>

#include "policy/error.h"
#include "policy/serial.h"
#include "tests/support/asn1_integer.h"
#include "tests/support/error_of.h"
#include "tests/support/test_pki.h"

namespace cscguard {
namespace {

using testing::CrlSpec;
using testing::error_of;
using testing::hex_integer;
using testing::TestCa;
using CrlPtr = OpenSslPtr<X509_CRL, X509_CRL_free>;

// --- building CRLs -----------------------------------------------------------

struct Options {
    std::vector<std::string> serials;  // hex, "-01" for negative
    bool v2 = true;                    // false: v1, no version field, no extensions at all
    bool entry_reason = true;          // a reasonCode on each entry
    bool reason_critical = false;
    bool entry_unknown = false;         // a non-critical private extension on each entry
    bool next_update = true;
    bool pss = false;                   // RSA keys: sign with RSA-PSS
};

X509_EXTENSION* private_extension(bool critical) {
    OpenSslPtr<ASN1_OBJECT, ASN1_OBJECT_free> obj(OBJ_txt2obj("1.3.6.1.4.1.99999.2", 1));
    OpenSslPtr<ASN1_OCTET_STRING, ASN1_OCTET_STRING_free> data(ASN1_OCTET_STRING_new());
    ASN1_OCTET_STRING_set(data.get(), reinterpret_cast<const unsigned char*>("\x05\x00"), 2);
    return X509_EXTENSION_create_by_OBJ(nullptr, obj.get(), critical ? 1 : 0, data.get());
}

std::string to_der(X509_CRL& crl) {
    unsigned char* der = nullptr;
    const int len = i2d_X509_CRL(&crl, &der);
    std::string out(reinterpret_cast<const char*>(der), static_cast<std::size_t>(len));
    OPENSSL_free(der);
    return out;
}

// A DER CRL signed by `key`, entries in the given order (not sorted).
std::string build_crl(EVP_PKEY& key, const Options& o) {
    CrlPtr crl(X509_CRL_new());
    if (o.v2) X509_CRL_set_version(crl.get(), 1);
    X509_NAME* name = X509_NAME_new();
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>("der-ca"), -1, -1, 0);
    X509_CRL_set_issuer_name(crl.get(), name);
    X509_NAME_free(name);
    OpenSslPtr<ASN1_TIME, ASN1_TIME_free> t(ASN1_TIME_set(nullptr, 1'800'000'000));
    X509_CRL_set1_lastUpdate(crl.get(), t.get());
    if (o.next_update) {
        ASN1_TIME_set(t.get(), 1'800'086'400);
        X509_CRL_set1_nextUpdate(crl.get(), t.get());
    }
    for (const std::string& hex : o.serials) {
        X509_REVOKED* entry = X509_REVOKED_new();
        X509_REVOKED_set_serialNumber(entry, hex_integer(hex).get());
        ASN1_TIME_set(t.get(), 1'799'999'000);
        X509_REVOKED_set_revocationDate(entry, t.get());
        if (o.v2 && o.entry_reason) {
            ASN1_ENUMERATED* reason = ASN1_ENUMERATED_new();
            ASN1_ENUMERATED_set(reason, 1);
            X509_REVOKED_add1_ext_i2d(entry, NID_crl_reason, reason, o.reason_critical ? 1 : 0, 0);
            ASN1_ENUMERATED_free(reason);
        }
        if (o.v2 && o.entry_unknown) {
            X509_EXTENSION* ext = private_extension(false);
            X509_REVOKED_add_ext(entry, ext, -1);
            X509_EXTENSION_free(ext);
        }
        X509_CRL_add0_revoked(crl.get(), entry);
    }
    if (o.v2) {
        ASN1_INTEGER* number = ASN1_INTEGER_new();
        ASN1_INTEGER_set(number, 42);
        X509_CRL_add1_ext_i2d(crl.get(), NID_crl_number, number, 0, 0);
        ASN1_INTEGER_free(number);
    }
    const bool is_rsa = EVP_PKEY_is_a(&key, "RSA");
    if (o.pss && is_rsa) {
        OpenSslPtr<EVP_MD_CTX, EVP_MD_CTX_free> ctx(EVP_MD_CTX_new());
        EVP_PKEY_CTX* pctx = nullptr;
        EVP_DigestSignInit(ctx.get(), &pctx, EVP_sha256(), nullptr, &key);
        EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING);
        EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, 32);
        if (X509_CRL_sign_ctx(crl.get(), ctx.get()) <= 0) throw std::runtime_error("X509_CRL_sign_ctx failed");
    } else {
        const bool digestless = EVP_PKEY_is_a(&key, "ED25519");
        if (X509_CRL_sign(crl.get(), &key, digestless ? nullptr : EVP_sha256()) <= 0) {
            throw std::runtime_error("X509_CRL_sign failed");
        }
    }
    return to_der(*crl);
}

EvpPkeyPtr p256() { return EvpPkeyPtr(EVP_EC_gen("P-256")); }

// --- what OpenSSL (and crl.cpp) make of a CRL ------------------------------

CrlPtr d2i_exact(std::string_view der) {
    const auto* p = reinterpret_cast<const unsigned char*>(der.data());
    CrlPtr crl(d2i_X509_CRL(nullptr, &p, static_cast<long>(der.size())));
    if (crl && p != reinterpret_cast<const unsigned char*>(der.data()) + der.size()) crl.reset();
    ERR_clear_error();
    return crl;
}

std::vector<std::string> openssl_serials(X509_CRL& crl) {
    std::vector<std::string> out;
    STACK_OF(X509_REVOKED)* entries = X509_CRL_get_REVOKED(&crl);
    for (int i = 0; i < sk_X509_REVOKED_num(entries); ++i) {
        out.push_back(Serial::from_asn1(*X509_REVOKED_get0_serialNumber(sk_X509_REVOKED_value(entries, i))).canonical());
    }
    return out;
}

// crl.cpp's check_entry_extensions over every entry: "" or its refusal.
std::string crl_cpp_entry_refusal(X509_CRL& crl) {
    STACK_OF(X509_REVOKED)* entries = X509_CRL_get_REVOKED(&crl);
    for (int i = 0; i < sk_X509_REVOKED_num(entries); ++i) {
        const X509_REVOKED* entry = sk_X509_REVOKED_value(entries, i);
        const std::string serial = Serial::from_asn1(*X509_REVOKED_get0_serialNumber(entry)).canonical();
        const STACK_OF(X509_EXTENSION)* exts = X509_REVOKED_get0_extensions(entry);
        for (int j = 0; j < sk_X509_EXTENSION_num(exts); ++j) {
            X509_EXTENSION* ext = sk_X509_EXTENSION_value(exts, j);
            const int nid = OBJ_obj2nid(X509_EXTENSION_get_object(ext));
            if (nid == NID_certificate_issuer) return "is an indirect CRL (entry " + serial + " names a certificateIssuer)";
            const bool known = nid == NID_crl_reason || nid == NID_invalidity_date || nid == NID_hold_instruction_code;
            if (X509_EXTENSION_get_critical(ext) && !known) {
                char buf[80];
                OBJ_obj2txt(buf, sizeof buf, X509_EXTENSION_get_object(ext), 0);
                return "entry " + serial + " has an unknown critical extension " + buf;
            }
        }
    }
    return "";
}

// --- what the walker makes of it ---------------------------------------------

std::vector<std::string> walked_serials(std::string_view entries) {
    std::vector<std::string> out;
    for_each_revoked(entries, [&](std::string_view magnitude, bool negative) {
        EXPECT_TRUE(magnitude.empty() || magnitude.front() != 0) << "leading zero octet";
        EXPECT_FALSE(negative && magnitude.empty()) << "negative zero";
        out.push_back(canonical_serial(magnitude, negative));
    });
    return out;
}

std::string tlv(unsigned char tag, std::string_view content) {
    std::string out(1, static_cast<char>(tag));
    const std::size_t n = content.size();
    if (n >= 0x100) out += {'\x82', static_cast<char>(n >> 8)};
    else if (n >= 0x80) out += '\x81';
    out += static_cast<char>(n & 0xff);
    return out.append(content);
}

// The elements inside one DER TLV (test input: trusted, definite lengths).
std::vector<std::string_view> elements(std::string_view whole) {
    auto header_size = [](std::string_view t) {
        const auto first = static_cast<unsigned char>(t[1]);
        return first & 0x80 ? 2 + (first & 0x7f) : 2;
    };
    auto length = [](std::string_view t) {
        const auto first = static_cast<unsigned char>(t[1]);
        if (!(first & 0x80)) return static_cast<std::size_t>(first);
        std::size_t n = 0;
        for (int i = 0; i < (first & 0x7f); ++i) n = (n << 8) | static_cast<unsigned char>(t[2 + i]);
        return n;
    };
    std::string_view content = whole.substr(header_size(whole), length(whole));
    std::vector<std::string_view> out;
    while (!content.empty()) {
        const std::size_t size = header_size(content) + length(content);
        out.push_back(content.substr(0, size));
        content.remove_prefix(size);
    }
    return out;
}

// `der` (a CRL with no revokedCertificates) with revokedCertificates holding
// `entries`, just before crlExtensions. Its signature no longer verifies; d2i
// does not care.
std::string with_entries(std::string_view der, std::string_view entries) {
    const std::vector<std::string_view> crl = elements(der);
    std::string tbs;
    for (const std::string_view field : elements(crl[0])) {
        if (static_cast<unsigned char>(field[0]) == 0xa0) tbs += tlv(0x30, entries);
        tbs += field;
    }
    if (static_cast<unsigned char>(elements(crl[0]).back()[0]) != 0xa0) tbs += tlv(0x30, entries);
    return tlv(0x30, tlv(0x30, tbs) + std::string(crl[1]) + std::string(crl[2]));
}

std::string bytes(std::initializer_list<int> octets) {
    std::string out;
    for (const int o : octets) out += static_cast<char>(o);
    return out;
}

// --- tests -------------------------------------------------------------------

class CrlDer : public ::testing::Test {
protected:
    EvpPkeyPtr key = p256();
};

TEST_F(CrlDer, SerialsEqualOpenSslsForZeroOneAndManyEntries) {
    std::mt19937_64 rng(7);
    std::vector<std::string> many{"0", "01", "7F", "80", "FF", "0100", "-01", "-80", "-81", "-FF", "-0100",
                                  "-010000", std::string(40, 'F'), "0A" + std::string(70, '1'), "-0A" + std::string(72, '2')};
    for (int i = 0; i < 500; ++i) {
        char buf[48];
        std::snprintf(buf, sizeof buf, "%s%016llX%08llX", i % 50 == 0 ? "-" : "", static_cast<unsigned long long>(rng()),
                      static_cast<unsigned long long>(rng() >> (i % 32 + 32)));
        many.push_back(buf);
    }
    const std::vector<std::vector<std::string>> cases{{}, {"1D1D1C749D9C2D16"}, many};
    for (const auto& serials : cases) {
        for (const bool with_extensions : {false, true}) {
            Options o;
            o.serials = serials;
            o.entry_reason = with_extensions;
            o.entry_unknown = with_extensions;
            const std::string der = build_crl(*key, o);
            const CrlPtr crl = d2i_exact(der);
            ASSERT_TRUE(crl);
            const CrlParts parts = split_crl(der);
            EXPECT_EQ(walked_serials(parts.entries), openssl_serials(*crl))
                << serials.size() << " entries, extensions " << with_extensions;
            EXPECT_EQ(openssl_serials(*crl).size(), serials.size());
        }
    }
}

TEST_F(CrlDer, MagnitudeIsWithoutLeadingZerosAndZeroIsEmpty) {
    // Hand-made entries: INTEGER content, then a UTCTime.
    const std::string date = std::string("\x17\x0d", 2) + "300101000000Z";
    auto entry = [&](std::string_view integer) {
        std::string e = std::string(1, '\x02') + static_cast<char>(integer.size()) + std::string(integer) + date;
        return std::string(1, '\x30') + static_cast<char>(e.size()) + e;
    };
    struct Case {
        std::string integer, magnitude;
        bool negative;
    };
    const std::vector<Case> cases{
        {bytes({0x00}), "", false},
        {bytes({0x00, 0x80}), bytes({0x80}), false},
        {bytes({0x7f}), bytes({0x7f}), false},
        {bytes({0x80}), bytes({0x80}), true},
        {bytes({0xff}), bytes({0x01}), true},
        {bytes({0xff, 0x7f}), bytes({0x81}), true},
        {bytes({0xff, 0x00, 0x00}), bytes({0x01, 0x00, 0x00}), true},
        {bytes({0x01, 0x00}), bytes({0x01, 0x00}), false},
    };
    for (const Case& c : cases) {
        std::vector<std::pair<std::string, bool>> seen;
        for_each_revoked(entry(c.integer), [&](std::string_view m, bool n) { seen.emplace_back(std::string(m), n); });
        ASSERT_EQ(seen.size(), 1u);
        EXPECT_EQ(seen[0].first, c.magnitude);
        EXPECT_EQ(seen[0].second, c.negative);
    }
}

TEST_F(CrlDer, CanonicalSerialIsSerialFromAsn1) {
    std::mt19937_64 rng(11);
    for (std::size_t octets = 1; octets <= 40; ++octets) {
        for (const int first : {0x01, 0x0f, 0x10, 0x7f, 0x80, 0xff}) {
            for (const bool negative : {false, true}) {
                std::string magnitude(octets, '\0');
                magnitude[0] = static_cast<char>(first);
                for (std::size_t i = 1; i < octets; ++i) magnitude[i] = static_cast<char>(rng() & 0xff);
                BignumPtr bn(BN_bin2bn(reinterpret_cast<const unsigned char*>(magnitude.data()),
                                       static_cast<int>(magnitude.size()), nullptr));
                BN_set_negative(bn.get(), negative ? 1 : 0);
                OpenSslPtr<ASN1_INTEGER, ASN1_INTEGER_free> integer(BN_to_ASN1_INTEGER(bn.get(), nullptr));
                EXPECT_EQ(canonical_serial(magnitude, negative), Serial::from_asn1(*integer).canonical())
                    << octets << " octets, first " << int(first) << (negative ? ", negative" : "");
            }
        }
    }
    EXPECT_EQ(canonical_serial("", false), "0");
    EXPECT_EQ(canonical_serial(std::string("\0\x0a\x1b", 3), false), "A1B");
}

TEST_F(CrlDer, HeaderReadsAsTheOriginal) {
    for (const bool v2 : {true, false}) {
        for (const bool next : {true, false}) {
            for (const std::size_t n : {0, 1, 3}) {
                Options o;
                o.v2 = v2;
                o.next_update = next;
                o.serials.assign(n, "0A1B");
                const std::string der = build_crl(*key, o);
                const CrlParts parts = split_crl(der);
                const CrlPtr original = d2i_exact(der);
                const CrlPtr header = d2i_exact(parts.header);
                ASSERT_TRUE(original && header) << "v2 " << v2 << ", next " << next << ", n " << n;
                if (n == 0) {
                    EXPECT_EQ(parts.header, der) << "nothing to leave out";
                }
                EXPECT_LT(parts.header.size() + parts.entries.size(), der.size() + (n == 0));
                EXPECT_EQ(X509_CRL_get_REVOKED(header.get()), nullptr) << "no revokedCertificates";
                EXPECT_EQ(X509_CRL_get_version(header.get()), X509_CRL_get_version(original.get()));
                EXPECT_EQ(X509_NAME_cmp(X509_CRL_get_issuer(header.get()), X509_CRL_get_issuer(original.get())), 0);
                EXPECT_EQ(ASN1_TIME_compare(X509_CRL_get0_lastUpdate(header.get()),
                                            X509_CRL_get0_lastUpdate(original.get())), 0);
                const ASN1_TIME* a = X509_CRL_get0_nextUpdate(header.get());
                const ASN1_TIME* b = X509_CRL_get0_nextUpdate(original.get());
                ASSERT_EQ(a == nullptr, !next);
                ASSERT_EQ(b == nullptr, !next);
                if (next) {
                    EXPECT_EQ(ASN1_TIME_compare(a, b), 0);
                }
                ASSERT_EQ(X509_CRL_get_ext_count(header.get()), X509_CRL_get_ext_count(original.get()));
                EXPECT_EQ(X509_CRL_get_ext_count(header.get()), v2 ? 1 : 0);
                for (int i = 0; i < X509_CRL_get_ext_count(header.get()); ++i) {
                    unsigned char* x = nullptr;
                    unsigned char* y = nullptr;
                    const int lx = i2d_X509_EXTENSION(X509_CRL_get_ext(header.get(), i), &x);
                    const int ly = i2d_X509_EXTENSION(X509_CRL_get_ext(original.get(), i), &y);
                    EXPECT_EQ(std::string_view(reinterpret_cast<char*>(x), lx), std::string_view(reinterpret_cast<char*>(y), ly));
                    OPENSSL_free(x);
                    OPENSSL_free(y);
                }
                EXPECT_EQ(elements(parts.tbs)[0][0], v2 ? '\x02' : '\x30') << "a v1 CRL has no version field";
            }
        }
    }
}

TEST_F(CrlDer, TestCaCrlsAreReadAsOpenSslReadsThem) {
    TestCa kitty("kitty-ca");
    CrlSpec spec{{"1D1D1C749D9C2D16", "0A1B", "-05"}};
    spec.der = true;
    const std::string der = kitty.crl(spec);
    const CrlPtr crl = d2i_exact(der);
    ASSERT_TRUE(crl);
    const CrlParts parts = split_crl(der);
    EXPECT_EQ(walked_serials(parts.entries), openssl_serials(*crl));
    EXPECT_TRUE(verify_crl_signature(parts, *X509_get0_pubkey(&kitty.cert())));
    EXPECT_EQ(ERR_peek_error(), 0u);
}

TEST_F(CrlDer, TruncatedAtEveryLengthIsRefused) {
    Options o;
    o.serials = {"01", "-02", "0A1B2C3D4E5F60718293A4B5C6D7E8F901"};
    const std::string der = build_crl(*key, o);
    for (std::size_t n = 0; n < der.size(); ++n) {
        EXPECT_THROW(split_crl(std::string_view(der).substr(0, n)), PolicyError) << "cut at " << n;
    }
    // The entries alone: a cut between two entries is a shorter list, anywhere else refused.
    const std::string entries(split_crl(der).entries);
    std::size_t whole = 0;
    for (std::size_t n = 0; n <= entries.size(); ++n) {
        try {
            walked_serials(std::string_view(entries).substr(0, n));
            ++whole;
        } catch (const PolicyError&) {
        }
    }
    EXPECT_EQ(whole, 4u) << "after 0, 1, 2 and 3 entries";
    EXPECT_EQ(ERR_peek_error(), 0u);
}

TEST_F(CrlDer, TrailingByteIsRefused) {
    const std::string der = build_crl(*key, {});
    EXPECT_EQ(error_of([&] { split_crl(der + '\0'); }), "is not one DER CRL: CertificateList is followed by other bytes");
}

TEST_F(CrlDer, BerAndOtherFilesAreRefused) {
    Options o;
    o.serials = {"01"};
    const std::string der = build_crl(*key, o);
    EXPECT_EQ(error_of([] { split_crl(""); }), "is not one DER CRL: CertificateList is missing");
    EXPECT_EQ(error_of([] { split_crl("-----BEGIN X509 CRL-----"); }), "is not one DER CRL: CertificateList is not a SEQUENCE");
    std::string indefinite = der;
    indefinite[1] = '\x80';
    EXPECT_EQ(error_of([&] { split_crl(indefinite); }), "is not one DER CRL: CertificateList has an indefinite length (BER, not DER)");
    // A certificate has the same outer shape as a CRL.
    TestCa kitty("kitty-ca");
    unsigned char* cert = nullptr;
    const int len = i2d_X509(&kitty.cert(), &cert);
    const std::string cert_der(reinterpret_cast<char*>(cert), static_cast<std::size_t>(len));
    OPENSSL_free(cert);
    EXPECT_EQ(error_of([&] { split_crl(cert_der); }), "is not one DER CRL: signature is not a SEQUENCE");
}

// Entries made by hand, each also put into a real CRL and read by d2i: the
// walker refuses what OpenSSL refuses, and accepts what OpenSSL accepts
// unless it is BER rather than DER.
TEST_F(CrlDer, MalformedEntriesAreRefusedAsOpenSslRefusesThem) {
    const std::string date = std::string("\x17\x0d", 2) + "300101000000Z";
    const std::string reason("\x30\x0a\x06\x03\x55\x1d\x15\x04\x03\x0a\x01\x01", 12);
    auto seq = [](const std::string& content) {
        return std::string(1, '\x30') + static_cast<char>(content.size()) + content;
    };
    struct Case {
        const char* name;
        std::string entries;
        const char* error;  // nullptr: accepted
        bool openssl_accepts;
    };
    const std::vector<Case> cases{
        {"plain", seq(std::string("\x02\x01\x05", 3) + date), nullptr, true},
        {"reason", seq(std::string("\x02\x01\x05", 3) + date + seq(reason)), nullptr, true},
        {"empty extensions", seq(std::string("\x02\x01\x05", 3) + date + seq("")), nullptr, true},
        {"explicit FALSE", seq(std::string("\x02\x01\x05", 3) + date + seq(seq(std::string("\x06\x03\x55\x1d\x15\x01\x01\x00\x04\x00", 10)))), nullptr, true},
        // OpenSSL flags a CRL whose reasonCode does not decode (EXFLAG_INVALID) but reads it, and crl.cpp never looked.
        {"garbage reasonCode", seq(std::string("\x02\x01\x05", 3) + date + seq(seq(std::string("\x06\x03\x55\x1d\x15\x04\x02\xff\xff", 9)))), nullptr, true},
        {"critical reasonCode twice", seq(std::string("\x02\x01\x05", 3) + date + seq(reason + std::string("\x30\x0d\x06\x03\x55\x1d\x15\x01\x01\xff\x04\x03\x0a\x01\x01", 15))), nullptr, true},
        {"empty INTEGER", seq(std::string("\x02\x00", 2) + date),
         "has a malformed revoked certificate (entry #1): userCertificate is an INTEGER of length 0", false},
        {"padded INTEGER", seq(std::string("\x02\x02\x00\x05", 4) + date),
         "has a malformed revoked certificate (entry #1): userCertificate is an INTEGER with a redundant leading octet", false},
        {"padded negative", seq(std::string("\x02\x02\xff\x85", 4) + date),
         "has a malformed revoked certificate (entry #1): userCertificate is an INTEGER with a redundant leading octet", false},
        {"ENUMERATED serial", seq(std::string("\x0a\x01\x05", 3) + date),
         "has a malformed revoked certificate (entry #1): userCertificate is not an INTEGER", false},
        {"no date", seq(std::string("\x02\x01\x05", 3)),
         "has a malformed revoked certificate (entry #1): revocationDate is missing", false},
        {"date as OCTET STRING", seq(std::string("\x02\x01\x05\x04\x01\x00", 6)),
         "has a malformed revoked certificate (entry #1): revocationDate is not a UTCTime or GeneralizedTime", false},
        {"second entry bad", seq(std::string("\x02\x01\x05", 3) + date) + seq(std::string("\x02\x01\x06", 3)),
         "has a malformed revoked certificate (entry #2): revocationDate is missing", false},
        {"field after extensions", seq(std::string("\x02\x01\x05", 3) + date + seq(reason) + std::string("\x05\x00", 2)),
         "has a malformed revoked certificate (entry #1): it holds more than its fields", false},
        {"entry not a SEQUENCE", std::string("\x31\x00", 2),
         "has a malformed revoked certificate (entry #1): it is not a SEQUENCE", false},
        {"BOOLEAN of 2 octets", seq(std::string("\x02\x01\x05", 3) + date + seq(seq(std::string("\x06\x03\x55\x1d\x15\x01\x02\xff\xff\x04\x00", 11)))),
         "has a malformed revoked certificate (entry #1): a critical flag is a BOOLEAN not 1 octet long", false},
        {"no extnValue", seq(std::string("\x02\x01\x05", 3) + date + seq(seq(std::string("\x06\x03\x55\x1d\x15", 5)))),
         "has a malformed revoked certificate (entry #1): an extnValue is missing", false},
        {"empty OID", seq(std::string("\x02\x01\x05", 3) + date + seq(seq(std::string("\x06\x00\x04\x00", 4)))),
         "has a malformed revoked certificate (entry #1): an extnID is not a valid OBJECT IDENTIFIER", false},
        {"padded OID", seq(std::string("\x02\x01\x05", 3) + date + seq(seq(std::string("\x06\x03\x55\x80\x1d\x04\x00", 7)))),
         "has a malformed revoked certificate (entry #1): an extnID is not a valid OBJECT IDENTIFIER", false},
        {"truncated", seq(std::string("\x02\x01\x05", 3) + date).substr(0, 8),
         "has a malformed revoked certificate (entry #1): it runs past the end of what holds it (truncated?)", false},
        // BER that OpenSSL reads and DER forbids.
        {"indefinite entry", std::string("\x30\x80\x02\x01\x05", 5) + date + std::string("\x00\x00", 2),
         "has a malformed revoked certificate (entry #1): it has an indefinite length (BER, not DER)", true},
        {"long-form length", std::string("\x30\x81\x12\x02\x01\x05", 6) + date,
         "has a malformed revoked certificate (entry #1): it has a long-form length under 128 (not DER)", true},
        {"constructed date", seq(std::string("\x02\x01\x05\x37\x0f\x04\x0d", 7) + "300101000000Z"),
         "has a malformed revoked certificate (entry #1): revocationDate is a constructed time (BER, not DER)", true},
        {"constructed extnValue", seq(std::string("\x02\x01\x05", 3) + date + seq(seq(std::string("\x06\x03\x55\x1d\x15\x24\x05\x04\x03\x0a\x01\x01", 12)))),
         "has a malformed revoked certificate (entry #1): an extnValue is not an OCTET STRING (constructed: BER, not DER)", true},
        {"high tag form", seq(std::string("\x1f\x02\x01\x05", 4) + date),
         "has a malformed revoked certificate (entry #1): userCertificate has a multi-byte tag (not DER)", true},
    };
    const std::string base = build_crl(*key, {});
    for (const Case& c : cases) {
        EXPECT_EQ(error_of([&] { walked_serials(c.entries); }), c.error ? c.error : "(no error)") << c.name;
        const CrlPtr crl = d2i_exact(with_entries(base, c.entries));
        EXPECT_EQ(crl != nullptr, c.openssl_accepts) << c.name;
        if (crl && !c.error) {
            EXPECT_EQ(walked_serials(c.entries), openssl_serials(*crl)) << c.name;
        }
    }
}

TEST_F(CrlDer, CertificateIssuerAndUnknownCriticalEntryExtensionsAreRefused) {
    TestCa kitty("kitty-ca");
    CrlSpec issuer{{"01", "02"}}, critical{{"01", "02"}};
    issuer.der = critical.der = true;
    issuer.entry_certificate_issuer = true;
    critical.entry_unknown_critical = true;
    for (const CrlSpec& spec : {issuer, critical}) {
        const std::string der = kitty.crl(spec);
        const CrlPtr crl = d2i_exact(der);
        ASSERT_TRUE(crl);
        std::size_t passed = 0;
        const std::string error = error_of([&] {
            for_each_revoked(split_crl(der).entries, [&](std::string_view, bool) { ++passed; });
        });
        EXPECT_EQ(error, crl_cpp_entry_refusal(*crl));
        EXPECT_EQ(passed, 0u) << "nothing from the refused entry on";
    }
    EXPECT_EQ(crl_cpp_entry_refusal(*d2i_exact(kitty.crl(issuer))), "is an indirect CRL (entry 1 names a certificateIssuer)");
    EXPECT_EQ(crl_cpp_entry_refusal(*d2i_exact(kitty.crl(critical))),
              "entry 1 has an unknown critical extension 1.3.6.1.4.1.99999.1");
}

TEST_F(CrlDer, MalformedEntryAnywhereComesBeforeARefusedExtension) {
    // d2i refuses the whole CRL before crl.cpp looks at any extension.
    const std::string date = std::string("\x17\x0d", 2) + "300101000000Z";
    const std::string issuer_ext("\x30\x0b\x30\x09\x06\x03\x55\x1d\x1d\x04\x02\x30\x00", 13);
    std::string first = std::string("\x02\x01\x05", 3) + date + issuer_ext;
    first = std::string(1, '\x30') + static_cast<char>(first.size()) + first;
    EXPECT_EQ(error_of([&] { walked_serials(first); }), "is an indirect CRL (entry 5 names a certificateIssuer)");
    EXPECT_EQ(error_of([&] { walked_serials(first + std::string("\x30\x03\x02\x01\x06", 5)); }),
              "has a malformed revoked certificate (entry #2): revocationDate is missing");
}

TEST_F(CrlDer, KnownCriticalAndUnknownNonCriticalEntryExtensionsAreAccepted) {
    Options o;
    o.serials = {"01", "02"};
    o.reason_critical = true;
    o.entry_unknown = true;
    const std::string der = build_crl(*key, o);
    const CrlPtr crl = d2i_exact(der);
    ASSERT_TRUE(crl);
    EXPECT_EQ(crl_cpp_entry_refusal(*crl), "");
    EXPECT_EQ(walked_serials(split_crl(der).entries), (std::vector<std::string>{"1", "2"}));
}

// --- the signature -----------------------------------------------------------

struct KeyKind {
    const char* name;
    EvpPkeyPtr (*make)();
    bool pss;
};

void PrintTo(const KeyKind& k, std::ostream* os) { *os << k.name; }

EvpPkeyPtr rsa() { return EvpPkeyPtr(EVP_RSA_gen(2048)); }
EvpPkeyPtr ed25519() { return EvpPkeyPtr(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519")); }

class CrlDerKeys : public ::testing::TestWithParam<KeyKind> {};

TEST_P(CrlDerKeys, VerifiesAsX509CrlVerifyDoes) {
    const EvpPkeyPtr key = GetParam().make();
    const EvpPkeyPtr other = GetParam().make();
    ASSERT_TRUE(key && other);
    Options o;
    o.serials = {"1D1D1C749D9C2D16", "0A1B", "-07"};
    o.pss = GetParam().pss;
    const std::string der = build_crl(*key, o);
    const CrlPtr crl = d2i_exact(der);
    ASSERT_TRUE(crl);
    const CrlParts parts = split_crl(der);
    if (GetParam().pss) {
        const X509_ALGOR* algorithm = nullptr;
        X509_CRL_get0_signature(crl.get(), nullptr, &algorithm);
        EXPECT_EQ(OBJ_obj2nid(algorithm->algorithm), NID_rsassaPss);
    }

    EXPECT_EQ(X509_CRL_verify(crl.get(), key.get()), 1);
    EXPECT_TRUE(verify_crl_signature(parts, *key));
    EXPECT_NE(X509_CRL_verify(crl.get(), other.get()), 1);
    EXPECT_FALSE(verify_crl_signature(parts, *other));
    EXPECT_FALSE(verify_crl_signature(parts, *p256()));  // another key type altogether
    ERR_clear_error();

    // One bit of the last entry's serial (-07: 0xF9) flipped inside the DER.
    std::string flipped = der;
    const std::size_t at = flipped.find(std::string("\x02\x01\xf9", 3));
    ASSERT_NE(at, std::string::npos);
    flipped[at + 2] = static_cast<char>(flipped[at + 2] ^ 0x01);
    const CrlPtr flipped_crl = d2i_exact(flipped);
    ASSERT_TRUE(flipped_crl);
    EXPECT_NE(X509_CRL_verify(flipped_crl.get(), key.get()), 1);
    const CrlParts flipped_parts = split_crl(flipped);
    EXPECT_EQ(walked_serials(flipped_parts.entries).back(), "-8");
    EXPECT_FALSE(verify_crl_signature(flipped_parts, *key));
    EXPECT_EQ(ERR_peek_error(), 0u) << "the error queue is left empty";
    ERR_clear_error();
}

INSTANTIATE_TEST_SUITE_P(CrlDer, CrlDerKeys,
                         ::testing::Values(KeyKind{"EcdsaP256", &p256, false}, KeyKind{"Rsa", &rsa, false},
                                           KeyKind{"RsaPss", &rsa, true}, KeyKind{"Ed25519", &ed25519, false}),
                         [](const auto& param_info) { return std::string(param_info.param.name); });

// X509_CRL_verify refuses a CRL whose TBSCertList names another algorithm
// than signatureAlgorithm, even when the signature itself is good.
TEST_F(CrlDer, InnerAlgorithmMustEqualTheOuterOne) {
    const std::string der = build_crl(*key, {});
    const CrlParts parts = split_crl(der);
    // ecdsa-with-SHA256 (1.2.840.10045.4.3.2) -> ecdsa-with-SHA384 (...4.3.3) in the TBSCertList only.
    std::string tbs(parts.tbs);
    const std::size_t at = tbs.find(parts.tbs_algorithm);
    ASSERT_NE(at, std::string::npos);
    ASSERT_EQ(parts.tbs_algorithm.back(), '\x02');
    tbs[at + parts.tbs_algorithm.size() - 1] = '\x03';
    // A good SHA-256 signature over the changed TBSCertList.
    OpenSslPtr<EVP_MD_CTX, EVP_MD_CTX_free> ctx(EVP_MD_CTX_new());
    ASSERT_EQ(EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key.get()), 1);
    unsigned char sig[128];
    std::size_t sig_len = sizeof sig;
    ASSERT_EQ(EVP_DigestSign(ctx.get(), sig, &sig_len, reinterpret_cast<const unsigned char*>(tbs.data()), tbs.size()), 1);
    std::string bits = std::string(1, '\x03') + static_cast<char>(sig_len + 1) + '\0' + std::string(reinterpret_cast<char*>(sig), sig_len);
    std::string body = tbs + std::string(parts.algorithm) + bits;
    std::string forged = std::string(1, '\x30') + (body.size() < 0x80 ? std::string(1, static_cast<char>(body.size()))
                                                                        : std::string("\x81") + static_cast<char>(body.size())) + body;
    const CrlPtr crl = d2i_exact(forged);
    ASSERT_TRUE(crl);
    EXPECT_EQ(X509_CRL_verify(crl.get(), key.get()), 0);
    const CrlParts forged_parts = split_crl(forged);
    EXPECT_NE(forged_parts.tbs_algorithm, forged_parts.algorithm);
    EXPECT_FALSE(verify_crl_signature(forged_parts, *key));
    // ... though the signature itself is good: without the check it would verify.
    CrlParts same = forged_parts;
    same.tbs_algorithm = same.algorithm;
    EXPECT_TRUE(verify_crl_signature(same, *key));
    ERR_clear_error();
}

}  // namespace
}  // namespace cscguard
