// Fuzz target: CRL files (policy/crl.h parse_crls): PEM with one or more
// CRLs, or one DER CRL, checked against two declared issuers, kitty and acme
// (fixed test CAs embedded from tests/fuzz/fuzz_pki.h; the corpus CRLs are
// signed by them, see make_corpus.sh).
//
// Each input is parsed twice:
//  1. as it is: the file layer (PEM blocks, DER, truncation, trailing bytes)
//     and the issuer/signature check;
//  2. re-signed: every CRL the input holds is decoded with OpenSSL, given a
//     fresh signature by the embedded key of the CA it names (kitty when it
//     names neither; its issuer is then set to kitty's), and written out
//     again as PEM (or DER). A mutated CRL never verifies, so without this
//     the fuzzer would not get past the signature check into the extension,
//     entry and date handling.
//
// Invariants: the only error is PolicyError, and it names the file; a
// success holds every CRL of the file (PEM: as many as BEGIN lines), each of
// a declared issuer, with canonical revoked serials; a file's CRLs may
// always replace themselves (check_crl_succession).
#include <set>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "policy/crl.h"
#include "policy/error.h"
#include "tests/fuzz/fuzz_check.h"
#include "tests/fuzz/fuzz_pki.h"
#include "policy/issuer.h"
#include "policy/openssl_ptr.h"

using namespace cscguard;
using cscguard::fuzz::shown;

