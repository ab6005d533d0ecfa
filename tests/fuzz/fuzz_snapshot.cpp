// Fuzz target: policy snapshots (policy/snapshot.h) and their serial tables
// (policy/serial_table.h), what every child maps and searches in place.
//
// The checksum (XXH3-128) in a snapshot guards against damage, not forgery:
// whoever can write the file can make any content check out. So the tables' own checks are
// what keeps a lookup inside the mapping, and they get the raw input too.
//
// Four ways in, one input:
// - the input as a serial table: refused, or searched for serials taken
//   from the input without reading outside it (ASan watches);
// - the input as a snapshot file: anything but an intact snapshot is
//   refused; what is accepted encodes back to the same bytes;
// - the input as the content of a snapshot (split at NUL bytes into
//   configuration, then path and serials per file; every other file a CRL
//   file): what is encoded opens to the same, and every serial is found;
// - that encoding with one byte changed: always refused.
#include <memory>
#include <string>
#include <vector>

#include "policy/error.h"
#include "tests/fuzz/fuzz_check.h"
#include "policy/snapshot.h"

using namespace cscguard;
using cscguard::fuzz::shown;

namespace {

const std::vector<std::string> kIssuers{"kitty", "acme"};

// Files made from one input at the most: the loops are the same for 16 as
// for 400, and many tiny files only make each run slower.
constexpr std::size_t kMaxMadeFiles = 16;

std::vector<std::string_view> split(std::string_view text, char at) {
    std::vector<std::string_view> parts;
    for (std::size_t start = 0;;) {
        const std::size_t end = text.find(at, start);
        parts.push_back(text.substr(start, end - start));
        if (end == std::string_view::npos) return parts;
        start = end + 1;
    }
}

// The words of `text` that are serials.
std::vector<SerialOctets> serials_in(std::string_view text) {
    std::vector<SerialOctets> out;
    for (std::string_view word : split(text, ' ')) {
        SerialOctets octets;
        if (SerialOctets::parse(word, octets)) out.push_back(octets);
    }
    return out;
}

SerialTable table_of(const std::vector<SerialOctets>& serials, std::uint16_t issuer) {
    SerialTableBuilder builder;
    for (const auto& s : serials) builder.add(issuer, s);
    return builder.build();
}

void search_raw_table(std::string_view text) {
    try {
        const SerialTable table = SerialTable::open(text, nullptr);
        for (const auto& s : serials_in(text)) (void)table.contains(0, s);
        SerialOctets zero;
        (void)table.contains(1, zero);
    } catch (const PolicyError&) {
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text = fuzz::as_text(data, size);
    search_raw_table(text);
    try {
        const Snapshot read = open_snapshot(text, nullptr, "fuzz.snapshot", kIssuers);
        FUZZ_CHECK_MSG(encode_snapshot(read) == text, shown(text));
    } catch (const PolicyError&) {
    }

    const std::vector<std::string_view> parts = split(text, '\0');
    Snapshot made;
    made.generation = size * 0x9E3779B97F4A7C15ULL;
    made.configuration = std::string(parts[0]);
    std::vector<std::vector<SerialOctets>> listed;
    for (std::size_t i = 1; i + 1 < parts.size() && made.files.size() < kMaxMadeFiles; i += 2) {
        CompiledFile file;
        file.path = std::string(parts[i]);
        file.stamp.exists = true;
        file.stamp.inode = i;
        file.stamp.mtime_ns = -static_cast<long long>(i);
        file.digest = sha256_of(parts[i + 1]);
        listed.push_back(serials_in(parts[i + 1]));
        const auto issuer = static_cast<std::uint16_t>(made.files.size() % 2);
        if (made.files.size() % 2 == 0) {
            file.allowlist = table_of(listed.back(), issuer);
        } else {
            file.kind = CompiledFile::Kind::Crl;
            auto crl = std::make_shared<RevocationList>();
            crl->issuer = kIssuers[issuer];
            crl->issuer_index = issuer;
            crl->number = std::to_string(i);
            crl->revoked = table_of(listed.back(), issuer);
            file.crls.push_back(std::move(crl));
        }
        made.files.push_back(std::move(file));
    }
    const std::string encoded = encode_snapshot(made);
    const Snapshot back = open_snapshot(encoded, nullptr, "made.snapshot", kIssuers);
    FUZZ_CHECK_MSG(encode_snapshot(back) == encoded, shown(text));
    FUZZ_CHECK_MSG(back.files.size() == made.files.size(), shown(text));
    for (std::size_t f = 0; f < back.files.size(); ++f) {
        const auto issuer = static_cast<std::uint16_t>(f % 2);
        const SerialTable& table = f % 2 == 0 ? back.files[f].allowlist : back.files[f].crls.at(0)->revoked;
        for (const auto& s : listed[f]) {
            FUZZ_CHECK_MSG(table.contains(issuer, s), "a serial of file " + std::to_string(f) + " is lost: " + shown(text));
            FUZZ_CHECK_MSG(!table.contains(static_cast<std::uint16_t>(issuer + 2), s), "found under another issuer");
        }
    }

    if (size > 0) {
        std::string damaged = encoded;
        const std::size_t at = (static_cast<std::size_t>(data[0]) * 7919 + size) % damaged.size();
        damaged[at] = static_cast<char>(damaged[at] ^ (data[size - 1] | 1));
        bool refused = false;
        try {
            open_snapshot(damaged, nullptr, "damaged.snapshot", kIssuers);
        } catch (const PolicyError&) {
            refused = true;
        }
        FUZZ_CHECK_MSG(refused, "byte " + std::to_string(at) + " changed and still accepted: " + shown(text));
    }
    return 0;
}
