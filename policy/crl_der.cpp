#include "policy/crl_der.h"

#include <limits>

#include <openssl/err.h>
#include <openssl/x509.h>

#include "policy/error.h"
#include "policy/openssl_ptr.h"
#include "policy/serial.h"

namespace cscguard {
namespace {

// Tag octets: universal class, with the constructed bit where DER has it.
constexpr unsigned char kBoolean = 0x01;
constexpr unsigned char kInteger = 0x02;
constexpr unsigned char kBitString = 0x03;
constexpr unsigned char kOctetString = 0x04;
constexpr unsigned char kOid = 0x06;
constexpr unsigned char kUtcTime = 0x17;
constexpr unsigned char kGeneralizedTime = 0x18;
constexpr unsigned char kSequence = 0x30;
constexpr unsigned char kExplicit0 = 0xA0;  // [0] EXPLICIT: context class, constructed
constexpr unsigned char kConstructed = 0x20;

// The extnID contents (OID 2.5.29.x) of the entry extensions crl.cpp knows.
constexpr std::string_view kCertificateIssuer("\x55\x1d\x1d", 3);
constexpr std::string_view kReasonCode("\x55\x1d\x15", 3);
constexpr std::string_view kInvalidityDate("\x55\x1d\x18", 3);
constexpr std::string_view kHoldInstructionCode("\x55\x1d\x17", 3);

// The tag of a primitive element also for its (BER) constructed form.
unsigned char primitive(unsigned char tag) { return static_cast<unsigned char>(tag & ~kConstructed); }

const char* type_name(unsigned char tag) {
    switch (tag) {
        case kBoolean: return "a BOOLEAN";
        case kInteger: return "an INTEGER";
        case kBitString: return "a BIT STRING";
        case kOctetString: return "an OCTET STRING";
        case kOid: return "an OBJECT IDENTIFIER";
        case kSequence: return "a SEQUENCE";
        default: return "a UTCTime or GeneralizedTime";
    }
}

// A malformed element, thrown inside this file only and turned into a
// PolicyError where the context (which entry) is known. Plain pointers to
// static text: nothing is built unless something is wrong.
struct Malformed {
    const char* field;
    const char* why = nullptr;    // the problem, or null for "is not <expected>"
    unsigned char expected = 0;
    unsigned char found = 0;

    std::string text() const {
        std::string out = std::string(field) + " ";
        if (why) return out + why;
        out += std::string("is not ") + type_name(expected);
        // OpenSSL reads constructed strings (BER); DER has only the primitive form.
        const bool string = expected == kBitString || expected == kOctetString;
        if (string && found == (expected | kConstructed)) out += " (constructed: BER, not DER)";
        // OpenSSL does not check that a SEQUENCE OF is constructed (not even BER).
        if (expected == kSequence && found == primitive(kSequence)) out += " (primitive: not DER)";
        return out;
    }
};

struct Tlv {
    unsigned char tag = 0;
    std::string_view whole;    // tag, length and content
    std::string_view content;
};

bool is_time(unsigned char tag) { return tag == kUtcTime || tag == kGeneralizedTime; }


// OpenSSL reads 1F 02 as tag 2 (INTEGER); DER writes a tag under 31 in one octet.
bool multi_byte(unsigned char tag) { return (tag & 0x1f) == 0x1f; }

// The elements of one constructed value, read front to back. A problem is
// thrown as Malformed naming `field`.
class Reader {
public:
    explicit Reader(std::string_view bytes) : rest_(bytes) {}

    bool at_end() const { return rest_.empty(); }
    std::size_t left() const { return rest_.size(); }

    // The tag of the next element, to decide on an optional field (0 at the
    // end: no element has tag 0 here).
    unsigned char peek() const {
        if (multi_byte(front())) throw Malformed{"an element", "has a multi-byte tag (not DER)"};
        return front();
    }

