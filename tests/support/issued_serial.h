// The serial in what `cscguard issue` (and renew, sign) prints: its first
// line is "issued KIND NAME serial HEX", and tests need HEX to find the
// certificate's files (certs/HEX.pem) or to revoke it.
#pragma once

#include <string>

namespace cscguard::testing {

// HEX from the first " serial HEX" in `output`, "" when there is none.
std::string issued_serial(const std::string& output);

}  // namespace cscguard::testing
