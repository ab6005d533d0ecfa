// Errors of the cscguard tool, each with the exit code a script can test.
#pragma once

#include <cstdio>
#include <stdexcept>
#include <string>
#include <string_view>

namespace cscguard::tool {

// Documented exit codes (README "cscguard exit codes").
enum Exit : int {
    kOk = 0,
    kFailure = 1,      // anything else: I/O, OpenSSL, a bad file
    kUsage = 2,        // unknown verb or option, missing argument
    kNotFound = 3,     // unknown name or serial
    kConflict = 4,     // duplicate name, already revoked, CA already initialised
    kLocked = 5,       // another run holds the CA lock
    kBadSecret = 6,    // wrong CA passphrase, unreadable secret source
    kCrlDue = 7,       // crl status: CRL near or past nextUpdate
    kDoctorFound = 8,  // doctor: problems found
    kRefused = 9,      // input refused on purpose: CA:TRUE CSR, Ed25519 client key...
};

class ToolError : public std::runtime_error {
public:
    ToolError(Exit code, const std::string& message) : std::runtime_error(message), code_(code) {}
    Exit code() const { return code_; }

private:
    Exit code_;
};

// `text` with control and non-ASCII bytes as \xNN: user input quoted in a
// message must not put a CR, LF or escape sequence on the terminal.
inline std::string printable(std::string_view text) {
    std::string out;
    for (char c : text) {
        const auto u = static_cast<unsigned char>(c);
        if (u >= 0x20 && u < 0x7f) {
            out += c;
        } else {
            char hex[8];
            std::snprintf(hex, sizeof hex, "\\x%02X", u);
            out += hex;
        }
    }
    return out;
}

}  // namespace cscguard::tool
