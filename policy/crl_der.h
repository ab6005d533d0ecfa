// A CRL read straight from its DER, so a CRL of a million entries costs one
// pass over its bytes instead of a million OpenSSL objects.
//
// d2i_X509_CRL builds an X509_REVOKED (an ASN1_INTEGER, an ASN1_TIME, a stack
// of extensions) for every entry: seconds and hundreds of MB for a big CRL.
// Here the CRL is split into the parts its checks need (split_crl), the
// entries are walked in place (for_each_revoked) and the signature is checked
// over the original TBSCertList bytes (verify_crl_signature). Everything else
// - issuer, times, CRL extensions - is left to d2i_X509_CRL on `header`, which
// is small.
//
// Strictness: DER only (definite, minimal lengths; one-byte tags), every
// length bounded by its enclosing element. Where this is stricter than
// OpenSSL's BER-tolerant decoder (indefinite or non-minimal lengths,
// constructed strings, a primitive SEQUENCE OF, high-tag-number form) the
// error says "not DER".
// Everything else OpenSSL refuses in an entry is refused here too, and an
// entry is checked as crl.cpp checks it: no certificateIssuer (an indirect
// CRL), no unknown critical extension.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <type_traits>

#include <openssl/evp.h>

namespace cscguard {

// One DER CRL split into the parts the checks need, without decoding its
// entries. The views point into the `der` given to split_crl.
struct CrlParts {
    std::string_view tbs;            // the whole TBSCertList TLV: the bytes the signature covers
    std::string_view tbs_algorithm;  // TBSCertList.signature, the AlgorithmIdentifier TLV
    std::string_view algorithm;      // signatureAlgorithm, the AlgorithmIdentifier TLV
    std::string_view signature;      // signatureValue, the BIT STRING TLV
    std::string_view entries;        // the content of revokedCertificates ("" when absent or empty)
    // A DER CRL identical to the input except that revokedCertificates is left
    // out: d2i_X509_CRL reads it cheaply for the issuer, times and extensions.
    // Its signature no longer verifies; verify_crl_signature checks the input's.
    std::string header;
};

// Throws PolicyError ("is not one DER CRL: <what>") unless `der` is exactly
// one well-formed CertificateList: no bytes after it, every TLV complete and
// within its parent, TBSCertList's fields in order. Only the outer structure
// is checked here; the entries by for_each_revoked, the rest by d2i of header.
CrlParts split_crl(std::string_view der);

// As X509_CRL_verify(crl, &key) == 1: the signature over parts.tbs verifies
// with `key` under the outer signatureAlgorithm, and TBSCertList.signature
// equals signatureAlgorithm. OpenSSL compares the two decoded (X509_ALGOR_cmp);
// byte for byte differs only for one value written in two BER spellings.
// Leaves OpenSSL's error queue empty.
bool verify_crl_signature(const CrlParts& parts, EVP_PKEY& key);

// The spelling Serial::from_asn1(serial).canonical() gives a revoked serial:
// uppercase hex without leading zeros ("0" for zero), "-" for a negative one.
// Like Serial::from_asn1, a serial longer than kMaxSerialOctets keeps
// OpenSSL's whole-byte spelling ("0A..."), so it still matches a
// certificate's serial read by Serial::from_asn1.
std::string canonical_serial(std::string_view magnitude, bool negative);

namespace detail {
using RevokedThunk = void (*)(void* on_entry, std::string_view magnitude, bool negative);
void walk_revoked(std::string_view entries, void* on_entry, RevokedThunk thunk);
}  // namespace detail

// Calls on_entry(std::string_view magnitude, bool negative) for each revoked
// certificate in `entries` (CrlParts::entries), in order. `magnitude` is the
// serial's absolute value, big-endian, without leading zero octets (zero:
// empty; canonical_serial spells it); `negative` its sign. The view is valid
// only during the call. No allocation per entry (but for negative serials
// longer than std::string's small buffer, once).
//
// Throws PolicyError, as crl.cpp refuses a CRL today:
//  - "has a malformed revoked certificate (entry #N): ..." at the first
//    malformed entry (the entries before it have been passed on by then);
//  - once every entry is read (d2i refuses a malformed entry anywhere before
//    crl.cpp looks at any extension), at the first entry naming a
//    certificateIssuer: "is an indirect CRL (entry 1A names a
//    certificateIssuer)", or with an unknown critical extension: "entry 1A has
//    an unknown critical extension 1.2.3". Neither that entry nor any after
//    it is passed on.
// Known entry extensions: reasonCode, invalidityDate, holdInstructionCode;
// their values are not decoded (crl.cpp never read them either).
template <typename F>
void for_each_revoked(std::string_view entries, F&& on_entry) {
    using Fn = std::remove_reference_t<F>;
    detail::walk_revoked(entries, const_cast<void*>(static_cast<const void*>(std::addressof(on_entry))),
                         [](void* f, std::string_view magnitude, bool negative) {
                             (*static_cast<Fn*>(f))(magnitude, negative);
                         });
}

}  // namespace cscguard
