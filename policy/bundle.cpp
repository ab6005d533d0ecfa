#include "bundle.h"

#include <cerrno>
#include <cstring>

#include <openssl/evp.h>
#include <openssl/sha.h>
#include <unistd.h>

#include "error.h"
#include "openssl_ptr.h"

namespace cscguard {
namespace {

constexpr std::string_view kMagic = "CSGBUNDL";
constexpr std::uint32_t kFormat = 1;
constexpr std::size_t kDigest = SHA256_DIGEST_LENGTH;
constexpr std::uint32_t kMaxFiles = 65536;

template <typename T>
void put(std::string& out, T value) {
    for (std::size_t i = 0; i < sizeof(T); ++i) out += static_cast<char>((static_cast<std::uint64_t>(value) >> (8 * i)) & 0xff);
}

void put_text(std::string& out, std::string_view text, bool wide) {
    if (wide) put<std::uint64_t>(out, text.size());
    else put<std::uint32_t>(out, static_cast<std::uint32_t>(text.size()));
    out.append(text);
}


// Reads from a checked range; every read says what it wanted when it fails.
class Reader {
public:
    Reader(std::string_view data, const std::string& origin) : data_(data), origin_(origin) {}

    template <typename T>
    T get(const char* what) {
        need(sizeof(T), what);
        std::uint64_t value = 0;
        for (std::size_t i = 0; i < sizeof(T); ++i) value |= static_cast<std::uint64_t>(static_cast<unsigned char>(data_[at_ + i])) << (8 * i);
        at_ += sizeof(T);
        return static_cast<T>(value);
    }

    std::string text(std::uint64_t size, const char* what) {
        need(size, what);
        std::string out(data_.substr(at_, static_cast<std::size_t>(size)));
        at_ += static_cast<std::size_t>(size);
        return out;
    }

    bool done() const { return at_ == data_.size(); }
    [[noreturn]] void fail(const std::string& why) const { throw PolicyError(origin_ + ": not a policy bundle: " + why); }

private:
    void need(std::uint64_t size, const char* what) const {
        if (size > data_.size() - at_) fail(std::string("truncated in ") + what);
    }

