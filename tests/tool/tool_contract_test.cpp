// The contract between the CA tool and the module: what `cscguard publish`
// writes is read by the module's own parsers (parse_allowlist, parse_crls)
// and means what the CA's database says - the same serials, under the same
// issuer, the same revoked set. Each side is tested alone elsewhere; this is
// where a writer and a reader that drift apart are caught.
#include <fstream>
#include <map>
#include <set>

#include <openssl/pem.h>

#include "policy/allowlist.h"
#include "tools/cscguard/ca_dir.h"
#include "policy/crl.h"
#include "policy/crl_reason.h"
#include "policy/issuer.h"
#include "tests/tool/tool_harness.h"
#include "tests/support/issued_serial.h"

namespace cscguard::tool::testing {
namespace {

using EnumeratedPtr = OpenSslPtr<ASN1_ENUMERATED, ASN1_ENUMERATED_free>;
using CrlPtr = OpenSslPtr<X509_CRL, X509_CRL_free>;

// The issuers an httpd would declare for both CAs, in CSCGuardIssuer order.
const std::vector<std::string> kDeclared{"kitty-ca", "acme-ca"};

struct Published {
    std::string name;  // the CA's issuer name
    std::string ca_dir;
    std::string pub_dir;
};

// Serial (canonical) -> reason code, as the CRL in `pem` carries them (-1: no reason).
std::map<std::string, long> reasons_in(const std::string& pem) {
    BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
    CrlPtr crl(bio ? PEM_read_bio_X509_CRL(bio.get(), nullptr, nullptr, nullptr) : nullptr);
    std::map<std::string, long> out;
    if (!crl) return out;
    STACK_OF(X509_REVOKED)* entries = X509_CRL_get_REVOKED(crl.get());
    for (int i = 0; i < sk_X509_REVOKED_num(entries); ++i) {
        X509_REVOKED* entry = sk_X509_REVOKED_value(entries, i);
        EnumeratedPtr reason(static_cast<ASN1_ENUMERATED*>(X509_REVOKED_get_ext_d2i(entry, NID_crl_reason, nullptr, nullptr)));
        const std::string serial = Serial::from_asn1(*X509_REVOKED_get0_serialNumber(entry)).canonical();
        out[serial] = reason ? ASN1_ENUMERATED_get(reason.get()) : -1;
    }
    return out;
}

class Contract : public ToolTest {
protected:
    // `cscguard WORDS` on the CA in `ca_dir`; fails the test when it fails.
    void ok(const std::string& ca_dir, std::vector<std::string> words) {
        words.insert(words.begin(), {"--dir", ca_dir});
        const Result r = run(words);
        ASSERT_EQ(r.code, 0) << r.err;
    }

