#include "policy/snapshot.h"

#include <cerrno>
#include <cstring>

#include <unistd.h>
#include <xxhash.h>

#include "policy/digest.h"
#include "policy/error.h"

namespace cscguard {
namespace {

constexpr std::string_view kMagic = "CSGSNAP1";
constexpr std::uint32_t kFormat = 2;  // 1: SHA-256 as the checksum
constexpr std::size_t kDigest = 32;     // a policy file's SHA-256
// The checksum: XXH3-128, not SHA-256. Every child checks a snapshot whole
// before it takes it; for 1M + 1M entries (42 MB) SHA-256 took 26 ms per
// child, XXH3 takes a few. Nothing is lost: a checksum in the file guards
// against damage, not forgery (whoever can write the file can recompute
// any hash), and the tables' own checks keep every lookup inside the file.
constexpr std::size_t kChecksum = sizeof(XXH128_canonical_t);

std::string checksum_bytes(XXH128_hash_t hash) {
    XXH128_canonical_t canonical;
    XXH128_canonicalFromHash(&canonical, hash);
    return std::string(reinterpret_cast<const char*>(canonical.digest), kChecksum);
}
constexpr std::uint32_t kMaxFiles = 65536;

template <typename T>
void put(std::string& out, T value) {
    for (std::size_t i = 0; i < sizeof(T); ++i) out += static_cast<char>((static_cast<std::uint64_t>(value) >> (8 * i)) & 0xff);
}

void put_text(std::string& out, std::string_view text) {
    put<std::uint32_t>(out, static_cast<std::uint32_t>(text.size()));
    out.append(text);
}

// Empty tables are written as what an empty builder makes, so every table
// in a snapshot opens.
std::string_view table_bytes(const SerialTable& table) {
    static const std::string empty = SerialTableBuilder().finish();
    return table.bytes().empty() ? std::string_view(empty) : table.bytes();
}

// Hands the snapshot to `sink` piece by piece: the small parts as built, the
// tables straight from where they are (tens of MB are never copied).
template <typename Sink>
void encode_body(Sink&& sink, std::uint64_t generation, std::uint64_t total, std::string_view configuration,
                 const std::vector<const CompiledFile*>& files) {
    std::string head(kMagic);
    put<std::uint32_t>(head, kFormat);
    put<std::uint32_t>(head, 0);
    put<std::uint64_t>(head, generation);
    put<std::uint64_t>(head, total);
    put_text(head, configuration);
    put<std::uint32_t>(head, static_cast<std::uint32_t>(files.size()));
    sink(head);
    for (const CompiledFile* file : files) {
        std::string meta;
        put_text(meta, file->path);
        put<std::uint64_t>(meta, file->stamp.device);
        put<std::uint64_t>(meta, file->stamp.inode);
        put<std::uint64_t>(meta, file->stamp.size);
        put<std::int64_t>(meta, file->stamp.mtime_ns);
        put<std::int64_t>(meta, file->stamp.ctime_ns);
        if (file->digest.size() != kDigest) throw PolicyError(file->path + ": no digest to write");
        meta += file->digest;
        put<std::uint8_t>(meta, static_cast<std::uint8_t>(file->kind));
        if (file->kind == CompiledFile::Kind::Allowlist) {
            put<std::uint64_t>(meta, table_bytes(file->allowlist).size());
            sink(meta);
            sink(table_bytes(file->allowlist));
            continue;
        }
        put<std::uint32_t>(meta, static_cast<std::uint32_t>(file->crls.size()));
        sink(meta);
        for (const auto& crl : file->crls) {
            std::string m;
            put_text(m, crl->issuer);
            put<std::uint16_t>(m, crl->issuer_index);
            put_text(m, crl->source);
            put_text(m, crl->number);
            put_text(m, crl->digest);
            put<std::int64_t>(m, crl->this_update);
            put<std::int64_t>(m, crl->next_update);
            put<std::uint64_t>(m, table_bytes(crl->revoked).size());
            sink(m);
            sink(table_bytes(crl->revoked));
        }
    }
}

// Writes the snapshot to `sink`, then the checksum of all of it.
template <typename Sink>
void encode(Sink&& sink, std::uint64_t generation, std::string_view configuration,
            const std::vector<const CompiledFile*>& files) {
    std::unique_ptr<XXH3_state_t, decltype(&XXH3_freeState)> state(XXH3_createState(), XXH3_freeState);
    if (!state || XXH3_128bits_reset(state.get()) != XXH_OK) throw std::bad_alloc();
    encode_body(
        [&](std::string_view piece) {
            XXH3_128bits_update(state.get(), piece.data(), piece.size());
            sink(piece);
        },
        generation, snapshot_size(configuration, files), configuration, files);
    sink(checksum_bytes(XXH3_128bits_digest(state.get())));
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

    std::string_view bytes(std::uint64_t size, const char* what) {
        need(size, what);
        const std::string_view out = data_.substr(at_, static_cast<std::size_t>(size));
        at_ += static_cast<std::size_t>(size);
        return out;
    }
    std::string text(const char* what) { return std::string(bytes(get<std::uint32_t>(what), what)); }

    bool done() const { return at_ == data_.size(); }
    [[noreturn]] void fail(const std::string& why) const { throw PolicyError(origin_ + ": not a policy snapshot: " + why); }

private:
    void need(std::uint64_t size, const char* what) const {
        if (size > data_.size() - at_) fail(std::string("truncated in ") + what);
    }

    std::string_view data_;
    const std::string& origin_;
    std::size_t at_ = 0;
};

SerialTable read_table(Reader& in, const std::shared_ptr<const void>& owner, const std::string& what) {
    const std::string_view bytes = in.bytes(in.get<std::uint64_t>("table size"), "table");
    try {
        return SerialTable::open(bytes, owner);
    } catch (const PolicyError& err) {
        in.fail(what + ": " + err.what());
    }
}

}  // namespace

const CompiledFile* Snapshot::find(const std::string& path) const {
    for (const auto& file : files) {
        if (file.path == path) return &file;
    }
    return nullptr;
}

std::uint64_t snapshot_size(std::string_view configuration, const std::vector<const CompiledFile*>& files) {
    std::uint64_t size = kChecksum;
    encode_body([&size](std::string_view piece) { size += piece.size(); }, 0, 0, configuration, files);
    return size;
}

std::string encode_snapshot(const Snapshot& snapshot) {
    std::vector<const CompiledFile*> files;
    for (const auto& file : snapshot.files) files.push_back(&file);
    std::string out;
    encode([&](std::string_view piece) { out.append(piece); }, snapshot.generation, snapshot.configuration, files);
    return out;
}

void write_snapshot(int fd, const std::string& origin, std::uint64_t generation, std::string_view configuration,
                    const std::vector<const CompiledFile*>& files) {
    // Written in pieces of at least 1 MiB: thousands of small writes to a
    // RAM disk cost more than the copy.
    std::string buffer;
    const auto flush = [&] {
        std::string_view piece = buffer;
        while (!piece.empty()) {
            const ssize_t n = ::write(fd, piece.data(), piece.size());
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) throw PolicyError(origin + ": cannot write: " + std::strerror(n < 0 ? errno : ENOSPC));
            piece.remove_prefix(static_cast<std::size_t>(n));
        }
        buffer.clear();
    };
    encode(
        [&](std::string_view piece) {
            buffer.append(piece);
            if (buffer.size() >= (std::size_t{1} << 20)) flush();
        },
        generation, configuration, files);
    flush();
}

