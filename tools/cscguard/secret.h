// Secrets (.p12 passwords, the CA passphrase) come from a named source, never
// from a fixed default: pass:TEXT, env:VARIABLE, file:PATH (first line).
#pragma once

#include <string>
#include <string_view>

namespace cscguard::tool {

// Throws ToolError(kBadSecret) naming the source when it cannot be read.
std::string read_secret(std::string_view source);

// A random password of `length` characters from an unambiguous alphabet
// (no 0/O, 1/l/I), from the CSPRNG.
std::string random_password(std::size_t length = 24);

}  // namespace cscguard::tool
