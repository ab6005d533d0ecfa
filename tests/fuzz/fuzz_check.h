// Shared by the libFuzzer targets: how a broken invariant is reported.
//
// A target catches only the error type its parser documents (PolicyError or
// ToolError). Any other exception escapes LLVMFuzzerTestOneInput, so
// std::terminate aborts with the throw site still on the stack; a broken
// invariant traps. libFuzzer reports both as a crash and saves the input.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

namespace cscguard::fuzz {

[[noreturn]] inline void fail(const char* file, int line, const char* what, const std::string& detail) {
    std::fprintf(stderr, "\n==FUZZ INVARIANT BROKEN== %s:%d: %s\n", file, line, what);
    if (!detail.empty()) std::fprintf(stderr, "  %s\n", detail.c_str());
    std::fflush(stderr);
    __builtin_trap();
}

inline std::string_view as_text(const std::uint8_t* data, std::size_t size) {
    return {reinterpret_cast<const char*>(data), size};
}

// The input as a C-ish literal, for invariant messages.
inline std::string shown(std::string_view text, std::size_t max = 300) {
    static const char* hex = "0123456789abcdef";
    std::string out = "\"";
    for (std::size_t i = 0; i < text.size() && i < max; ++i) {
        const auto c = static_cast<unsigned char>(text[i]);
        if (c == '"' || c == '\\') {
            out += '\\';
            out += static_cast<char>(c);
        } else if (c >= 0x20 && c < 0x7f) {
            out += static_cast<char>(c);
        } else {
            out += "\\x";
            out += hex[c >> 4];
            out += hex[c & 15];
        }
    }
    if (text.size() > max) out += "...";
    return out + "\"";
}

}  // namespace cscguard::fuzz

#define FUZZ_CHECK(cond) \
    ((cond) ? (void)0 : ::cscguard::fuzz::fail(__FILE__, __LINE__, #cond, std::string()))
#define FUZZ_CHECK_MSG(cond, detail) \
    ((cond) ? (void)0 : ::cscguard::fuzz::fail(__FILE__, __LINE__, #cond, (detail)))