namespace {

using CrlPtr = OpenSslPtr<X509_CRL, X509_CRL_free>;

const std::string kOrigin = "/etc/ssl/cscguard/fuzz.crl";
constexpr std::size_t kMaxResigned = 4;  // CRLs re-signed per input, to bound the cost

struct Ca {
    std::shared_ptr<const Issuer> issuer;
    EvpPkeyPtr key;
};

EvpPkeyPtr load_key(const char* pem) {
    BioPtr bio(BIO_new_mem_buf(pem, -1));
    EvpPkeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
    if (!key) fuzz::fail(__FILE__, __LINE__, "cannot load an embedded CA key", drain_openssl_errors());
    return key;
}

struct World {
    Ca kitty{Issuer::from_pem("kitty", fuzz::kKittyCaCert), load_key(fuzz::kKittyCaKey)};
    Ca acme{Issuer::from_pem("acme", fuzz::kAcmeCaCert), load_key(fuzz::kAcmeCaKey)};
    std::vector<std::shared_ptr<const Issuer>> issuers{kitty.issuer, acme.issuer};
};

const World& world() {
    static const World w;
    return w;
}

std::size_t count_of(std::string_view text, std::string_view what) {
    std::size_t n = 0;
    for (std::size_t pos = text.find(what); pos != std::string_view::npos; pos = text.find(what, pos + 1)) ++n;
    return n;
}

// The revoked serials of every CRL in `data` as OpenSSL's own readers see them
// (PEM_read_bio, d2i_X509_CRL): what the compiled tables must hold.
std::vector<std::vector<Serial>> openssl_revoked(std::string_view data) {
    std::vector<std::vector<Serial>> out;
    const auto add = [&out](X509_CRL* crl) {
        std::vector<Serial> serials;
        STACK_OF(X509_REVOKED)* entries = X509_CRL_get_REVOKED(crl);
        for (int i = 0; i < sk_X509_REVOKED_num(entries); ++i) {
            serials.push_back(Serial::from_asn1(*X509_REVOKED_get0_serialNumber(sk_X509_REVOKED_value(entries, i))));
        }
        out.push_back(std::move(serials));
        X509_CRL_free(crl);
    };
    if (data.find("-----BEGIN") == std::string_view::npos) {
        const auto* p = reinterpret_cast<const unsigned char*>(data.data());
        if (X509_CRL* crl = d2i_X509_CRL(nullptr, &p, static_cast<long>(data.size()))) add(crl);
    } else {
        BIO* bio = BIO_new_mem_buf(data.data(), static_cast<int>(data.size()));
        while (X509_CRL* crl = PEM_read_bio_X509_CRL(bio, nullptr, nullptr, nullptr)) add(crl);
        BIO_free(bio);
    }
    ERR_clear_error();
    return out;
}

void check(std::string_view data, const char* how) {
    const World& w = world();
    std::vector<RevocationList> lists;
    try {
        lists = parse_crls(data, kOrigin, w.issuers);
    } catch (const PolicyError& err) {
        FUZZ_CHECK_MSG(std::string_view(err.what()).substr(0, kOrigin.size()) == kOrigin,
                       std::string(how) + ": error does not name the file: " + shown(err.what()));
        return;
    }
    FUZZ_CHECK_MSG(!lists.empty(), std::string(how) + ": accepted a file without CRLs");
    if (data.find("-----BEGIN") != std::string_view::npos) {
        const std::size_t begins = count_of(data, "-----BEGIN");
        FUZZ_CHECK_MSG(lists.size() == begins, std::string(how) + ": " + std::to_string(begins) +
                                                   " PEM blocks, but only " + std::to_string(lists.size()) +
                                                   " CRLs read and no error: " + shown(data, 2000));
    } else {
        FUZZ_CHECK(lists.size() == 1);
    }
    const std::vector<std::vector<Serial>> by_openssl = openssl_revoked(data);
    FUZZ_CHECK_MSG(by_openssl.size() == lists.size(), std::string(how) + ": OpenSSL reads another number of CRLs");
    CrlSet set;
    for (std::size_t i = 0; i < lists.size(); ++i) {
        RevocationList& list = lists[i];
        FUZZ_CHECK_MSG(list.issuer == "kitty" || list.issuer == "acme", "CRL of undeclared issuer " + list.issuer);
        FUZZ_CHECK(list.source == kOrigin);
        // The compiled table holds exactly the serials OpenSSL reads.
        std::set<std::string> distinct;
        for (const Serial& serial : by_openssl[i]) {
            FUZZ_CHECK_MSG(list.revokes(serial), "revoked serial " + serial.canonical() + " is not in the table");
            distinct.insert(serial.canonical());
        }
        FUZZ_CHECK_MSG(list.revoked.size() == distinct.size(), "the table holds other serials than the CRL");
        set.push_back(std::make_shared<const RevocationList>(std::move(list)));
    }
    try {
        check_crl_succession(set, set);
    } catch (const PolicyError& err) {
        fuzz::fail(__FILE__, __LINE__, "a file's CRLs may not replace themselves", err.what());
    }
}

// The CRLs of `data`, decoded, re-signed by the embedded CA keys and encoded
// again; nullopt when the input holds no decodable CRL.
std::optional<std::string> resigned(std::string_view data) {
    const World& w = world();
    const bool pem = data.find("-----BEGIN") != std::string_view::npos;
    std::vector<CrlPtr> crls;
    if (pem) {
        BioPtr in(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
        while (crls.size() < kMaxResigned) {
            X509_CRL* crl = PEM_read_bio_X509_CRL(in.get(), nullptr, nullptr, nullptr);
            if (!crl) break;
            crls.emplace_back(crl);
        }
    } else {
        const auto* der = reinterpret_cast<const unsigned char*>(data.data());
        if (X509_CRL* crl = d2i_X509_CRL(nullptr, &der, static_cast<long>(data.size()))) crls.emplace_back(crl);
    }
    ERR_clear_error();
    if (crls.empty()) return std::nullopt;

    BioPtr out(BIO_new(BIO_s_mem()));
    for (CrlPtr& crl : crls) {
        const X509_NAME* name = X509_CRL_get_issuer(crl.get());
        const Ca* ca = &w.kitty;
        X509_NAME* kitty_name = X509_get_subject_name(&w.kitty.issuer->certificate());
        if (X509_NAME_cmp(name, X509_get_subject_name(&w.acme.issuer->certificate())) == 0) {
            ca = &w.acme;
        } else if (X509_NAME_cmp(name, kitty_name) != 0) {
            X509_CRL_set_issuer_name(crl.get(), kitty_name);
        }
        const bool ok = X509_CRL_sign(crl.get(), ca->key.get(), EVP_sha256()) > 0 &&
                        (pem ? PEM_write_bio_X509_CRL(out.get(), crl.get()) == 1
                             : i2d_X509_CRL_bio(out.get(), crl.get()) == 1);
        if (!ok) {
            ERR_clear_error();
            return std::nullopt;
        }
    }
    char* bytes = nullptr;
    const long len = BIO_get_mem_data(out.get(), &bytes);
    return std::string(bytes, static_cast<std::size_t>(len));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view input = fuzz::as_text(data, size);
    check(input, "as given");
    if (const std::optional<std::string> again = resigned(input)) check(*again, "re-signed");
    // OpenSSL keeps strings of past errors in its thread-local queue and frees
    // them only when a slot is reused: without this, runs would differ in
    // mallocs and frees, and libFuzzer would run a (slow) leak check after each.
    ERR_clear_error();
    return 0;
}
