#include "policy/serial_table.h"

#include <algorithm>
#include <cstring>

#include "policy/error.h"

namespace cscguard {
namespace {

constexpr std::size_t kHeaderBytes = 8;
constexpr std::size_t kKeyPrefix = 3;  // issuer index, sign and octet count
constexpr std::size_t kMaxWidth = kKeyPrefix + kMaxTableSerialOctets;

std::uint32_t load32(const unsigned char* p) {
    std::uint32_t v;
    std::memcpy(&v, p, 4);
    return v;
}

std::uint16_t load16(const unsigned char* p) {
    std::uint16_t v;
    std::memcpy(&v, p, 2);
    return v;
}

void put32(std::string& out, std::size_t at, std::uint32_t v) { std::memcpy(out.data() + at, &v, 4); }

// A fixed, seedless 64-bit hash of one key: words folded in with a multiply,
// then the splitmix64 finaliser, so the top bits (the bucket) are well mixed.
std::uint64_t hash_key(const unsigned char* p, std::size_t n) {
    std::uint64_t h = 0x9E3779B97F4A7C15ull ^ n;
    for (; n >= 8; p += 8, n -= 8) {
        std::uint64_t w;
        std::memcpy(&w, p, 8);
        h = (h ^ w) * 0xFF51AFD7ED558CCDull;
        h ^= h >> 32;
    }
    if (n) {
        std::uint64_t w = 0;
        std::memcpy(&w, p, n);
        h = (h ^ w) * 0xC4CEB9FE1A85EC53ull;
    }
    h ^= h >> 30;
    h *= 0xBF58476D1CE4E5B9ull;
    h ^= h >> 27;
    h *= 0x94D049BB133111EBull;
    return h ^ (h >> 31);
}

std::size_t bucket_of(std::uint64_t hash, unsigned bits) { return bits ? static_cast<std::size_t>(hash >> (64 - bits)) : 0; }

// About two keys per bucket: the index stays small (4 bytes per 2 keys) and a
// lookup still reads one cache line or two.
unsigned bits_for(std::size_t count) {
    unsigned bits = 0;
    while (bits < 31 && (std::size_t{1} << (bits + 1)) <= count) ++bits;
    return bits;
}

// Writes the key of (issuer, magnitude, negative) into `key` (`width` bytes).
void make_key(unsigned char* key, std::size_t width, std::uint16_t issuer, const unsigned char* magnitude,
              std::size_t size, bool negative) {
    std::memcpy(key, &issuer, 2);
    key[2] = static_cast<unsigned char>((negative ? 0x80 : 0) | size);
    std::memcpy(key + kKeyPrefix, magnitude, size);
    std::memset(key + kKeyPrefix + size, 0, width - kKeyPrefix - size);
}

int hex_value(char c) { return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10; }

}  // namespace

SerialTable SerialTable::open(std::string_view bytes, std::shared_ptr<const void> owner) {
    const auto bad = [](const std::string& why) { return PolicyError("serial table: " + why); };
    if (bytes.size() < kHeaderBytes) throw bad("shorter than its header");
    const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
    SerialTable t;
    t.count_ = load32(p);
    t.width_ = load16(p + 4);
    t.bits_ = p[6];
    if (p[7] != 0) throw bad("unknown flags");
    if (t.bits_ > 31) throw bad("bucket bits out of range");
    if (t.width_ < kKeyPrefix || t.width_ > kMaxWidth) throw bad("key width out of range");
    const std::uint64_t buckets = (std::uint64_t{1} << t.bits_) + 1;
    const std::uint64_t want = kHeaderBytes + buckets * 4 + std::uint64_t{t.count_} * t.width_;
    if (want != bytes.size()) throw bad("its size does not match its count and width");
    t.buckets_ = p + kHeaderBytes;
    t.keys_ = t.buckets_ + buckets * 4;
    // Every bucket's range must lie inside the keys, so a lookup never reads
    // beyond them whatever the file says.
    std::uint32_t last = 0;
    for (std::uint64_t b = 0; b < buckets; ++b) {
        const std::uint32_t start = load32(t.buckets_ + b * 4);
        if (start < last || start > t.count_ || (b == 0 && start != 0)) throw bad("damaged bucket index");
        last = start;
    }
    if (last != t.count_) throw bad("damaged bucket index");
    t.bytes_ = bytes;
    t.owner_ = std::move(owner);
    return t;
}

bool SerialTable::contains(std::uint16_t issuer, const SerialOctets& serial) const {
    std::string_view magnitude = serial.view();
    while (!magnitude.empty() && magnitude.front() == '\0') magnitude.remove_prefix(1);
    return find(issuer, reinterpret_cast<const unsigned char*>(magnitude.data()), magnitude.size(),
                serial.negative && !magnitude.empty());
}

bool SerialTable::find(std::uint16_t issuer, const unsigned char* magnitude, std::size_t size, bool negative) const {
    if (count_ == 0 || kKeyPrefix + size > width_) return false;
    unsigned char key[kMaxWidth];
    make_key(key, width_, issuer, magnitude, size, negative);
    const std::size_t b = bucket_of(hash_key(key, width_), bits_);
    // Checked by open(), clamped again: the mapping is shared with a file its
    // owner could still rewrite in place.
    const std::uint32_t end = std::min(load32(buckets_ + (b + 1) * 4), count_);
    for (std::uint32_t i = load32(buckets_ + b * 4); i < end; ++i) {
        if (std::memcmp(keys_ + std::size_t{i} * width_, key, width_) == 0) return true;
    }
    return false;
}

bool SerialTable::contains(std::uint16_t issuer, const Serial& serial) const {
    // From the canonical spelling, which may be longer than a list accepts
    // (a certificate's serial), up to what a CRL may hold.
    std::string_view hex = serial.canonical();
    const bool negative = !hex.empty() && hex.front() == '-';
    if (negative) hex.remove_prefix(1);
    while (!hex.empty() && hex.front() == '0') hex.remove_prefix(1);
    const std::size_t octets = (hex.size() + 1) / 2;
    if (count_ == 0 || octets > kMaxTableSerialOctets) return false;
    unsigned char magnitude[kMaxTableSerialOctets];
    std::size_t d = 0;
    std::size_t o = 0;
    if (hex.size() % 2) magnitude[o++] = static_cast<unsigned char>(hex_value(hex[d++]));
    for (; d < hex.size(); d += 2) {
        magnitude[o++] = static_cast<unsigned char>(hex_value(hex[d]) << 4 | hex_value(hex[d + 1]));
    }
    return find(issuer, magnitude, octets, negative && octets > 0);
}

void SerialTableBuilder::reserve(std::size_t entries, std::size_t octets) {
    offsets_.reserve(entries);
    entries_.reserve(entries * kKeyPrefix + octets);
}

void SerialTableBuilder::add(std::uint16_t issuer, std::string_view magnitude, bool negative) {
    while (!magnitude.empty() && magnitude.front() == '\0') magnitude.remove_prefix(1);
    if (magnitude.size() > kMaxTableSerialOctets) {
        throw PolicyError("a serial of " + std::to_string(magnitude.size()) + " octets (at most " +
                          std::to_string(kMaxTableSerialOctets) + " are supported)");
    }
    if (offsets_.size() >= 0xFFFFFFFFu || entries_.size() > 0xFFFFFFFFu - kMaxWidth) {
        throw PolicyError("more entries than a table holds");
    }
    const std::size_t at = entries_.size();
    offsets_.push_back(static_cast<std::uint32_t>(at));
    entries_.resize(at + kKeyPrefix + magnitude.size());
    unsigned char* e = entries_.data() + at;
    std::memcpy(e, &issuer, 2);
    e[2] = static_cast<unsigned char>((negative && !magnitude.empty() ? 0x80 : 0) | magnitude.size());
    std::memcpy(e + kKeyPrefix, magnitude.data(), magnitude.size());
    longest_ = std::max(longest_, magnitude.size());
}

std::string SerialTableBuilder::finish() {
    const std::size_t width = kKeyPrefix + longest_;
    const auto entry = [this](std::uint32_t offset) { return entries_.data() + offset; };
    const auto entry_size = [](const unsigned char* e) { return kKeyPrefix + (e[2] & 0x7F); };
    const std::size_t added = offsets_.size();
    const unsigned bits = bits_for(added);
    const std::size_t buckets = (std::size_t{1} << bits) + 1;

    // A counting sort by bucket (the bucket index is its prefix sum): no
    // comparisons, two passes over the entries.
    std::vector<std::uint32_t> bucket(added);
    std::vector<std::uint32_t> start(buckets + 1, 0);
    unsigned char key[kMaxWidth];
    for (std::size_t i = 0; i < added; ++i) {
        const unsigned char* e = entry(offsets_[i]);
        std::memcpy(key, e, entry_size(e));
        std::memset(key + entry_size(e), 0, width - entry_size(e));
        bucket[i] = static_cast<std::uint32_t>(bucket_of(hash_key(key, width), bits));
        ++start[bucket[i] + 1];
    }
    for (std::size_t b = 0; b < buckets; ++b) start[b + 1] += start[b];
    std::vector<std::uint32_t> order(added);
    {
        std::vector<std::uint32_t> next(start.begin(), start.end() - 1);
        for (std::size_t i = 0; i < added; ++i) order[next[bucket[i]]++] = offsets_[i];
    }
    std::vector<std::uint32_t>().swap(bucket);
    std::vector<std::uint32_t>().swap(offsets_);

    // Each bucket's keys, a duplicate kept once (buckets hold about two).
    std::string out(kHeaderBytes + buckets * 4 + added * width, '\0');  // zeros: the keys' padding
    char* key_out = out.data() + kHeaderBytes + buckets * 4;
    std::size_t count = 0;
    for (std::size_t b = 0; b + 1 < buckets; ++b) {
        put32(out, kHeaderBytes + b * 4, static_cast<std::uint32_t>(count));
        const std::size_t first = count;
        for (std::uint32_t i = start[b]; i < start[b + 1]; ++i) {
            const unsigned char* e = entry(order[i]);
            bool seen = false;  // the same issuer, sign, length (one byte) and octets
            for (std::size_t k = first; k < count && !seen; ++k) seen = std::memcmp(key_out + k * width, e, entry_size(e)) == 0;
            if (!seen) std::memcpy(key_out + count++ * width, e, entry_size(e));
        }
    }
    put32(out, kHeaderBytes + (buckets - 1) * 4, static_cast<std::uint32_t>(count));
    put32(out, 0, static_cast<std::uint32_t>(count));
    const auto w16 = static_cast<std::uint16_t>(width);
    std::memcpy(out.data() + 4, &w16, 2);
    out[6] = static_cast<char>(bits);
    out.resize(kHeaderBytes + buckets * 4 + count * width);  // without the duplicates' room
    std::vector<unsigned char>().swap(entries_);
    longest_ = 0;
    return out;
}

SerialTable SerialTableBuilder::build() {
    auto bytes = std::make_shared<const std::string>(finish());
    return SerialTable::open(*bytes, bytes);
}

}  // namespace cscguard
