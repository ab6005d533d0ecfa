// Owning smart pointers for OpenSSL objects and a reader for its error queue.
// Every OpenSSL object the core creates is held by one of these, so no path
// (including an exception) leaks it.
#pragma once

#include <memory>
#include <string>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

namespace cscguard {

template <typename T, void (*Free)(T*)>
struct OpenSslDeleter {
    void operator()(T* p) const noexcept { Free(p); }
};

template <typename T, void (*Free)(T*)>
using OpenSslPtr = std::unique_ptr<T, OpenSslDeleter<T, Free>>;

// BIO_free returns int, so it needs a void wrapper to fit the deleter.
inline void bio_free_void(BIO* b) { BIO_free(b); }

// OPENSSL_free is a macro; bytes OpenSSL allocated for us (ASN1_STRING_to_UTF8, i2d_*).
inline void openssl_free_bytes(unsigned char* p) { OPENSSL_free(p); }

using BioPtr = OpenSslPtr<BIO, bio_free_void>;
using BytesPtr = OpenSslPtr<unsigned char, openssl_free_bytes>;
using Asn1ObjectPtr = OpenSslPtr<ASN1_OBJECT, ASN1_OBJECT_free>;
using Asn1IntegerPtr = OpenSslPtr<ASN1_INTEGER, ASN1_INTEGER_free>;
using X509Ptr = OpenSslPtr<X509, X509_free>;
using BignumPtr = OpenSslPtr<BIGNUM, BN_free>;
using EvpPkeyPtr = OpenSslPtr<EVP_PKEY, EVP_PKEY_free>;
using GeneralNamesPtr = OpenSslPtr<GENERAL_NAMES, GENERAL_NAMES_free>;

// Clears OpenSSL's thread-local error queue when the scope ends, however it
// ends (ncrypto's ClearErrorOnReturn): an error a failed lookup left behind
// (an absent extension, an unknown name, a PEM reader's end of input) is never
// reported later by an unrelated caller as its own.
class ClearErrorsOnReturn {
public:
    ClearErrorsOnReturn() = default;
    ~ClearErrorsOnReturn() { ERR_clear_error(); }
    ClearErrorsOnReturn(const ClearErrorsOnReturn&) = delete;
    ClearErrorsOnReturn& operator=(const ClearErrorsOnReturn&) = delete;
};

// Drains OpenSSL's thread-local error queue into one readable string
// ("" when empty), so the next caller starts from a clean queue.
std::string drain_openssl_errors();

}  // namespace cscguard
