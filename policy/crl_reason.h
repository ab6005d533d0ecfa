// RFC 5280 CRLReason (section 5.3.1): the names the CA tool records in its
// database and accepts for `revoke --reason`, and the codes it signs into its
// CRLs. One table, so what is accepted is what can be signed.
#pragma once

#include <optional>
#include <string_view>

namespace cscguard {

// The code of a reason name as OpenSSL spells it ("keyCompromise",
// "CACompromise"...), nullopt for a name RFC 5280 does not have.
std::optional<int> crl_reason_code(std::string_view name);

// A reason a revocation may be recorded with: every CRLReason but
// removeFromCRL (only meaningful in a delta CRL) and AACompromise (attribute
// certificates, which the tool does not issue).
bool is_revocation_reason(std::string_view name);

}  // namespace cscguard
