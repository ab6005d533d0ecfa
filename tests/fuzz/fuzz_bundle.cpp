// Fuzz target: policy bundles (policy/bundle.h), the watcher's hand-over to
// every child.
//
// Three ways in, one input:
// - the input as a bundle file: anything but a whole, intact bundle is
//   refused with PolicyError; what is accepted encodes back to the same bytes;
// - the input as the content of a bundle (split into configuration, paths
//   and bytes at NUL bytes): what is encoded decodes to the same;
// - that encoding with one byte changed (where and how chosen by the input):
//   always refused - a checksum covers everything.
#include <string>
#include <vector>

#include "bundle.h"
#include "error.h"
#include "fuzz_check.h"

using namespace cscguard;
using cscguard::fuzz::shown;

namespace {

// Files made from one input at the most: the format's loops are the same for
// 16 files as for 400, and many tiny files only make each run slower.
constexpr std::size_t kMaxMadeFiles = 16;

std::vector<std::string_view> split_at_nul(std::string_view text) {
    std::vector<std::string_view> parts;
    for (std::size_t start = 0;;) {
        const std::size_t end = text.find('\0', start);
        parts.push_back(text.substr(start, end - start));
        if (end == std::string_view::npos) return parts;
        start = end + 1;
    }
}

bool same(const Bundle& a, const Bundle& b) {
    if (a.generation != b.generation || a.configuration != b.configuration || a.files.size() != b.files.size()) return false;
    for (std::size_t i = 0; i < a.files.size(); ++i) {
        if (a.files[i].path != b.files[i].path || a.files[i].bytes != b.files[i].bytes ||
            !(a.files[i].stamp == b.files[i].stamp)) {
            return false;
        }
    }
    return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text = fuzz::as_text(data, size);
    try {
        const Bundle read = decode_bundle(text, "fuzz.bundle");
        FUZZ_CHECK_MSG(encode_bundle(read) == text, shown(text));
    } catch (const PolicyError&) {
    }

    const std::vector<std::string_view> parts = split_at_nul(text);
    Bundle made;
    made.generation = size * 0x9E3779B97F4A7C15ULL;
    made.configuration = std::string(parts[0]);
    for (std::size_t i = 1; i + 1 < parts.size() && made.files.size() < kMaxMadeFiles; i += 2) {
        FileStamp stamp;
        stamp.exists = true;
        stamp.size = parts[i + 1].size();
        stamp.inode = i;
        stamp.mtime_ns = -static_cast<long long>(i);
        stamp.ctime_ns = static_cast<long long>(size);
        made.files.push_back({std::string(parts[i]), stamp, std::string(parts[i + 1]), {}});
    }
    const std::string encoded = encode_bundle(made);
    FUZZ_CHECK_MSG(same(decode_bundle(encoded, "made.bundle"), made), shown(text));

    if (size > 0) {
        std::string damaged = encoded;
        const std::size_t at = (static_cast<std::size_t>(data[0]) * 7919 + size) % damaged.size();
        damaged[at] = static_cast<char>(damaged[at] ^ (data[size - 1] | 1));
        bool refused = false;
        try {
            decode_bundle(damaged, "damaged.bundle");
        } catch (const PolicyError&) {
            refused = true;
        }
        FUZZ_CHECK_MSG(refused, "byte " + std::to_string(at) + " changed and still accepted: " + shown(text));
    }
    return 0;
}
