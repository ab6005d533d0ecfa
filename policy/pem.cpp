#include "policy/pem.h"

#include <openssl/evp.h>

namespace cscguard {
namespace {

constexpr std::string_view kBegin = "-----BEGIN ";
constexpr std::string_view kDashes = "-----";

bool is_base64(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/';
}

// The next whole BEGIN line at or after `from`: its label and where the line
// after it starts. A BEGIN line torn before its closing dashes is skipped, as
// PEM_read_bio skips it (the caller counts BEGIN lines to notice).
bool next_begin(std::string_view text, std::size_t from, std::string_view& label, std::size_t& body) {
    for (std::size_t at = text.find(kBegin, from); at != std::string_view::npos; at = text.find(kBegin, at + 1)) {
        if (at != 0 && text[at - 1] != '\n') continue;
        const std::size_t eol = text.find('\n', at);
        std::string_view line = text.substr(at, eol == std::string_view::npos ? std::string_view::npos : eol - at);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        if (eol == std::string_view::npos || line.size() < kBegin.size() + kDashes.size() ||
            line.substr(line.size() - kDashes.size()) != kDashes) {
            continue;
        }
        label = line.substr(kBegin.size(), line.size() - kBegin.size() - kDashes.size());
        body = eol + 1;
        return true;
    }
    return false;
}

// Decodes the base64 lines of one block (no headers); false and `why` when
// they are not base64.
bool decode(std::string_view body, std::string& der, std::string& why) {
    std::string b64;
    b64.reserve(body.size());
    std::size_t padding = 0;
    for (const char c : body) {
        if (c == '\n' || c == '\r') continue;
        if (c == '=' && padding < 2) {
            ++padding;
        } else if (!is_base64(c) || padding) {
            why = "not base64";
            return false;
        }
        b64 += c;
    }
    if (b64.empty() || b64.size() % 4 != 0) {
        why = "its base64 is cut short";
        return false;
    }
    der.assign(b64.size() / 4 * 3, '\0');
    const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(der.data()),
                                  reinterpret_cast<const unsigned char*>(b64.data()), static_cast<int>(b64.size()));
    if (n < 0 || static_cast<std::size_t>(n) != der.size()) {
        why = "not base64";
        return false;
    }
    der.resize(der.size() - padding);
    return true;
}

}  // namespace

PemRead read_pem(std::string_view text) {
    PemRead read;
    std::string_view label;
    std::size_t body = 0;
    for (std::size_t from = 0; next_begin(text, from, label, body);) {
        const std::size_t number = read.blocks.size() + 1;
        const std::string end_line = "\n" + std::string(kDashes) + "END " + std::string(label) + std::string(kDashes);
        const std::size_t end = text.find(end_line, body - 1);
        if (end != std::string_view::npos && end < body) {  // the END line right after the BEGIN line
            read.damaged = number;
            read.why = "it is empty";
            return read;
        }
        if (end == std::string_view::npos) {
            read.damaged = number;
            read.why = "has no END line";
            return read;
        }
        // The END line ends where the text or its line does: "-----END X509
        // CRL-----abc" is a torn or foreign line, not an END line.
        std::size_t after = end + end_line.size();
        if (after < text.size() && text[after] == '\r') ++after;
        if (after < text.size() && text[after] != '\n') {
            read.damaged = number;
            read.why = "its END line goes on after the dashes";
            return read;
        }
        PemBlock block;
        block.label = std::string(label);
        const std::string_view lines = text.substr(body, end - body);
        if (lines.find(':') != std::string_view::npos) {
            read.damaged = number;
            read.headers = true;
            read.why = "has PEM headers (encrypted?)";
            return read;
        }
        // OpenSSL's reader stops at an empty line - also one right before the
        // END line - and takes the lines before it for headers it refuses;
        // reading the block anyway would accept one OpenSSL (and mod_ssl) do
        // not. `framed` is the lines with the END line's leading newline.
        const std::string_view framed = text.substr(body, end + 1 - body);
        if (framed.substr(0, 1) == "\n" || framed.substr(0, 2) == "\r\n" ||
            framed.find("\n\n") != std::string_view::npos || framed.find("\n\r\n") != std::string_view::npos) {
            read.damaged = number;
            read.why = "has an empty line inside its base64";
            return read;
        }
        if (!decode(lines, block.der, read.why)) {
            read.damaged = number;
            return read;
        }
        read.blocks.push_back(std::move(block));
        from = end + end_line.size();
        read.end = from;
    }
    return read;
}

}  // namespace cscguard
