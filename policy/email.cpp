#include "policy/email.h"

#include <cctype>

namespace cscguard {
namespace {

bool valid_local_part(std::string_view local) {
    if (local.empty()) return false;
    for (char c : local) {
        const auto u = static_cast<unsigned char>(c);
        if (u <= ' ' || u >= 0x7f || c == '@' || c == '*') return false;
    }
    return true;
}

}  // namespace

bool is_valid_mail_domain(std::string_view domain) {
    if (domain.empty() || domain.front() == '.' || domain.back() == '.') return false;
    char prev = 0;
    for (char c : domain) {
        const auto u = static_cast<unsigned char>(c);
        if (!std::isalnum(u) && c != '-' && c != '.') return false;
        if (c == '.' && prev == '.') return false;
        prev = c;
    }
    return true;
}

bool is_valid_email(std::string_view address) {
    const std::size_t at = address.find('@');
    if (at == std::string_view::npos || address.find('@', at + 1) != std::string_view::npos) return false;
    return valid_local_part(address.substr(0, at)) && is_valid_mail_domain(address.substr(at + 1));
}

std::string_view domain_of(std::string_view address) {
    const std::size_t at = address.rfind('@');
    return at == std::string_view::npos ? std::string_view() : address.substr(at + 1);
}

}  // namespace cscguard
