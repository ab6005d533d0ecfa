#include "policy/user_mode.h"

#include "policy/certificate.h"
#include "policy/error.h"

namespace cscguard {

UserMode parse_user_mode(std::string_view text) {
    const std::string mode = ascii_lower(text);
    if (mode == "serial") return UserMode::Serial;
    if (mode == "email") return UserMode::Email;
    if (mode == "cn") return UserMode::Cn;
    if (mode == "dn") return UserMode::Dn;
    if (mode == "none") return UserMode::None;
    throw PolicyError("'" + std::string(text) + "' is not one of serial, email, cn, dn, none");
}

UserMode merge_user_mode(UserMode parent, UserMode child) {
    return child == UserMode::Unset ? parent : child;
}

std::optional<std::string> user_name(UserMode mode, const Identity& identity, const Match& match) {
    const ClientCertificate& cert = identity.cert;
    std::string name;
    switch (mode == UserMode::Unset ? kDefaultUserMode : mode) {
        case UserMode::Unset:
        case UserMode::None: return std::nullopt;
        case UserMode::Serial: name = identity.issuer_name + ":" + cert.serial().canonical(); break;
        case UserMode::Email: name = match.email; break;
        case UserMode::Cn: name = cert.common_name(); break;
        case UserMode::Dn: name = cert.subject_dn(); break;
    }
    // A name with CR, LF or another control character would end up in
    // access logs and in headers sent to a backend: none is set instead.
    if (name.empty() || has_control_character(name)) return std::nullopt;
    return name;
}

}  // namespace cscguard
