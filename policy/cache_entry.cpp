#include "policy/cache_entry.h"

#include <algorithm>
#include <cstdio>
#include <openssl/evp.h>
#include <openssl/x509v3.h>

#include "policy/crl.h"
#include "policy/crl_reason.h"
#include "policy/digest.h"
#include "policy/error.h"
#include "policy/openssl_ptr.h"

namespace cscguard {
namespace {

constexpr std::string_view kEntryWord = "revoked";
constexpr std::string_view kMarkerWord = "cscguard-revocation-cache";
constexpr std::string_view kMarkerVersion = "1";

// `value` split at single spaces into exactly `count` words, or an error.
std::vector<std::string_view> words_of(std::string_view value, std::size_t count, const char* what) {
    if (value.size() > kMaxCacheValueSize) {
        throw PolicyError(std::string(what) + " is " + std::to_string(value.size()) + " bytes, more than " +
                          std::to_string(kMaxCacheValueSize));
    }
    for (char c : value) {
        if (c < 0x21 && c != ' ') throw PolicyError(std::string(what) + " holds a control character");
        if (static_cast<unsigned char>(c) > 0x7E) throw PolicyError(std::string(what) + " holds a byte that is not ASCII");
    }
    std::vector<std::string_view> words;
    std::size_t start = 0;
    while (start <= value.size()) {
        const std::size_t space = value.find(' ', start);
        const std::size_t end = space == std::string_view::npos ? value.size() : space;
        words.push_back(value.substr(start, end - start));
        if (space == std::string_view::npos) break;
        start = space + 1;
    }
    if (words.size() != count) {
        throw PolicyError(std::string(what) + " has " + std::to_string(words.size()) + " words, not " +
                          std::to_string(count));
    }
    for (std::string_view word : words) {
        if (word.empty()) throw PolicyError(std::string(what) + " has an empty word");
    }
    return words;
}

}  // namespace

Bytes issuer_key_id(X509& ca) {
    if (const ASN1_OCTET_STRING* ski = X509_get0_subject_key_id(&ca); ski && ASN1_STRING_length(ski) > 0) {
        const unsigned char* data = ASN1_STRING_get0_data(ski);
        return Bytes(data, data + ASN1_STRING_length(ski));
    }
    const ASN1_BIT_STRING* key = X509_get0_pubkey_bitstr(&ca);
    if (!key) throw PolicyError("the CA certificate has no public key");
    unsigned char sha1[EVP_MAX_MD_SIZE];
    unsigned int size = 0;
    if (!EVP_Digest(ASN1_STRING_get0_data(key), static_cast<std::size_t>(ASN1_STRING_length(key)), sha1, &size,
                    EVP_sha1(), nullptr)) {
        throw PolicyError("cannot hash the CA's public key: " + drain_openssl_errors());
    }
    return Bytes(sha1, sha1 + size);
}

Bytes cache_entry_id(const Bytes& key_id, const Serial& serial) {
    SerialOctets octets;
    if (!SerialOctets::parse(serial.canonical(), octets)) throw PolicyError("not a serial: " + serial.canonical());
    if (key_id.empty() || 1 + key_id.size() + 1 + octets.size > kMaxCacheIdSize) {
        throw PolicyError("an issuer key id of " + std::to_string(key_id.size()) +
                          " bytes cannot name a revocation cache entry");
    }
    Bytes id;
    id.reserve(2 + key_id.size() + octets.size);
    id.push_back(static_cast<unsigned char>(key_id.size()));
    id.insert(id.end(), key_id.begin(), key_id.end());
    id.push_back(octets.negative ? 1 : 0);
    id.insert(id.end(), octets.bytes, octets.bytes + octets.size);
    return id;
}

Bytes cache_marker_id(const Bytes& key_id) {
    Bytes id(1 + key_id.size(), 0);  // [0][key id]
    std::copy(key_id.begin(), key_id.end(), id.begin() + 1);
    return id;
}

std::string redis_key(const Bytes& id) {
    return std::string(kCacheNamespace) + ":" +
           to_hex(std::string_view(reinterpret_cast<const char*>(id.data()), id.size()));
}

std::string format_cache_entry(const CachedRevocation& entry) {
    return std::string(kEntryWord) + " " + entry.reason + " " + format_iso_utc(entry.revoked_at);
}

CachedRevocation parse_cache_entry(std::string_view value) {
    const auto words = words_of(value, 3, "the revocation entry");
    if (words[0] != kEntryWord) throw PolicyError("the revocation entry does not start with \"revoked\"");
    if (!crl_reason_code(words[1])) throw PolicyError("the revocation entry names no CRLReason");
    return {std::string(words[1]), parse_iso_utc(words[2])};
}

std::string format_cache_marker(std::time_t pushed_at) {
    return std::string(kMarkerWord) + " " + std::string(kMarkerVersion) + " " + format_iso_utc(pushed_at);
}

std::time_t parse_cache_marker(std::string_view value) {
    const auto words = words_of(value, 3, "the cache marker");
    if (words[0] != kMarkerWord) throw PolicyError("the cache marker is not cscguard's");
    if (words[1] != kMarkerVersion) throw PolicyError("the cache marker has an unknown version");
    return parse_iso_utc(words[2]);
}

std::time_t parse_iso_utc(std::string_view text) {
    // Exactly YYYY-MM-DDTHH:MM:SSZ, digits where digits go.
    static constexpr std::string_view kShape = "0000-00-00T00:00:00Z";
    bool shaped = text.size() == kShape.size();
    for (std::size_t i = 0; shaped && i < text.size(); ++i) {
        shaped = kShape[i] == '0' ? (text[i] >= '0' && text[i] <= '9') : text[i] == kShape[i];
    }
    if (!shaped) throw PolicyError("a time is not written YYYY-MM-DDTHH:MM:SSZ");
    auto number = [text](std::size_t at, std::size_t digits) {
        int value = 0;
        for (std::size_t i = at; i < at + digits; ++i) value = value * 10 + (text[i] - '0');
        return value;
    };
    struct tm tm {};
    tm.tm_year = number(0, 4) - 1900;
    tm.tm_mon = number(5, 2) - 1;
    tm.tm_mday = number(8, 2);
    tm.tm_hour = number(11, 2);
    tm.tm_min = number(14, 2);
    tm.tm_sec = number(17, 2);
    const std::time_t t = timegm(&tm);
    if (format_iso_utc(t) != text) throw PolicyError("a time names no real moment");  // 02-30, 25:00...
    return t;
}

}  // namespace cscguard