    // The next element, of any tag.
    Tlv next(const char* field) {
        const auto* p = reinterpret_cast<const unsigned char*>(rest_.data());
        const std::size_t size = rest_.size();
        if (size == 0) throw Malformed{field, "is missing"};
        if (multi_byte(p[0])) throw Malformed{field, "has a multi-byte tag (not DER)"};
        if (size < 2) throw Malformed{field, "is truncated"};
        std::size_t pos = 2;
        std::size_t len = p[1];
        if (len & 0x80) {
            const std::size_t octets = len & 0x7f;
            if (octets == 0) throw Malformed{field, "has an indefinite length (BER, not DER)"};
            if (size - 2 < octets) throw Malformed{field, "is truncated"};
            if (p[2] == 0) throw Malformed{field, "has a length with a leading zero octet (not DER)"};
            if (octets > sizeof(std::size_t)) throw Malformed{field, "has a length that does not fit"};
            len = 0;
            for (std::size_t i = 0; i < octets; ++i) len = (len << 8) | p[2 + i];
            if (len < 0x80) throw Malformed{field, "has a long-form length under 128 (not DER)"};
            pos += octets;
        }
        if (len > size - pos) throw Malformed{field, "runs past the end of what holds it (truncated?)"};
        Tlv tlv{p[0], rest_.substr(0, pos + len), rest_.substr(pos, len)};
        rest_.remove_prefix(pos + len);
        return tlv;
    }

    // The next element, which must have tag `tag`.
    Tlv take(unsigned char tag, const char* field) {
        const unsigned char found = front();
        if (found != tag && !at_end() && !multi_byte(found)) throw Malformed{field, nullptr, tag, found};
        return next(field);
    }

    // A Time: UTCTime or GeneralizedTime. Its value is not decoded (nor does
    // OpenSSL 3.0's d2i check it).
    Tlv take_time(const char* field) {
        const unsigned char found = front();
        if (!is_time(found) && !at_end() && !multi_byte(found)) {
            if (is_time(primitive(found))) throw Malformed{field, "is a constructed time (BER, not DER)"};
            throw Malformed{field, nullptr, kUtcTime, found};
        }
        return next(field);
    }

    void finish(const char* field) const {
        if (!at_end()) throw Malformed{field, "holds more than its fields"};
    }

private:
    unsigned char front() const { return rest_.empty() ? 0 : static_cast<unsigned char>(rest_[0]); }

