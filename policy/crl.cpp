#include "policy/crl.h"

#include <algorithm>

#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "policy/crl_der.h"
#include "policy/digest.h"
#include "policy/error.h"
#include "policy/file.h"
#include "policy/pem.h"

namespace cscguard {
namespace {

using CrlPtr = OpenSslPtr<X509_CRL, X509_CRL_free>;
using IdpPtr = OpenSslPtr<ISSUING_DIST_POINT, ISSUING_DIST_POINT_free>;

// One CRL as its DER bytes and its parts (crl_der.h); `header` is OpenSSL's
// reading of everything but the entries, which are walked in place.
struct RawCrl {
    std::string der;
    CrlParts parts;
    CrlPtr header;
};

// The DER must be exactly one CRL (no trailing bytes). Throws PolicyError.
RawCrl raw_crl(std::string der) {
    RawCrl crl;
    crl.der = std::move(der);
    crl.parts = split_crl(crl.der);
    const auto* p = reinterpret_cast<const unsigned char*>(crl.parts.header.data());
    const auto* end = p + crl.parts.header.size();
    crl.header.reset(d2i_X509_CRL(nullptr, &p, static_cast<long>(crl.parts.header.size())));
    if (!crl.header || p != end) throw PolicyError("is not a CRL: " + drain_openssl_errors());
    return crl;
}

std::size_t count_of(std::string_view text, std::string_view what) {
    std::size_t n = 0;
    for (std::size_t pos = text.find(what); pos != std::string_view::npos; pos = text.find(what, pos + 1)) ++n;
    return n;
}

bool only_whitespace(std::string_view text) {
    return text.find_first_not_of(" \t\r\n") == std::string_view::npos;
}

// Every block of a PEM file, or an error naming the first one that is not a
// complete CRL. PEM_read_bio skips lines it does not recognise, so a block
// torn inside its BEGIN line would vanish silently: the BEGIN lines are
// counted, and nothing but whitespace may follow the last END line.
std::vector<RawCrl> read_pem_crls(std::string_view data, const std::string& origin) {
    PemRead pem = read_pem(data);
    std::vector<RawCrl> crls;
    const auto where = [&origin](std::size_t block) { return origin + ": PEM block #" + std::to_string(block); };
    for (std::size_t i = 0; i < pem.blocks.size(); ++i) {
        PemBlock& block = pem.blocks[i];
        if (block.label != PEM_STRING_X509_CRL) throw PolicyError(where(i + 1) + " is a " + block.label + ", not an X509 CRL");
        try {
            crls.push_back(raw_crl(std::move(block.der)));  // tens of MB: moved, not copied
        } catch (const PolicyError& err) {
            throw PolicyError(where(i + 1) + " does not hold one complete CRL: " + err.what());
        }
    }
    if (pem.damaged) {
        if (pem.headers) throw PolicyError(where(pem.damaged) + " " + pem.why + "; a CRL has none");
        throw PolicyError(where(pem.damaged) + " is damaged or truncated (a file still being written?): " + pem.why);
    }
    const std::size_t begins = count_of(data, "-----BEGIN");
    if (begins != crls.size()) {
        throw PolicyError(origin + ": holds " + std::to_string(begins) + " BEGIN lines but " +
                          std::to_string(crls.size()) + " readable CRLs (a file still being written?)");
    }
    const std::size_t last_end = data.rfind("-----END");
    const std::size_t line_end = last_end == std::string_view::npos ? data.size() : data.find('\n', last_end);
    if (line_end != std::string_view::npos && !only_whitespace(data.substr(line_end))) {
        throw PolicyError(origin + ": text after the last CRL (a file still being written?)");
    }
    return crls;
}

std::vector<RawCrl> read_crls(std::string_view data, const std::string& origin) {
    if (data.find("-----BEGIN") != std::string_view::npos) {
        std::vector<RawCrl> crls = read_pem_crls(data, origin);
        if (crls.empty()) throw PolicyError(origin + ": no CRL found (expected PEM or DER)");
        return crls;
    }
    std::vector<RawCrl> crls;
    try {
        crls.push_back(raw_crl(std::string(data)));
    } catch (const PolicyError& err) {
        throw PolicyError(origin + ": no CRL found (expected PEM or DER): " + err.what());
    }
    return crls;
}

using IntegerPtr = OpenSslPtr<ASN1_INTEGER, ASN1_INTEGER_free>;

// The crlNumber in canonical hex, "" when absent.
std::string crl_number(X509_CRL& crl) {
    int crit = 0;
    IntegerPtr number(static_cast<ASN1_INTEGER*>(X509_CRL_get_ext_d2i(&crl, NID_crl_number, &crit, nullptr)));
    if (!number) {
        if (crit == -2) throw PolicyError("has more than one crlNumber extension");
        if (crit != -1) throw PolicyError("has an unreadable crlNumber extension");
        return {};
    }
    const std::string hex = Serial::from_asn1(*number).canonical();
    if (hex.front() == '-') throw PolicyError("has a negative crlNumber");
    return hex;
}


// Canonical hex integers: the longer is bigger, else the text decides.
int compare_hex(const std::string& a, const std::string& b) {
    if (a.size() != b.size()) return a.size() < b.size() ? -1 : 1;
    return a.compare(b) < 0 ? -1 : a == b ? 0 : 1;
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

// The declared issuer whose name and key match the CRL.
const Issuer& find_signer(const RawCrl& raw, const std::vector<std::shared_ptr<const Issuer>>& issuers) {
    const ClearErrorsOnReturn clear;  // a signature that does not verify leaves errors
    const X509_NAME* name = X509_CRL_get_issuer(raw.header.get());
    const Issuer* same_name = nullptr;
    for (const auto& issuer : issuers) {
        if (X509_NAME_cmp(name, X509_get_subject_name(&issuer->certificate())) != 0) continue;
        same_name = issuer.get();
        EVP_PKEY* key = X509_get0_pubkey(&issuer->certificate());
        if (key && verify_crl_signature(raw.parts, *key)) return *issuer;
    }
    if (same_name) {
        throw PolicyError("signature does not verify with the key of CSCGuardIssuer " + same_name->name() +
                          " (signed by another key with the same name?)");
    }
    throw PolicyError("issuer '" + name_to_string(*name) + "' is not a declared CSCGuardIssuer");
}

RevocationList check_and_read(const RawCrl& raw, const std::string& origin,
                              const std::vector<std::shared_ptr<const Issuer>>& issuers) {
    X509_CRL& crl = *raw.header;
    const Issuer& issuer = find_signer(raw, issuers);
    check_crl_extensions(crl);
    const ASN1_TIME* next = X509_CRL_get0_nextUpdate(&crl);
    if (!next) throw PolicyError("has no nextUpdate, so its freshness cannot be judged");

    RevocationList list;
    list.issuer = issuer.name();
    for (std::size_t i = 0; i < issuers.size(); ++i) {
        if (issuers[i].get() == &issuer) list.issuer_index = static_cast<std::uint16_t>(i);
    }
    list.source = origin;
    list.number = crl_number(crl);
    list.digest = to_hex(sha256_of(raw.der));
    list.this_update = asn1_to_time(*X509_CRL_get0_lastUpdate(&crl));
    list.next_update = asn1_to_time(*next);
    // Straight from the DER into the table: no OpenSSL object per entry.
    SerialTableBuilder revoked;
    revoked.reserve(raw.parts.entries.size() / 32, raw.parts.entries.size() / 2);
    for_each_revoked(raw.parts.entries, [&](std::string_view magnitude, bool negative) {
        revoked.add(list.issuer_index, magnitude, negative);
    });
    list.revoked = revoked.build();
    return list;
}

}  // namespace

std::vector<RevocationList> parse_crls(std::string_view data, const std::string& origin,
                                       const std::vector<std::shared_ptr<const Issuer>>& issuers) {
    const ClearErrorsOnReturn clear;
    std::vector<RawCrl> crls = read_crls(data, origin);
    std::vector<RevocationList> lists;
    for (std::size_t i = 0; i < crls.size(); ++i) {
        try {
            lists.push_back(check_and_read(crls[i], origin, issuers));
        } catch (const PolicyError& err) {
            const std::string which = crls.size() > 1 ? " CRL #" + std::to_string(i + 1) : " CRL";
            throw PolicyError(origin + ":" + which + " of '" +
                              name_to_string(*X509_CRL_get_issuer(crls[i].header.get())) + "' " + err.what());
        }
    }
    return lists;
}

std::vector<RevocationList> load_crls(const std::string& path,
                                      const std::vector<std::shared_ptr<const Issuer>>& issuers) {
    return parse_crls(read_whole_file(path, "CRL"), path, issuers);
}

std::string RevocationList::version() const {
    return (number.empty() ? std::string("no crlNumber") : "crlNumber " + number) + ", thisUpdate " +
           format_utc(this_update);
}

bool is_stale(const RevocationList& crl, std::time_t now, std::time_t grace) {
    return now > crl.next_update + grace;
}

std::string stale_crl_message(const RevocationList& crl, std::time_t grace) {
    return "the CRL of " + crl.issuer + " in " + crl.source + " went stale at " + format_utc(crl.next_update + grace) +
           " (nextUpdate " + format_utc(crl.next_update) + " + CSCGuardCRLGrace): every certificate of " + crl.issuer +
           " is denied until a fresh CRL is published";
}

int compare_age(const RevocationList& a, const RevocationList& b) {
    if (!a.number.empty() && !b.number.empty() && a.number != b.number) return compare_hex(a.number, b.number);
    return a.this_update < b.this_update ? -1 : a.this_update == b.this_update ? 0 : 1;
}

const RevocationList* newest_of(const CrlSet& lists, const std::string& issuer) {
    const RevocationList* newest = nullptr;
    for (const auto& list : lists) {
        if (list->issuer == issuer && (!newest || compare_age(*list, *newest) > 0)) newest = list.get();
    }
    return newest;
}

CrlMerge merge_crls(const CrlSet& in_force, const CrlSet& next) {
    CrlMerge merge;
    std::vector<std::string> issuers;
    for (const CrlSet* set : {&in_force, &next}) {
        for (const auto& list : *set) {
            if (std::find(issuers.begin(), issuers.end(), list->issuer) == issuers.end()) issuers.push_back(list->issuer);
        }
    }
    const auto find = [](const CrlSet& set, const RevocationList* wanted) {
        for (const auto& list : set) {
            if (list.get() == wanted) return list;
        }
        return std::shared_ptr<const RevocationList>();
    };
    for (const std::string& issuer : issuers) {
        const RevocationList* old = newest_of(in_force, issuer);
        const RevocationList* replacement = newest_of(next, issuer);
        if (!old) {
            merge.in_force.push_back(find(next, replacement));
            merge.changed = true;
            continue;
        }
        std::string problem;
        if (!replacement) {
            problem = "no longer holds a CRL of " + issuer + " (truncated, or replaced by another CA's CRL?): " +
                      "its CRL in force (" + old->version() + ") stays, an issuer never loses its CRL";
        } else if (const int age = compare_age(*replacement, *old); age < 0) {
            problem = "its CRL of " + issuer + " (" + replacement->version() + ") is older than the one in force (" +
                      old->version() + "): an old file put back? The one in force stays, a CRL never rolls back";
        } else if (age == 0 && replacement->digest != old->digest) {
            problem = "its CRL of " + issuer + " (" + replacement->version() +
                      ") is not newer than the one in force but differs from it: the one in force stays";
        }
        if (problem.empty()) {
            merge.in_force.push_back(find(next, replacement));
            merge.changed = merge.changed || replacement->digest != old->digest;
        } else {
            merge.in_force.push_back(find(in_force, old));
            merge.problems.push_back(std::move(problem));
        }
    }
    return merge;
}

void check_crl_succession(const CrlSet& in_force, const CrlSet& next) {
    const CrlMerge merge = merge_crls(in_force, next);
    if (!merge.problems.empty()) throw PolicyError(merge.problems.front());
}

std::time_t asn1_to_time(const ASN1_TIME& t) {
    struct tm tm {};
    if (!ASN1_TIME_to_tm(&t, &tm)) throw PolicyError("unreadable time");
    return timegm(&tm);
}

namespace {

std::string strftime_utc(std::time_t t, const char* format) {
    struct tm tm {};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, format, &tm);
    return buf;
}

}  // namespace

std::string format_utc(std::time_t t) { return strftime_utc(t, "%Y-%m-%d %H:%M:%S UTC"); }

std::string format_iso_utc(std::time_t t) { return strftime_utc(t, "%Y-%m-%dT%H:%M:%SZ"); }

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