    std::string_view data_;
    const std::string& origin_;
    std::size_t at_ = 0;
};

}  // namespace

namespace {

// Fetched once: OpenSSL 3's one-shot SHA256() fetches the algorithm on every
// call, which costs more than hashing a small file.
const EVP_MD* sha256() {
    static EVP_MD* const md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    if (!md) throw PolicyError("cannot compute SHA-256: " + drain_openssl_errors());
    return md;
}

}  // namespace

std::string sha256_of(std::string_view data) {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (EVP_Digest(data.data(), data.size(), md, &len, sha256(), nullptr) != 1 || len != kDigest) {
        throw PolicyError("cannot compute SHA-256: " + drain_openssl_errors());
    }
    return std::string(reinterpret_cast<const char*>(md), kDigest);
}

const PolicyFile* Bundle::find(const std::string& path) const {
    for (const auto& file : files) {
        if (file.path == path) return &file;
    }
    return nullptr;
}

namespace {

// Writes the bundle format piece by piece to a sink, hashing as it goes.
template <typename Sink>
void encode(Sink&& sink, std::uint64_t generation, std::string_view configuration,
            const std::vector<const PolicyFile*>& files) {
    using DigestPtr = OpenSslPtr<EVP_MD_CTX, EVP_MD_CTX_free>;
    DigestPtr sha(EVP_MD_CTX_new());
    if (!sha || EVP_DigestInit_ex(sha.get(), sha256(), nullptr) != 1) {
        throw PolicyError("cannot compute SHA-256: " + drain_openssl_errors());
    }
    const auto emit = [&](std::string_view piece) {
        EVP_DigestUpdate(sha.get(), piece.data(), piece.size());
        sink(piece);
    };
    std::string head(kMagic);
    put<std::uint32_t>(head, kFormat);
    put<std::uint32_t>(head, 0);
    put<std::uint64_t>(head, generation);
    put<std::uint64_t>(head, encoded_size(generation, configuration, files));
    put_text(head, configuration, false);
    put<std::uint32_t>(head, static_cast<std::uint32_t>(files.size()));
    emit(head);
    for (const PolicyFile* file : files) {
        std::string meta;
        put_text(meta, file->path, false);
        put<std::uint64_t>(meta, file->stamp.device);
        put<std::uint64_t>(meta, file->stamp.inode);
        put<std::uint64_t>(meta, file->stamp.size);
        put<std::int64_t>(meta, file->stamp.mtime_ns);
        put<std::int64_t>(meta, file->stamp.ctime_ns);
        meta += file->digest.size() == kDigest ? file->digest : sha256_of(file->bytes);
        put<std::uint64_t>(meta, file->bytes.size());
        emit(meta);
        emit(file->bytes);
    }
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (EVP_DigestFinal_ex(sha.get(), md, &len) != 1 || len != kDigest) {
        throw PolicyError("cannot compute SHA-256: " + drain_openssl_errors());
    }
    sink(std::string_view(reinterpret_cast<const char*>(md), kDigest));
}

std::vector<const PolicyFile*> pointers(const Bundle& bundle) {
    std::vector<const PolicyFile*> out;
    for (const auto& file : bundle.files) out.push_back(&file);
    return out;
}

}  // namespace

std::uint64_t encoded_size(std::uint64_t, std::string_view configuration, const std::vector<const PolicyFile*>& files) {
    std::uint64_t size = kMagic.size() + 4 + 4 + 8 + 8 + 4 + configuration.size() + 4 + kDigest;
    for (const PolicyFile* file : files) size += 4 + file->path.size() + 5 * 8 + kDigest + 8 + file->bytes.size();
    return size;
}

std::string encode_bundle(const Bundle& bundle) {
    std::string out;
    encode([&](std::string_view piece) { out.append(piece); }, bundle.generation, bundle.configuration,
           pointers(bundle));
    return out;
}

void write_bundle(int fd, const std::string& origin, std::uint64_t generation, std::string_view configuration,
                  const std::vector<const PolicyFile*>& files) {
    encode(
        [&](std::string_view piece) {
            while (!piece.empty()) {
                const ssize_t n = ::write(fd, piece.data(), piece.size());
                if (n < 0 && errno == EINTR) continue;
                if (n <= 0) throw PolicyError(origin + ": cannot write: " + std::strerror(n < 0 ? errno : ENOSPC));
                piece.remove_prefix(static_cast<std::size_t>(n));
            }
        },
        generation, configuration, files);
}

std::optional<std::uint64_t> peek_generation(std::string_view head) {
    if (head.size() < kBundleHeadBytes || head.substr(0, kMagic.size()) != kMagic) return std::nullopt;
    std::uint64_t generation = 0;
    for (std::size_t i = 0; i < 8; ++i) {
        generation |= static_cast<std::uint64_t>(static_cast<unsigned char>(head[16 + i])) << (8 * i);
    }
    return generation;
}

Bundle decode_bundle(std::string_view data, const std::string& origin) {
    Reader header(data, origin);
    if (data.size() < kMagic.size() + 24 + kDigest || data.substr(0, kMagic.size()) != kMagic) {
        header.fail("no CSGBUNDL header");
    }
    const std::string_view body = data.substr(0, data.size() - kDigest);
    if (sha256_of(body) != data.substr(body.size())) header.fail("its SHA-256 does not match (damaged or truncated)");
    Reader in(body, origin);
    in.text(kMagic.size(), "magic");
    if (const auto format = in.get<std::uint32_t>("format"); format != kFormat) {
        in.fail("format " + std::to_string(format) + ", this module reads format " + std::to_string(kFormat));
    }
    in.get<std::uint32_t>("header");
    Bundle bundle;
    bundle.generation = in.get<std::uint64_t>("generation");
    if (in.get<std::uint64_t>("size") != data.size()) in.fail("its recorded size does not match");
    bundle.configuration = in.text(in.get<std::uint32_t>("configuration"), "configuration");
    const auto count = in.get<std::uint32_t>("file count");
    if (count > kMaxFiles) in.fail("more than " + std::to_string(kMaxFiles) + " files");
    for (std::uint32_t i = 0; i < count; ++i) {
        PolicyFile file;
        file.path = in.text(in.get<std::uint32_t>("path"), "path");
        file.stamp.exists = true;
        file.stamp.device = in.get<std::uint64_t>("stamp");
        file.stamp.inode = in.get<std::uint64_t>("stamp");
        file.stamp.size = in.get<std::uint64_t>("stamp");
        file.stamp.mtime_ns = in.get<std::int64_t>("stamp");
        file.stamp.ctime_ns = in.get<std::int64_t>("stamp");
        file.digest = in.text(kDigest, "digest");
        file.bytes = in.text(in.get<std::uint64_t>("content"), "content");
        if (sha256_of(file.bytes) != file.digest) in.fail("the digest of " + file.path + " does not match");
        bundle.files.push_back(std::move(file));
    }
    if (!in.done()) in.fail("bytes after the last file");
    return bundle;
}

}  // namespace cscguard
