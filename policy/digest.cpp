#include "policy/digest.h"

#include <openssl/evp.h>
#include <openssl/sha.h>

#include "policy/error.h"
#include "policy/openssl_ptr.h"

namespace cscguard {
const EVP_MD* sha256_algorithm() {
    static EVP_MD* const md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    if (!md) throw PolicyError("cannot compute SHA-256: " + drain_openssl_errors());
    return md;
}

std::string sha256_of(std::string_view data) {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (EVP_Digest(data.data(), data.size(), md, &len, sha256_algorithm(), nullptr) != 1 || len != SHA256_DIGEST_LENGTH) {
        throw PolicyError("cannot compute SHA-256: " + drain_openssl_errors());
    }
    return std::string(reinterpret_cast<const char*>(md), len);
}

std::string to_hex(std::string_view raw) {
    static const char* hex = "0123456789abcdef";
    std::string out;
    out.reserve(raw.size() * 2);
    for (const unsigned char b : raw) {
        out += hex[b >> 4];
        out += hex[b & 15];
    }
    return out;
}

}  // namespace cscguard
