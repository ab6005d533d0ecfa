#include "crl.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "error.h"
#include "file.h"

namespace cscguard {
namespace {

using CrlPtr = OpenSslPtr<X509_CRL, X509_CRL_free>;
using IdpPtr = OpenSslPtr<ISSUING_DIST_POINT, ISSUING_DIST_POINT_free>;

std::vector<CrlPtr> read_crls(std::string_view data, const std::string& origin) {
    std::vector<CrlPtr> crls;
    BioPtr bio(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
    while (X509_CRL* crl = PEM_read_bio_X509_CRL(bio.get(), nullptr, nullptr, nullptr)) crls.emplace_back(crl);
    ERR_clear_error();  // the loop always ends on "no start line"
    if (!crls.empty()) return crls;
    const auto* der = reinterpret_cast<const unsigned char*>(data.data());
    if (X509_CRL* crl = d2i_X509_CRL(nullptr, &der, static_cast<long>(data.size()))) {
        crls.emplace_back(crl);
        return crls;
    }
    const std::string errors = drain_openssl_errors();
    throw PolicyError(origin + ": no CRL found (expected PEM or DER)" + (errors.empty() ? "" : ": " + errors));
}

std::string oid_of(const X509_EXTENSION& ext) {
    char buf[80];
    OBJ_obj2txt(buf, sizeof buf, X509_EXTENSION_get_object(const_cast<X509_EXTENSION*>(&ext)), 0);
    return buf;
}

void check_crl_extensions(X509_CRL& crl) {
    if (X509_CRL_get_ext_by_NID(&crl, NID_delta_crl, -1) >= 0) {
        throw PolicyError("is a delta CRL; give the complete (base) CRL");
    }
    int crit = 0;
    IdpPtr idp(static_cast<ISSUING_DIST_POINT*>(X509_CRL_get_ext_d2i(&crl, NID_issuing_distribution_point, &crit, nullptr)));
    if (idp) {
        if (idp->indirectCRL) throw PolicyError("is an indirect CRL (issuingDistributionPoint indirectCRL)");
        if (idp->onlysomereasons) throw PolicyError("is a partial CRL (issuingDistributionPoint onlySomeReasons)");
        if (idp->onlyCA) throw PolicyError("lists CA certificates only (issuingDistributionPoint onlyCA)");
        if (idp->onlyattr) throw PolicyError("lists attribute certificates only (issuingDistributionPoint onlyAttr)");
    } else if (crit == -2) {
        throw PolicyError("has more than one issuingDistributionPoint extension");
    }
    const STACK_OF(X509_EXTENSION)* exts = X509_CRL_get0_extensions(&crl);
    for (int i = 0; i < sk_X509_EXTENSION_num(exts); ++i) {
        X509_EXTENSION* ext = sk_X509_EXTENSION_value(exts, i);
        if (!X509_EXTENSION_get_critical(ext)) continue;
        const int nid = OBJ_obj2nid(X509_EXTENSION_get_object(ext));
        if (nid != NID_issuing_distribution_point) {
            throw PolicyError("has an unknown critical extension " + oid_of(*ext));
        }
    }
}

void check_entry_extensions(const X509_REVOKED& entry, const Serial& serial) {
    const STACK_OF(X509_EXTENSION)* exts = X509_REVOKED_get0_extensions(&entry);
    for (int i = 0; i < sk_X509_EXTENSION_num(exts); ++i) {
        X509_EXTENSION* ext = sk_X509_EXTENSION_value(exts, i);
        const int nid = OBJ_obj2nid(X509_EXTENSION_get_object(ext));
        if (nid == NID_certificate_issuer) {
            throw PolicyError("is an indirect CRL (entry " + serial.canonical() + " names a certificateIssuer)");
        }
        const bool known = nid == NID_crl_reason || nid == NID_invalidity_date || nid == NID_hold_instruction_code;
        if (X509_EXTENSION_get_critical(ext) && !known) {
            throw PolicyError("entry " + serial.canonical() + " has an unknown critical extension " + oid_of(*ext));
        }
    }
}

// The declared issuer whose name and key match the CRL.
const Issuer& find_signer(X509_CRL& crl, const std::vector<std::shared_ptr<const Issuer>>& issuers) {
    const X509_NAME* name = X509_CRL_get_issuer(&crl);
    const Issuer* same_name = nullptr;
    for (const auto& issuer : issuers) {
        if (X509_NAME_cmp(name, X509_get_subject_name(&issuer->certificate())) != 0) continue;
        same_name = issuer.get();
        const bool ok = X509_CRL_verify(&crl, X509_get0_pubkey(&issuer->certificate())) == 1;
        ERR_clear_error();
        if (ok) return *issuer;
    }
    if (same_name) {
        throw PolicyError("signature does not verify with the key of CSCGuardIssuer " + same_name->name() +
                          " (signed by another key with the same name?)");
    }
    throw PolicyError("issuer '" + name_to_string(*name) + "' is not a declared CSCGuardIssuer");
}

RevocationList check_and_read(X509_CRL& crl, const std::string& origin,
                              const std::vector<std::shared_ptr<const Issuer>>& issuers) {
    const Issuer& issuer = find_signer(crl, issuers);
    check_crl_extensions(crl);
    const ASN1_TIME* next = X509_CRL_get0_nextUpdate(&crl);
    if (!next) throw PolicyError("has no nextUpdate, so its freshness cannot be judged");

    RevocationList list;
    list.issuer = issuer.name();
    list.source = origin;
    list.this_update = asn1_to_time(*X509_CRL_get0_lastUpdate(&crl));
    list.next_update = asn1_to_time(*next);
    STACK_OF(X509_REVOKED)* entries = X509_CRL_get_REVOKED(&crl);
    for (int i = 0; i < sk_X509_REVOKED_num(entries); ++i) {
        const X509_REVOKED* entry = sk_X509_REVOKED_value(entries, i);
        const Serial serial = Serial::from_asn1(*X509_REVOKED_get0_serialNumber(entry));
        check_entry_extensions(*entry, serial);
        list.revoked.insert(serial.canonical());
    }
    return list;
}

}  // namespace

std::vector<RevocationList> parse_crls(std::string_view data, const std::string& origin,
                                       const std::vector<std::shared_ptr<const Issuer>>& issuers) {
    std::vector<CrlPtr> crls = read_crls(data, origin);
    std::vector<RevocationList> lists;
    for (std::size_t i = 0; i < crls.size(); ++i) {
        try {
            lists.push_back(check_and_read(*crls[i], origin, issuers));
        } catch (const PolicyError& err) {
            const std::string which = crls.size() > 1 ? " CRL #" + std::to_string(i + 1) : " CRL";
            throw PolicyError(origin + ":" + which + " of '" + name_to_string(*X509_CRL_get_issuer(crls[i].get())) +
                              "' " + err.what());
        }
    }
    ERR_clear_error();
    return lists;
}

std::vector<RevocationList> load_crls(const std::string& path,
                                      const std::vector<std::shared_ptr<const Issuer>>& issuers) {
    return parse_crls(read_whole_file(path, "CRL"), path, issuers);
}

std::time_t asn1_to_time(const ASN1_TIME& t) {
    struct tm tm {};
    if (!ASN1_TIME_to_tm(&t, &tm)) throw PolicyError("unreadable time");
    return timegm(&tm);
}

std::string format_utc(std::time_t t) {
    struct tm tm {};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm);
    return buf;
}

std::time_t parse_duration(std::string_view text) {
    std::size_t digits = 0;
    while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
    const std::string_view unit = text.substr(digits);
    std::time_t scale = 0;
    if (unit.empty() || unit == "s") scale = 1;
    else if (unit == "m") scale = 60;
    else if (unit == "h") scale = 3600;
    else if (unit == "d") scale = 86400;
    if (digits == 0 || digits > 9 || scale == 0) {
        throw PolicyError("'" + std::string(text) + "' is not a duration (e.g. 0, 90s, 15m, 12h, 7d)");
    }
    return static_cast<std::time_t>(std::stoll(std::string(text.substr(0, digits)))) * scale;
}

}  // namespace cscguard