    std::string_view rest_;
};

// As OpenSSL's c2i_ibuf: an INTEGER is never empty and has no redundant
// leading octet (0x00 before a clear top bit, 0xFF before a set one).
void check_integer(std::string_view content, const char* field) {
    if (content.empty()) throw Malformed{field, "is an INTEGER of length 0"};
    if (content.size() > 1) {
        const auto first = static_cast<unsigned char>(content[0]);
        const auto second = static_cast<unsigned char>(content[1]);
        if ((first == 0x00 && !(second & 0x80)) || (first == 0xff && (second & 0x80))) {
            throw Malformed{field, "is an INTEGER with a redundant leading octet"};
        }
    }
}

// As OpenSSL's c2i_ASN1_OBJECT: not empty, the last octet ends a
// subidentifier, and no subidentifier starts with a 0x80 (padding) octet.
void check_oid(std::string_view content, const char* field) {
    if (content.empty() || (static_cast<unsigned char>(content.back()) & 0x80)) {
        throw Malformed{field, "is not a valid OBJECT IDENTIFIER"};
    }
    for (std::size_t i = 0; i < content.size(); ++i) {
        if (static_cast<unsigned char>(content[i]) == 0x80 &&
            (i == 0 || !(static_cast<unsigned char>(content[i - 1]) & 0x80))) {
            throw Malformed{field, "is not a valid OBJECT IDENTIFIER"};
        }
    }
}

void append_length(std::string& out, std::size_t len) {
    if (len < 0x80) {
        out += static_cast<char>(len);
        return;
    }
    int octets = 0;
    for (std::size_t rest = len; rest != 0; rest >>= 8) ++octets;
    out += static_cast<char>(0x80 | octets);
    for (int i = octets - 1; i >= 0; --i) out += static_cast<char>((len >> (8 * i)) & 0xff);
}

// The dotted text of an extnID, as crl.cpp's oid_of prints it (error path only).
std::string oid_text(std::string_view content) {
    const ClearErrorsOnReturn clear;
    std::string der(1, static_cast<char>(kOid));
    append_length(der, content.size());
    der.append(content);
    const auto* p = reinterpret_cast<const unsigned char*>(der.data());
    OpenSslPtr<ASN1_OBJECT, ASN1_OBJECT_free> obj(d2i_ASN1_OBJECT(nullptr, &p, static_cast<long>(der.size())));
    char buf[80] = "?";
    if (obj) OBJ_obj2txt(buf, sizeof buf, obj.get(), 0);
    return buf;
}

// The first entry refused for what it says rather than how it is written.
struct Refusal {
    enum Kind { none, certificate_issuer, unknown_critical } kind = none;
    std::string serial;
    std::string_view oid;
};

bool known_entry_extension(std::string_view oid) {
    return oid == kReasonCode || oid == kInvalidityDate || oid == kHoldInstructionCode;
}

// Reads crlEntryExtensions; the first extension crl.cpp would refuse becomes
// `refusal`, unless an earlier entry's already did.
void read_entry_extensions(std::string_view content, std::string_view magnitude, bool negative, Refusal& refusal) {
    Reader list(content);
    while (!list.at_end()) {
        Reader extension(list.take(kSequence, "an extension").content);
        const Tlv oid = extension.take(kOid, "an extnID");
        check_oid(oid.content, "an extnID");
        bool critical = false;
        if (extension.peek() == kBoolean) {
            const Tlv flag = extension.take(kBoolean, "a critical flag");
            // OpenSSL takes any non-zero octet as TRUE, and an explicit FALSE.
            if (flag.content.size() != 1) throw Malformed{"a critical flag", "is a BOOLEAN not 1 octet long"};
            critical = flag.content[0] != 0;
        }
        extension.take(kOctetString, "an extnValue");
        extension.finish("an extension");
        if (refusal.kind != Refusal::none) continue;
        if (oid.content == kCertificateIssuer) {
            refusal = {Refusal::certificate_issuer, canonical_serial(magnitude, negative), oid.content};
        } else if (critical && !known_entry_extension(oid.content)) {
            refusal = {Refusal::unknown_critical, canonical_serial(magnitude, negative), oid.content};
        }
    }
}

// The magnitude of a serial INTEGER's content: a view into it when positive,
// else its two's complement negation written into `scratch`.
std::string_view magnitude_of(std::string_view content, bool negative, std::string& scratch) {
    std::string_view magnitude = content;
    if (negative) {
        scratch.assign(content);
        unsigned carry = 1;
        for (std::size_t i = scratch.size(); i-- > 0;) {
            const unsigned value = (~static_cast<unsigned char>(scratch[i]) & 0xffu) + carry;
            scratch[i] = static_cast<char>(value & 0xff);
            carry = value >> 8;
        }
        magnitude = scratch;
    }
    while (!magnitude.empty() && magnitude.front() == 0) magnitude.remove_prefix(1);
    return magnitude;
}

}  // namespace

CrlParts split_crl(std::string_view der) {
    CrlParts parts;
    try {
        Reader file(der);
        const Tlv crl = file.take(kSequence, "CertificateList");
        if (!file.at_end()) throw Malformed{"CertificateList", "is followed by other bytes"};
        Reader list(crl.content);
        const Tlv tbs = list.take(kSequence, "tbsCertList");
        const Tlv algorithm = list.take(kSequence, "signatureAlgorithm");
        const Tlv signature = list.take(kBitString, "signatureValue");
        list.finish("CertificateList");

        // TBSCertList's fields in their order; only their framing is checked
        // here, their content by d2i of `header` (and entries by the walker).
        Reader fields(tbs.content);
        if (fields.peek() == kInteger) fields.next("version");
        const Tlv tbs_algorithm = fields.take(kSequence, "signature");
        fields.take(kSequence, "issuer");
        fields.take_time("thisUpdate");
        if (is_time(primitive(fields.peek()))) fields.take_time("nextUpdate");
        const std::size_t before = tbs.content.size() - fields.left();
        Tlv revoked;  // stays empty when absent
        if (primitive(fields.peek()) == primitive(kSequence)) revoked = fields.take(kSequence, "revokedCertificates");
        if (fields.peek() == kExplicit0) fields.next("crlExtensions");
        fields.finish("tbsCertList");

        parts.tbs = tbs.whole;
        parts.tbs_algorithm = tbs_algorithm.whole;
        parts.algorithm = algorithm.whole;
        parts.signature = signature.whole;
        parts.entries = revoked.content;

        const std::string_view head = tbs.content.substr(0, before);
        const std::string_view tail = tbs.content.substr(before + revoked.whole.size());
        std::string tbs_header(1, static_cast<char>(kSequence));
        append_length(tbs_header, head.size() + tail.size());
        tbs_header.append(head).append(tail);
        parts.header.assign(1, static_cast<char>(kSequence));
        append_length(parts.header, tbs_header.size() + algorithm.whole.size() + signature.whole.size());
        parts.header.append(tbs_header).append(algorithm.whole).append(signature.whole);
    } catch (const Malformed& bad) {
        throw PolicyError("is not one DER CRL: " + bad.text());
    }
    return parts;
}

bool verify_crl_signature(const CrlParts& parts, EVP_PKEY& key) {
    const ClearErrorsOnReturn clear;
    // X509_CRL_verify refuses a CRL whose two algorithms differ, before any
    // cryptography: the algorithm the signature was made with must be signed too.
    if (parts.tbs_algorithm != parts.algorithm || parts.tbs.size() > static_cast<std::size_t>(std::numeric_limits<int>::max())) return false;
    const auto* p = reinterpret_cast<const unsigned char*>(parts.algorithm.data());
    OpenSslPtr<X509_ALGOR, X509_ALGOR_free> algorithm(d2i_X509_ALGOR(nullptr, &p, static_cast<long>(parts.algorithm.size())));
    p = reinterpret_cast<const unsigned char*>(parts.signature.data());
    OpenSslPtr<ASN1_BIT_STRING, ASN1_BIT_STRING_free> signature(
        d2i_ASN1_BIT_STRING(nullptr, &p, static_cast<long>(parts.signature.size())));
    // ASN1_ANY writes a SEQUENCE's bytes out as they are (tag and length
    // included), so the signature is checked over the TBSCertList exactly as
    // received - as X509_CRL_verify does with the encoding d2i cached.
    OpenSslPtr<ASN1_TYPE, ASN1_TYPE_free> tbs(ASN1_TYPE_new());
    OpenSslPtr<ASN1_STRING, ASN1_STRING_free> bytes(ASN1_STRING_type_new(V_ASN1_SEQUENCE));
    bool ok = algorithm && signature && tbs && bytes &&
              ASN1_STRING_set(bytes.get(), parts.tbs.data(), static_cast<int>(parts.tbs.size())) == 1;
    if (ok) {
        ASN1_TYPE_set(tbs.get(), V_ASN1_SEQUENCE, bytes.release());
        ok = ASN1_item_verify(ASN1_ITEM_rptr(ASN1_ANY), algorithm.get(), signature.get(), tbs.get(), &key) == 1;
    }
    return ok;
}

std::string canonical_serial(std::string_view magnitude, bool negative) {
    while (!magnitude.empty() && magnitude.front() == 0) magnitude.remove_prefix(1);
    if (magnitude.empty()) return "0";
    static const char* hex = "0123456789ABCDEF";
    std::string out;
    out.reserve(magnitude.size() * 2 + 1);
    if (negative) out += '-';
    // Serial::from_asn1 keeps BN_bn2hex's whole bytes for an over-long serial.
    const bool whole_bytes = magnitude.size() > kMaxSerialOctets;
    const auto first = static_cast<unsigned char>(magnitude[0]);
    if (whole_bytes || first >= 0x10) out += hex[first >> 4];
    out += hex[first & 15];
    for (std::size_t i = 1; i < magnitude.size(); ++i) {
        const auto c = static_cast<unsigned char>(magnitude[i]);
        out += hex[c >> 4];
        out += hex[c & 15];
    }
    return out;
}

namespace detail {

void walk_revoked(std::string_view entries, void* on_entry, RevokedThunk thunk) {
    // d2i_X509_CRL refuses a malformed entry anywhere before crl.cpp looks at
    // any entry's extensions: so here too every entry is read before the
    // first refused extension is reported, and none is passed on after it.
    Refusal refusal;
    std::string scratch;
    std::size_t index = 0;
    try {
        Reader list(entries);
        while (!list.at_end()) {
            ++index;
            Reader entry(list.take(kSequence, "it").content);
            const Tlv serial = entry.take(kInteger, "userCertificate");
            check_integer(serial.content, "userCertificate");
            entry.take_time("revocationDate");
            const bool negative = static_cast<unsigned char>(serial.content[0]) & 0x80;
            const std::string_view magnitude = magnitude_of(serial.content, negative, scratch);
            if (!entry.at_end()) {
                const Tlv extensions = entry.take(kSequence, "crlEntryExtensions");
                entry.finish("it");
                read_entry_extensions(extensions.content, magnitude, negative, refusal);
            }
            if (refusal.kind == Refusal::none) thunk(on_entry, magnitude, negative);
        }
    } catch (const Malformed& bad) {
        throw PolicyError("has a malformed revoked certificate (entry #" + std::to_string(index) + "): " +
                          bad.text());
    }
    if (refusal.kind == Refusal::certificate_issuer) {
        throw PolicyError("is an indirect CRL (entry " + refusal.serial + " names a certificateIssuer)");
    }
    if (refusal.kind == Refusal::unknown_critical) {
        throw PolicyError("entry " + refusal.serial + " has an unknown critical extension " + oid_text(refusal.oid));
    }
}

}  // namespace detail
}  // namespace cscguard
