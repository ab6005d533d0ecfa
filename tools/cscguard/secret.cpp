#include "tools/cscguard/secret.h"

#include <cstdlib>
#include <fstream>

#include <openssl/rand.h>

#include "tools/cscguard/tool_error.h"

namespace cscguard::tool {

std::string read_secret(std::string_view source) {
    const std::size_t colon = source.find(':');
    const std::string kind(source.substr(0, colon == std::string_view::npos ? 0 : colon));
    const std::string rest(colon == std::string_view::npos ? std::string_view() : source.substr(colon + 1));
    std::string secret;
    if (kind == "pass") {
        secret = rest;
    } else if (kind == "env") {
        const char* value = std::getenv(rest.c_str());
        if (!value) throw ToolError(kBadSecret, "secret source env:" + rest + ": the variable is not set");
        secret = value;
    } else if (kind == "file") {
        std::ifstream in(rest);
        if (!in || !std::getline(in, secret)) throw ToolError(kBadSecret, "secret source file:" + rest + ": cannot read");
        if (!secret.empty() && secret.back() == '\r') secret.pop_back();
    } else {
        throw ToolError(kUsage, "'" + std::string(source) + "' is not a secret source (use pass:TEXT, env:VAR or file:PATH)");
    }
    if (secret.empty()) throw ToolError(kBadSecret, "secret source " + kind + ": gives an empty secret");
    return secret;
}

std::string random_password(std::size_t length) {
    static const char alphabet[] = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    const std::size_t n = sizeof alphabet - 1;  // 56
    std::string out;
    while (out.size() < length) {
        unsigned char byte = 0;
        if (RAND_bytes(&byte, 1) != 1) throw ToolError(kFailure, "the random number generator failed");
        if (byte >= 256 - 256 % n) continue;  // no modulo bias
        out += alphabet[byte % n];
    }
    return out;
}

}  // namespace cscguard::tool
