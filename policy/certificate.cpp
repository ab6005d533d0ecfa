#include "policy/certificate.h"

#include <cctype>

#include <openssl/objects.h>
#include <openssl/pem.h>

#include "policy/crl.h"
#include "policy/error.h"
#include "policy/issuer.h"

namespace cscguard {
namespace {

std::string object_to_oid(const ASN1_OBJECT& obj) {
    char buf[128];
    const int len = OBJ_obj2txt(buf, sizeof buf, &obj, 1);
    if (len <= 0 || static_cast<std::size_t>(len) >= sizeof buf) return {};
    return std::string(buf, static_cast<std::size_t>(len));
}

// UTF-8 text of an ASN.1 string; nullopt when it cannot be converted or hides
// a NUL byte (the classic "good.com\0.evil.com" trick) - such a value must
// match nothing.
std::optional<std::string> to_utf8(const ASN1_STRING& str) {
    const ClearErrorsOnReturn clear;
    unsigned char* out = nullptr;
    const int len = ASN1_STRING_to_UTF8(&out, &str);
    if (len < 0) return std::nullopt;
    const BytesPtr owned(out);
    std::string text(reinterpret_cast<char*>(out), static_cast<std::size_t>(len));
    if (text.find('\0') != std::string::npos) return std::nullopt;
    return text;
}

}  // namespace

std::string ascii_lower(std::string_view text) {
    std::string out(text);
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

std::string attribute_oid(std::string_view name) {
    const ClearErrorsOnReturn clear;  // an unknown name leaves an error
    const std::string text(name);
    Asn1ObjectPtr obj(OBJ_txt2obj(text.c_str(), 0));
    if (!obj) {
        // Short names are case-sensitive in OpenSSL ("CN"); admins write "cn" too.
        std::string upper(text);
        for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        obj.reset(OBJ_txt2obj(upper.c_str(), 0));
    }
    return obj ? object_to_oid(*obj) : std::string();
}

std::string ClientCertificate::common_name() const {
    static const std::string cn_oid = attribute_oid("CN");
    for (const auto& attr : subject_) {
        if (attr.oid == cn_oid) return attr.value;
    }
    return {};
}

bool has_control_character(std::string_view text) {
    for (char c : text) {
        const auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u == 0x7f) return true;
    }
    return false;
}

X509Ptr parse_pem_certificate(std::string_view pem) {
    BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
    X509Ptr x509(bio ? PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr) : nullptr);
    if (!x509) throw PolicyError("client certificate is not PEM: " + drain_openssl_errors());
    return x509;
}

ClientCertificate ClientCertificate::parse(std::string_view pem) { return from_x509(*parse_pem_certificate(pem)); }

ClientCertificate ClientCertificate::from_x509(X509& x509) {
    const ClearErrorsOnReturn clear;  // an absent extension, a bad date
    X509* x = &x509;
    ClientCertificate cert(Serial::from_asn1(*X509_get0_serialNumber(x)));
    cert.not_before_ = asn1_to_time(*X509_get0_notBefore(x));
    cert.not_after_ = asn1_to_time(*X509_get0_notAfter(x));

    const X509_NAME* subject = X509_get_subject_name(x);
    cert.subject_dn_ = name_to_string(*subject);
    cert.issuer_dn_ = name_to_string(*X509_get_issuer_name(x));

    for (int i = 0; i < X509_NAME_entry_count(subject); ++i) {
        const X509_NAME_ENTRY* entry = X509_NAME_get_entry(subject, i);
        auto value = to_utf8(*X509_NAME_ENTRY_get_data(entry));
        if (!value) continue;
        const ASN1_OBJECT* obj = X509_NAME_ENTRY_get_object(entry);
        if (OBJ_obj2nid(obj) == NID_pkcs9_emailAddress && !has_control_character(*value)) {
            cert.emails_.push_back(ascii_lower(*value));
        }
        cert.subject_.push_back({object_to_oid(*obj), std::move(*value)});
    }

    for (const std::string& email : san_emails(x509)) cert.emails_.push_back(ascii_lower(email));
    return cert;
}

std::vector<std::string> san_emails(X509& x509) {
    const ClearErrorsOnReturn clear;  // no subjectAltName, or one that does not decode
    std::vector<std::string> out;
    GeneralNamesPtr sans(static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(&x509, NID_subject_alt_name, nullptr, nullptr)));
    for (int i = 0; sans && i < sk_GENERAL_NAME_num(sans.get()); ++i) {
        const GENERAL_NAME* name = sk_GENERAL_NAME_value(sans.get(), i);
        if (name->type != GEN_EMAIL) continue;
        auto value = to_utf8(*name->d.rfc822Name);
        if (value && !has_control_character(*value)) out.push_back(std::move(*value));
    }
    return out;
}

}  // namespace cscguard
