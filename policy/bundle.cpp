#include "bundle.h"

#include <openssl/sha.h>

#include "error.h"

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

std::string sha256(std::string_view data) {
    unsigned char md[kDigest];
    SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), md);
    return std::string(reinterpret_cast<const char*>(md), kDigest);
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

const PolicyFile* Bundle::find(const std::string& path) const {
    for (const auto& file : files) {
        if (file.path == path) return &file;
    }
    return nullptr;
}

std::string encode_bundle(const Bundle& bundle) {
    std::string out(kMagic);
    put<std::uint32_t>(out, kFormat);
    put<std::uint32_t>(out, 0);
    put<std::uint64_t>(out, bundle.generation);
    const std::size_t size_at = out.size();
    put<std::uint64_t>(out, 0);  // the total size, known at the end
    put_text(out, bundle.configuration, false);
    put<std::uint32_t>(out, static_cast<std::uint32_t>(bundle.files.size()));
    for (const auto& file : bundle.files) {
        put_text(out, file.path, false);
        put<std::uint64_t>(out, file.stamp.device);
        put<std::uint64_t>(out, file.stamp.inode);
        put<std::uint64_t>(out, file.stamp.size);
        put<std::int64_t>(out, file.stamp.mtime_ns);
        put<std::int64_t>(out, file.stamp.ctime_ns);
        put_text(out, file.bytes, true);
    }
    std::string total;
    put<std::uint64_t>(total, out.size() + kDigest);
    out.replace(size_at, total.size(), total);
    out += sha256(out);
    return out;
}

Bundle decode_bundle(std::string_view data, const std::string& origin) {
    Reader header(data, origin);
    if (data.size() < kMagic.size() + 24 + kDigest || data.substr(0, kMagic.size()) != kMagic) {
        header.fail("no CSGBUNDL header");
    }
    const std::string_view body = data.substr(0, data.size() - kDigest);
    if (sha256(body) != data.substr(body.size())) header.fail("its SHA-256 does not match (damaged or truncated)");
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
        file.bytes = in.text(in.get<std::uint64_t>("content"), "content");
        bundle.files.push_back(std::move(file));
    }
    if (!in.done()) in.fail("bytes after the last file");
    return bundle;
}

}  // namespace cscguard
