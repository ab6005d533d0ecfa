// CSCGuardUser: what r->user (REMOTE_USER, %u in the access log) becomes when
// a cscguard rule grants. Per-directory, merged the httpd way: a location
// that does not say inherits from the enclosing one.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "policy/policy.h"
#include "policy/rules.h"

namespace cscguard {

enum class UserMode { Unset, None, Serial, Email, Cn, Dn };

// The mode used where no CSCGuardUser applies: ISSUER:SERIAL names exactly
// one certificate, so access logs say who came in.
inline constexpr UserMode kDefaultUserMode = UserMode::Serial;

// Throws PolicyError for anything but serial|email|cn|dn|none (any case).
UserMode parse_user_mode(std::string_view text);

// Per-directory merge: the child's setting wins where it has one.
UserMode merge_user_mode(UserMode parent, UserMode child);

// The user name for a granted request; nullopt when the mode is none, the
// certificate lacks the field (no e-mail, no CN), or the value holds a
// control character.
std::optional<std::string> user_name(UserMode mode, const Identity& identity, const Match& match);

}  // namespace cscguard
