// What counts as an e-mail address, for the module's `Require cscguard-email`
// and for the addresses the CA tool puts into certificates: one definition,
// so the tool never issues an address no rule can name.
#pragma once

#include <string_view>

namespace cscguard {

// A mail domain: letters, digits, '-' and '.', no empty label.
bool is_valid_mail_domain(std::string_view domain);

// USER@DOMAIN: a non-empty local part of printable ASCII without '@', '*' or
// spaces (so no control character, CR or LF, ever reaches a header), and a
// valid mail domain.
bool is_valid_email(std::string_view address);

// The part after the last '@' ("" when there is none).
std::string_view domain_of(std::string_view address);

}  // namespace cscguard