std::optional<std::uint64_t> peek_generation(std::string_view head) {
    if (head.size() < kSnapshotHeadBytes || head.substr(0, kMagic.size()) != kMagic) return std::nullopt;
    std::uint64_t generation = 0;
    for (std::size_t i = 0; i < 8; ++i) {
        generation |= static_cast<std::uint64_t>(static_cast<unsigned char>(head[16 + i])) << (8 * i);
    }
    return generation;
}

Snapshot open_snapshot(std::string_view data, std::shared_ptr<const void> owner, const std::string& origin,
                       const std::vector<std::string>& issuer_names) {
    Reader header(data, origin);
    if (data.size() < kMagic.size() + 24 || data.substr(0, kMagic.size()) != kMagic) {
        header.fail("no " + std::string(kMagic) + " header");
    }
    header.bytes(kMagic.size(), "magic");
    // Format 1 differs only in its checksum (SHA-256): it is still read, so
    // that the first restart after an upgrade keeps the policy in force
    // before it (and its CRLs' rollback floor).
    const auto format = header.get<std::uint32_t>("format");
    if (format != kFormat && format != 1) {
        header.fail("format " + std::to_string(format) + ", this module reads formats 1 and " + std::to_string(kFormat));
    }
    const std::size_t trailer = format == 1 ? kDigest : kChecksum;
    if (data.size() < kMagic.size() + 24 + trailer) header.fail("no " + std::string(kMagic) + " header");
    const std::string_view body = data.substr(0, data.size() - trailer);
    const std::string expected =
        format == 1 ? sha256_of(body) : checksum_bytes(XXH3_128bits(body.data(), body.size()));
    if (expected != data.substr(body.size())) header.fail("its checksum does not match (damaged or truncated)");
    Reader in(body, origin);
    in.bytes(kMagic.size() + 4, "magic and format");
    if (in.get<std::uint32_t>("header") != 0) in.fail("unknown header flags");
    Snapshot snapshot;
    snapshot.generation = in.get<std::uint64_t>("generation");
    if (in.get<std::uint64_t>("size") != data.size()) in.fail("its recorded size does not match");
    snapshot.configuration = in.text("configuration");
    const auto count = in.get<std::uint32_t>("file count");
    if (count > kMaxFiles) in.fail("more than " + std::to_string(kMaxFiles) + " files");
    for (std::uint32_t i = 0; i < count; ++i) {
        CompiledFile file;
        file.path = in.text("path");
        file.stamp.exists = true;
        file.stamp.device = in.get<std::uint64_t>("stamp");
        file.stamp.inode = in.get<std::uint64_t>("stamp");
        file.stamp.size = in.get<std::uint64_t>("stamp");
        file.stamp.mtime_ns = in.get<std::int64_t>("stamp");
        file.stamp.ctime_ns = in.get<std::int64_t>("stamp");
        file.digest = std::string(in.bytes(kDigest, "digest"));
        const auto kind = in.get<std::uint8_t>("kind");
        if (kind == static_cast<std::uint8_t>(CompiledFile::Kind::Allowlist)) {
            file.kind = CompiledFile::Kind::Allowlist;
            file.allowlist = read_table(in, owner, file.path);
        } else if (kind == static_cast<std::uint8_t>(CompiledFile::Kind::Crl)) {
            file.kind = CompiledFile::Kind::Crl;
            const auto crls = in.get<std::uint32_t>("CRL count");
            if (crls > issuer_names.size()) in.fail(file.path + ": more CRLs than issuers");
            for (std::uint32_t c = 0; c < crls; ++c) {
                auto crl = std::make_shared<RevocationList>();
                crl->issuer = in.text("issuer");
                crl->issuer_index = in.get<std::uint16_t>("issuer index");
                if (crl->issuer_index >= issuer_names.size() || issuer_names[crl->issuer_index] != crl->issuer) {
                    in.fail(file.path + ": a CRL of issuer '" + crl->issuer + "', which is not declared at its index");
                }
                crl->source = in.text("source");
                crl->number = in.text("crlNumber");
                crl->digest = in.text("digest");
                crl->this_update = static_cast<std::time_t>(in.get<std::int64_t>("thisUpdate"));
                crl->next_update = static_cast<std::time_t>(in.get<std::int64_t>("nextUpdate"));
                crl->revoked = read_table(in, owner, file.path);
                file.crls.push_back(std::move(crl));
            }
        } else {
            in.fail(file.path + ": unknown kind " + std::to_string(kind));
        }
        snapshot.files.push_back(std::move(file));
    }
    if (!in.done()) in.fail("bytes after the last file");
    return snapshot;
}

}  // namespace cscguard
