#include "policy/issuer.h"

#include <cctype>
#include <vector>

#include <openssl/err.h>
#include <openssl/pem.h>

#include "policy/error.h"
#include "policy/file.h"

namespace cscguard {
namespace {

std::vector<X509Ptr> read_certificates(BIO& bio) {
    const ClearErrorsOnReturn clear;  // the loop always ends on a "no start line" error
    std::vector<X509Ptr> certs;
    while (X509* cert = PEM_read_bio_X509(&bio, nullptr, nullptr, nullptr)) {
        certs.emplace_back(cert);
    }
    return certs;
}

}  // namespace

bool is_valid_name(std::string_view name) {
    if (name.empty() || !std::isalpha(static_cast<unsigned char>(name.front()))) return false;
    bool all_hex = true;
    for (char c : name) {
        const auto u = static_cast<unsigned char>(c);
        if (!std::isalnum(u) && c != '.' && c != '_' && c != '-') return false;
        if (!std::isxdigit(u)) all_hex = false;
    }
    return !(all_hex && name.size() <= 2);
}

void check_name(std::string_view what, std::string_view name) {
    if (!is_valid_name(name)) {
        throw PolicyError("'" + std::string(name) + "' is not a valid " + std::string(what) +
                          " name: use a letter first, then letters, "
                          "digits, '.', '_' or '-' (and not a 1-2 digit hex group like 'ab')");
    }
}

std::string name_to_string(const X509_NAME& name) {
    BioPtr bio(BIO_new(BIO_s_mem()));
    if (!bio) return {};
    X509_NAME_print_ex(bio.get(), &name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
    char* data = nullptr;
    const long len = BIO_get_mem_data(bio.get(), &data);
    return len > 0 ? std::string(data, static_cast<std::size_t>(len)) : std::string();
}

Issuer::Issuer(std::string name, std::string path, X509Ptr cert)
    : name_(std::move(name)),
      path_(std::move(path)),
      subject_(name_to_string(*X509_get_subject_name(cert.get()))),
      cert_(std::move(cert)) {}

std::shared_ptr<const Issuer> Issuer::from_pem(std::string name, std::string_view pem,
                                               std::string origin) {
    check_name("issuer", name);
    BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
    if (!bio) throw PolicyError(origin + ": out of memory");
    std::vector<X509Ptr> certs = read_certificates(*bio);
    if (certs.empty()) {
        // Not PEM: try one DER certificate.
        const auto* der = reinterpret_cast<const unsigned char*>(pem.data());
        X509* cert = d2i_X509(nullptr, &der, static_cast<long>(pem.size()));
        const std::string errors = drain_openssl_errors();
        if (!cert) {
            throw PolicyError(origin + ": no certificate found (expected PEM or DER)" +
                              (errors.empty() ? "" : ": " + errors));
        }
        certs.emplace_back(cert);
    }
    if (certs.size() != 1) {
        throw PolicyError(origin + ": holds " + std::to_string(certs.size()) +
                          " certificates; give each CA its own CSCGuardIssuer");
    }
    if (X509_check_ca(certs.front().get()) < 1) {
        drain_openssl_errors();
        throw PolicyError(origin + ": '" + name_to_string(*X509_get_subject_name(certs.front().get())) +
                          "' is not a CA certificate (basicConstraints CA:TRUE missing)");
    }
    return std::shared_ptr<const Issuer>(new Issuer(std::move(name), std::move(origin),
                                                    std::move(certs.front())));
}

std::shared_ptr<const Issuer> Issuer::load(std::string name, std::string path) {
    const std::string data = read_whole_file(path, "CA certificate");
    return from_pem(std::move(name), data, std::move(path));
}

bool Issuer::issued(X509& cert) const {
    const ClearErrorsOnReturn clear;
    const bool names_chain = X509_check_issued(cert_.get(), &cert) == X509_V_OK;
    return names_chain && X509_verify(&cert, X509_get0_pubkey(cert_.get())) == 1;
}

}  // namespace cscguard