    // Checks every file `ca` published against its database.
    void check(const Published& ca, std::uint16_t index, const std::vector<std::shared_ptr<const Issuer>>& issuers) {
        SCOPED_TRACE(ca.name);
        const std::uint16_t other = index == 0 ? 1 : 0;
        const std::vector<Record> records = CaDir(ca.ca_dir).load_records();

        const SerialTable all = load_allowlist(ca.pub_dir + "/all.list", kDeclared);
        std::map<std::string, std::size_t> group_members;
        std::size_t listed = 0;
        for (const Record& r : records) {
            const Serial serial = Serial::parse(r.serial);
            const bool allowed = r.kind == "client" && !r.revoked();
            EXPECT_EQ(all.contains(index, serial), allowed) << r.name() << " " << r.serial;
            EXPECT_FALSE(all.contains(other, serial)) << r.serial << " listed under the other issuer";
            listed += allowed ? 1 : 0;
            for (const std::string& g : r.groups()) {
                group_members[g] += allowed ? 1 : 0;
                const SerialTable group = load_allowlist(ca.pub_dir + "/" + g + ".list", kDeclared);
                EXPECT_EQ(group.contains(index, serial), allowed) << g << ": " << r.name();
            }
        }
        EXPECT_EQ(all.size(), listed);
        for (const auto& [g, members] : group_members) {
            EXPECT_EQ(load_allowlist(ca.pub_dir + "/" + g + ".list", kDeclared).size(), members) << g;
        }

        const std::string crl_pem = read_text(ca.pub_dir + "/crl.pem");
        const std::vector<RevocationList> crls = parse_crls(crl_pem, ca.pub_dir + "/crl.pem", issuers);
        ASSERT_EQ(crls.size(), 1u);
        EXPECT_EQ(crls[0].issuer, ca.name);
        EXPECT_EQ(crls[0].issuer_index, index);
        const std::map<std::string, long> reasons = reasons_in(crl_pem);
        std::size_t revoked = 0;
        for (const Record& r : records) {
            const Serial serial = Serial::parse(r.serial);
            EXPECT_EQ(crls[0].revokes(serial), r.revoked()) << r.name() << " " << r.serial;
            if (!r.revoked()) continue;
            ++revoked;
            // unspecified is not written (RFC 5280 asks so); every other reason is its code.
            const long code = *crl_reason_code(r.reason);
            ASSERT_EQ(reasons.count(serial.canonical()), 1u) << r.serial;
            EXPECT_EQ(reasons.at(serial.canonical()), code == 0 ? -1 : code) << r.reason;
        }
        EXPECT_EQ(crls[0].revoked.size(), revoked);
        EXPECT_EQ(reasons.size(), revoked);
    }
};

TEST_F(Contract, WhatPublishWritesTheModuleReadsTheSame) {
    const Published kitty{"kitty-ca", dir, pub};
    const Published acme{"acme-ca", root + "/acme", root + "/acme-pub"};
    for (const Published& ca : {kitty, acme}) {
        ok(ca.ca_dir, {"init", "--name", ca.name, "--publish-dir", ca.pub_dir});
    }
    ok(kitty.ca_dir, {"issue", "client", "eager-client", "--email", "eager@kitty.example", "--group", "staff", "--group", "ops"});
    ok(kitty.ca_dir, {"issue", "client", "lazy-client", "--group", "staff"});
    ok(kitty.ca_dir, {"issue", "client", "dora@kitty", "--group", "ops"});
    ok(kitty.ca_dir, {"issue", "client", "held-client"});
    ok(kitty.ca_dir, {"issue", "client", "plain-client"});
    ok(kitty.ca_dir, {"issue", "server", "picture-server"});
    ok(kitty.ca_dir, {"revoke", "lazy-client", "--reason", "keyCompromise"});
    ok(kitty.ca_dir, {"revoke", "held-client", "--reason", "certificateHold"});
    ok(kitty.ca_dir, {"revoke", "plain-client"});  // unspecified
    ok(kitty.ca_dir, {"renew", "dora@kitty", "--revoke-old"});  // superseded
    ok(acme.ca_dir, {"issue", "client", "partner", "--group", "staff"});
    ok(acme.ca_dir, {"issue", "client", "former-partner", "--group", "staff"});
    ok(acme.ca_dir, {"revoke", "former-partner", "--reason", "affiliationChanged"});
    for (const Published& ca : {kitty, acme}) ok(ca.ca_dir, {"publish"});

    const std::vector<std::shared_ptr<const Issuer>> issuers{Issuer::load("kitty-ca", kitty.pub_dir + "/ca.crt"),
                                                             Issuer::load("acme-ca", acme.pub_dir + "/ca.crt")};
    check(kitty, 0, issuers);
    check(acme, 1, issuers);
}

// A CA with nothing issued yet publishes an empty allowlist and an empty CRL
// that the module reads as such (not as an error).
TEST_F(Contract, AFreshCaPublishesEmptyFilesTheModuleReads) {
    init();
    EXPECT_EQ(load_allowlist(pub + "/all.list", kDeclared).size(), 0u);
    const auto crls = load_crls(pub + "/crl.pem", {Issuer::load("kitty-ca", pub + "/ca.crt")});
    ASSERT_EQ(crls.size(), 1u);
    EXPECT_EQ(crls[0].revoked.size(), 0u);
}


// A revocation goes out even when a list cannot be written (here a record a
// list refuses: a name with a control character, put in the database by
// hand): the CRL is written before the lists are built.
TEST_F(Contract, ARevocationIsPublishedEvenWhenAListCannotBeWritten) {
    init();
    const std::string eager = cscguard::testing::issued_serial(run({"issue", "client", "eager-client"}).out);
    ASSERT_FALSE(eager.empty());
    const std::string index = read_text(dir + "/index.txt");
    ASSERT_FALSE(index.empty());
    // Another valid client's record, as the first one but for its serial and name.
    std::string odd = index.substr(0, index.find('\n') + 1);
    odd.replace(odd.find(eager), eager.size(), "0A1B2C3D");
    odd.replace(odd.find("/CN="), std::string::npos, "/CN=odd\x01name\n");
    std::ofstream(dir + "/index.txt", std::ios::app) << odd;

    const Result r = run({"revoke", "eager-client", "--publish"});
    EXPECT_NE(r.code, 0) << "the lists could not be written: " << r.out;
    EXPECT_EQ(reasons_in(read_text(pub + "/crl.pem")).count(Serial::parse(eager).canonical()), 1u)
        << "the revocation was held back by the lists: " << r.err;
}

}  // namespace
}  // namespace cscguard::tool::testing
