#include "policy/cache_entry.h"

#include <openssl/x509v3.h>

#include <gtest/gtest.h>

#include "policy/error.h"
#include "tests/support/error_of.h"
#include "tests/support/test_pki.h"

namespace cscguard {
namespace {

using testing::error_of;
using testing::TestCa;

TEST(CacheEntry, KeysAreTheNamespaceAndTheHexOfTheId) {
    const Bytes key_id{0xAB, 0xCD};
    EXPECT_EQ(redis_key(cache_entry_id(key_id, Serial::parse("0a:1b"))), "cscguard:02abcd000a1b");
    // Spellings of one serial name one entry; a negative serial has its own.
    EXPECT_EQ(cache_entry_id(key_id, Serial::parse("0x000A1B")), cache_entry_id(key_id, Serial::parse("A1B")));
    EXPECT_EQ(redis_key(cache_entry_id(key_id, Serial::parse("-A1B"))), "cscguard:02abcd010a1b");
    EXPECT_EQ(redis_key(cache_marker_id(key_id)), "cscguard:00abcd");  // never an entry: those start with a length
}

TEST(CacheEntry, AKeyIdTooLongForARedisKeyIsRefused) {
    EXPECT_NO_THROW(cache_entry_id(Bytes(64, 1), Serial::parse(std::string(40, 'F'))));
    EXPECT_THROW(cache_entry_id(Bytes(100, 1), Serial::parse(std::string(40, 'F'))), PolicyError);
    EXPECT_THROW(cache_entry_id(Bytes(), Serial::parse("01")), PolicyError);
}

TEST(CacheEntry, EntriesAndMarkersReadBackWhatWasWritten) {
    const CachedRevocation entry{"keyCompromise", 1795824000};
    EXPECT_EQ(format_cache_entry(entry), "revoked keyCompromise 2026-11-28T00:00:00Z");
    const CachedRevocation read = parse_cache_entry(format_cache_entry(entry));
    EXPECT_EQ(read.reason, "keyCompromise");
    EXPECT_EQ(read.revoked_at, entry.revoked_at);
    EXPECT_EQ(parse_cache_marker(format_cache_marker(1795824000)), 1795824000);
}

TEST(CacheEntry, HostileValuesAreRefusedWithoutBeingEchoed) {
    const std::string huge = "revoked keyCompromise 2026-11-28T00:00:00Z" + std::string(1 << 20, ' ');
    for (const std::string& value : {std::string("\x01\xff garbage\n", 11), std::string(), huge,
                                     std::string("revoked  keyCompromise 2026-11-28T00:00:00Z"),
                                     std::string("revoked keyCompromise 2026-11-28T00:00:00Z extra"),
                                     std::string("granted keyCompromise 2026-11-28T00:00:00Z"),
                                     std::string("revoked <script> 2026-11-28T00:00:00Z"),
                                     std::string("revoked keyCompromise 2026-02-30T00:00:00Z"),
                                     std::string("revoked keyCompromise 2026-11-28 00:00:00"),
                                     std::string("revoked keyCompromise\n2026-11-28T00:00:00Z")}) {
        const std::string why = error_of([&] { parse_cache_entry(value); });
        EXPECT_FALSE(why.empty()) << value.substr(0, 60);
        EXPECT_EQ(why.find("garbage"), std::string::npos);
        EXPECT_EQ(why.find("<script>"), std::string::npos);
    }
    EXPECT_NE(error_of([&] { parse_cache_entry(huge); }).find("more than 128"), std::string::npos);
    EXPECT_THROW(parse_cache_marker("cscguard-revocation-cache 2 2026-11-28T00:00:00Z"), PolicyError);
    EXPECT_THROW(parse_cache_marker("revoked keyCompromise 2026-11-28T00:00:00Z"), PolicyError);
    EXPECT_THROW(parse_cache_entry("cscguard-revocation-cache 1 2026-11-28T00:00:00Z"), PolicyError);
}

TEST(CacheEntry, AnIssuerIsItsKeyWithOrWithoutASubjectKeyIdentifier) {
    TestCa ca("kitty-ca");
    const ASN1_OCTET_STRING* ski = X509_get0_subject_key_id(&ca.cert());
    ASSERT_NE(ski, nullptr);
    const Bytes with_ski = issuer_key_id(ca.cert());
    EXPECT_EQ(with_ski, Bytes(ASN1_STRING_get0_data(ski), ASN1_STRING_get0_data(ski) + ASN1_STRING_length(ski)));

    // The same CA certificate without the extension: the SHA-1 of the key,
    // which is also how OpenSSL made the extension ("hash").
    X509Ptr bare(X509_dup(&ca.cert()));
    X509_EXTENSION* ext = X509_delete_ext(bare.get(), X509_get_ext_by_NID(bare.get(), NID_subject_key_identifier, -1));
    X509_EXTENSION_free(ext);
    ASSERT_EQ(X509_get_ext_by_NID(bare.get(), NID_subject_key_identifier, -1), -1);
    EXPECT_EQ(issuer_key_id(*bare), with_ski);

    EXPECT_NE(issuer_key_id(TestCa("kitty-ca").cert()), with_ski);  // same name, other key
}

}  // namespace
}  // namespace cscguard
