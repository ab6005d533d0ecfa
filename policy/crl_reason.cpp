#include "policy/crl_reason.h"

#include <array>

namespace cscguard {
namespace {

struct Reason {
    int code;
    std::string_view name;
    bool revocation;  // see is_revocation_reason
};

// Code 7 is not used by RFC 5280.
constexpr std::array<Reason, 10> kReasons{{
    {0, "unspecified", true},
    {1, "keyCompromise", true},
    {2, "CACompromise", true},
    {3, "affiliationChanged", true},
    {4, "superseded", true},
    {5, "cessationOfOperation", true},
    {6, "certificateHold", true},
    {8, "removeFromCRL", false},
    {9, "privilegeWithdrawn", true},
    {10, "AACompromise", false},
}};

const Reason* find(std::string_view name) {
    for (const Reason& r : kReasons) {
        if (r.name == name) return &r;
    }
    return nullptr;
}

}  // namespace

std::optional<int> crl_reason_code(std::string_view name) {
    const Reason* r = find(name);
    return r ? std::optional<int>(r->code) : std::nullopt;
}

bool is_revocation_reason(std::string_view name) {
    const Reason* r = find(name);
    return r && r->revocation;
}

}  // namespace cscguard
