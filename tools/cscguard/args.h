// Command-line words of one verb: positional words, `--opt VALUE` (or
// `--opt=VALUE`, repeatable), and `--flag`. Each verb declares what it takes;
// anything else is a usage error that names it.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace cscguard::tool {

// The longest validity or look-ahead any days option takes: 100 years keeps
// every date a certificate or CRL carries readable (GeneralizedTime, 4 digits).
constexpr int kMaxDays = 36500;

// ToolError(kUsage) naming `what` (e.g. "--crl-days") unless 1 <= days <= kMaxDays.
void check_days(int days, const std::string& what);

class Args {
public:
    // Throws ToolError(kUsage) for unknown options or a missing value.
    Args(const std::vector<std::string>& words, const std::set<std::string>& value_options,
         const std::set<std::string>& flags);

    std::optional<std::string> value(const std::string& option) const;
    std::string value_or(const std::string& option, const std::string& fallback) const;
    int int_value_or(const std::string& option, int fallback) const;
    // A number of days, 1 to kMaxDays (check_days); `fallback` is checked too.
    int days_value_or(const std::string& option, int fallback) const;
    std::vector<std::string> values(const std::string& option) const;
    bool flag(const std::string& flag) const { return flags_.count(flag) != 0; }

    const std::vector<std::string>& positional() const { return positional_; }
    // The n-th positional word, or a usage error naming `what`.
    const std::string& need(std::size_t n, const std::string& what) const;
    // Usage error when more than `n` positional words were given.
    void at_most(std::size_t n) const;

private:
    std::multimap<std::string, std::string> values_;
    std::set<std::string> flags_;
    std::vector<std::string> positional_;
};

}  // namespace cscguard::tool
