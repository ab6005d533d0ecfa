// Owning smart pointers for OpenSSL objects and a reader for its error queue.
// Every OpenSSL object the core creates is held by one of these, so no path
// (including an exception) leaks it.
#pragma once

#include <memory>
#include <string>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
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

using BioPtr = OpenSslPtr<BIO, bio_free_void>;
using X509Ptr = OpenSslPtr<X509, X509_free>;
using BignumPtr = OpenSslPtr<BIGNUM, BN_free>;
using EvpPkeyPtr = OpenSslPtr<EVP_PKEY, EVP_PKEY_free>;
using GeneralNamesPtr = OpenSslPtr<GENERAL_NAMES, GENERAL_NAMES_free>;

// Drains OpenSSL's thread-local error queue into one readable string
// ("" when empty), so the next caller starts from a clean queue.
std::string drain_openssl_errors();

}  // namespace cscguard
