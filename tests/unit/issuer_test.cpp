#include "policy/issuer.h"

#include <cstdio>
#include <fstream>

#include <openssl/err.h>
#include <openssl/pem.h>

#include <gtest/gtest.h>

#include "policy/error.h"
#include "tests/support/error_of.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_pki.h"

namespace cscguard {
namespace {

using testing::CertSpec;
using testing::error_of;
using testing::TestCa;

X509Ptr parse(const std::string& pem) {
    BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
    return X509Ptr(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
}

TEST(Issuer, IssuedByItsOwnKeyOnly) {
    TestCa kitty("kitty-ca");
    TestCa impostor("kitty-ca");  // same DN, different key
    const auto issuer = Issuer::from_pem("kitty", kitty.pem());
    const auto fake = Issuer::from_pem("fake", impostor.pem());

    X509Ptr real = parse(kitty.issue({{{"CN", "eager"}}, "1D1D"}));
    X509Ptr forged = parse(impostor.issue({{{"CN", "eager"}}, "1D1D"}));
    EXPECT_TRUE(issuer->issued(*real));
    EXPECT_FALSE(issuer->issued(*forged));
    EXPECT_TRUE(fake->issued(*forged));
    EXPECT_FALSE(fake->issued(*real));
    EXPECT_EQ(ERR_peek_error(), 0u) << "the OpenSSL error queue is left clean";
}

TEST(Issuer, SelfSignedCopyOfTheSubjectIsNotIssued) {
    TestCa kitty("kitty-ca");
    const auto issuer = Issuer::from_pem("kitty", kitty.pem());
    CertSpec spec{{{"CN", "kitty-ca"}, {"O", "Test CAs"}}, "1D1D"};
    X509Ptr forged = parse(testing::self_signed(spec));
    EXPECT_FALSE(issuer->issued(*forged));
}

TEST(Issuer, LoadsPemAndDerFiles) {
    TestCa kitty("kitty-ca");
    const testing::TempDir temp;
    const std::string& dir = temp.path();
    const std::string pem_path = dir + "/ca.pem", der_path = dir + "/ca.der";
    std::ofstream(pem_path) << kitty.pem();
    unsigned char* der = nullptr;
    const int len = i2d_X509(&kitty.cert(), &der);
    std::ofstream(der_path, std::ios::binary).write(reinterpret_cast<char*>(der), len);
    OPENSSL_free(der);

    const auto a = Issuer::load("pem", pem_path);
    const auto b = Issuer::load("der", der_path);
    EXPECT_EQ(a->subject(), "O=Test CAs,CN=kitty-ca");
    EXPECT_EQ(b->subject(), a->subject());
    EXPECT_EQ(a->path(), pem_path);
}

TEST(Issuer, RefusesWhatIsNotOneCaCertificate) {
    TestCa kitty("kitty-ca");
    TestCa acme("acme-ca");
    const testing::TempDir temp;
    const std::string& dir = temp.path();
    EXPECT_NE(error_of([&] { Issuer::load("k", dir + "/missing.pem"); }).find("missing.pem: cannot read CA certificate"),
              std::string::npos);
    EXPECT_NE(error_of([&] { Issuer::from_pem("k", "garbage", "ca.pem"); }).find("ca.pem: no certificate found"),
              std::string::npos);
    EXPECT_NE(error_of([&] { Issuer::from_pem("k", kitty.pem() + acme.pem(), "both.pem"); })
                  .find("both.pem: holds 2 certificates"),
              std::string::npos);
    const std::string leaf = kitty.issue({{{"CN", "eager"}}, "01"});
    EXPECT_NE(error_of([&] { Issuer::from_pem("k", leaf, "leaf.pem"); }).find("is not a CA certificate"),
              std::string::npos);
    EXPECT_EQ(ERR_peek_error(), 0u);
}

TEST(Issuer, NamesCannotBeMistakenForSerials) {
    for (const char* good : {"kitty", "acme-ca", "Kitty.2026", "a_b", "cafe", "abc", "g"}) {
        EXPECT_TRUE(is_valid_name(good)) << good;
    }
    for (const char* bad : {"", "ab", "a", "F0", "1kitty", "-x", "kit:ty", "kit ty", "kïtty"}) {
        EXPECT_FALSE(is_valid_name(bad)) << bad;
    }
    TestCa kitty("kitty-ca");
    EXPECT_NE(error_of([&] { Issuer::from_pem("ab", kitty.pem()); }).find("'ab' is not a valid issuer name"),
              std::string::npos);
}

}  // namespace
}  // namespace cscguard
