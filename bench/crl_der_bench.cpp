// What reading a big CRL costs with policy/crl_der.h, next to what
// d2i_X509_CRL costs for the same bytes. The CRL: 1,000,000 entries, serials
// of 16 to 20 octets, a reasonCode on each, signed with P-256.
//
//   build/rel/bench/crl_der_bench --benchmark_filter=CrlDer
#include <benchmark/benchmark.h>

#include <random>
#include <unordered_set>

#include <openssl/err.h>
#include <openssl/x509.h>

#include "policy/crl_der.h"
#include "policy/openssl_ptr.h"

namespace {

using namespace cscguard;

constexpr std::size_t kEntries = 1'000'000;

std::string tlv(unsigned char tag, std::string_view content) {
    std::string out(1, static_cast<char>(tag));
    std::size_t n = content.size();
    if (n < 0x80) {
        out += static_cast<char>(n);
    } else {
        std::string len;
        for (; n; n >>= 8) len.insert(len.begin(), static_cast<char>(n & 0xff));
        out += static_cast<char>(0x80 | len.size());
        out += len;
    }
    return out.append(content);
}

// The DER of a CRL like a big CA's, built by hand (OpenSSL would need the
// million X509_REVOKED objects this file is about avoiding) and signed.
struct BigCrl {
    EvpPkeyPtr key{EVP_EC_gen("P-256")};
    std::string der;

    BigCrl() {
        std::mt19937_64 rng(42);
        const std::string date = tlv(0x17, "260101000000Z");
        const std::string reason = tlv(0x30, tlv(0x30, tlv(0x06, "\x55\x1d\x15") + tlv(0x04, tlv(0x0a, "\x01"))));
        std::string entries;
        entries.reserve(kEntries * 56);
        for (std::size_t i = 0; i < kEntries; ++i) {
            std::string serial(16 + i % 5, '\0');
            for (char& c : serial) c = static_cast<char>(rng() & 0xff);
            serial[0] = static_cast<char>((serial[0] & 0x7f) | 0x01);  // positive, minimal
            entries += tlv(0x30, tlv(0x02, serial) + date + reason);
        }
        const std::string sha256_ecdsa = tlv(0x30, tlv(0x06, "\x2a\x86\x48\xce\x3d\x04\x03\x02"));
        const std::string issuer = tlv(0x30, tlv(0x31, tlv(0x30, tlv(0x06, "\x55\x04\x03") + tlv(0x0c, "big-ca"))));
        const std::string number = tlv(0xa0, tlv(0x30, tlv(0x30, tlv(0x06, "\x55\x1d\x14") + tlv(0x04, tlv(0x02, "\x2a")))));
        const std::string tbs = tlv(0x30, tlv(0x02, "\x01") + sha256_ecdsa + issuer + date + tlv(0x17, "260201000000Z") +
                                              tlv(0x30, entries) + number);
        OpenSslPtr<EVP_MD_CTX, EVP_MD_CTX_free> ctx(EVP_MD_CTX_new());
        unsigned char sig[128];
        std::size_t sig_len = sizeof sig;
        if (EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key.get()) != 1 ||
            EVP_DigestSign(ctx.get(), sig, &sig_len, reinterpret_cast<const unsigned char*>(tbs.data()), tbs.size()) != 1) {
            throw std::runtime_error("cannot sign");
        }
        der = tlv(0x30, tbs + sha256_ecdsa + tlv(0x03, std::string(1, '\0') + std::string(reinterpret_cast<char*>(sig), sig_len)));
    }
};

const BigCrl& big() {
    static const BigCrl crl;
    return crl;
}

void BM_CrlDerSplit(benchmark::State& state) {
    big();  // made once, outside the timing
    for (auto _ : state) {
        CrlParts parts = split_crl(big().der);
        benchmark::DoNotOptimize(parts);
    }
    state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(big().der.size()));
}
BENCHMARK(BM_CrlDerSplit)->Unit(benchmark::kMillisecond);

// The walk alone: every entry checked, its serial handed over.
void BM_CrlDerWalk(benchmark::State& state) {
    const CrlParts parts = split_crl(big().der);
    for (auto _ : state) {
        std::size_t n = 0, octets = 0;
        for_each_revoked(parts.entries, [&](std::string_view magnitude, bool negative) {
            ++n;
            octets += magnitude.size() + negative;
        });
        if (n != kEntries) state.SkipWithError("wrong count");
        benchmark::DoNotOptimize(octets);
    }
    state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(kEntries));
}
BENCHMARK(BM_CrlDerWalk)->Unit(benchmark::kMillisecond);

// The walk with what parse_crls does with a serial today: canonical hex
// into an unordered_set (the consumer's cost, not the walker's).
void BM_CrlDerWalkIntoHexSet(benchmark::State& state) {
    const CrlParts parts = split_crl(big().der);
    for (auto _ : state) {
        std::unordered_set<std::string> revoked;
        revoked.reserve(kEntries);
        for_each_revoked(parts.entries, [&](std::string_view magnitude, bool negative) {
            revoked.insert(canonical_serial(magnitude, negative));
        });
        benchmark::DoNotOptimize(revoked);
    }
    state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(kEntries));
}
BENCHMARK(BM_CrlDerWalkIntoHexSet)->Unit(benchmark::kMillisecond);

void BM_CrlDerVerify(benchmark::State& state) {
    const CrlParts parts = split_crl(big().der);
    for (auto _ : state) {
        if (!verify_crl_signature(parts, *big().key)) state.SkipWithError("does not verify");
    }
    state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(parts.tbs.size()));
}
BENCHMARK(BM_CrlDerVerify)->Unit(benchmark::kMillisecond);

// The header: what d2i_X509_CRL still reads.
void BM_CrlDerHeaderD2i(benchmark::State& state) {
    const CrlParts parts = split_crl(big().der);
    for (auto _ : state) {
        const auto* p = reinterpret_cast<const unsigned char*>(parts.header.data());
        OpenSslPtr<X509_CRL, X509_CRL_free> crl(d2i_X509_CRL(nullptr, &p, static_cast<long>(parts.header.size())));
        if (!crl) state.SkipWithError("header does not decode");
    }
}
BENCHMARK(BM_CrlDerHeaderD2i)->Unit(benchmark::kMicrosecond);

// Before: OpenSSL decoding every entry, and X509_CRL_verify.
void BM_CrlD2iAndVerify(benchmark::State& state) {
    for (auto _ : state) {
        const auto* p = reinterpret_cast<const unsigned char*>(big().der.data());
        OpenSslPtr<X509_CRL, X509_CRL_free> crl(d2i_X509_CRL(nullptr, &p, static_cast<long>(big().der.size())));
        if (!crl || X509_CRL_verify(crl.get(), big().key.get()) != 1) state.SkipWithError("OpenSSL refuses it");
    }
}
BENCHMARK(BM_CrlD2iAndVerify)->Unit(benchmark::kMillisecond)->Iterations(2);

}  // namespace

BENCHMARK_MAIN();
