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

class Args {
public:
    // Throws ToolError(kUsage) for unknown options or a missing value.
    Args(const std::vector<std::string>& words, const std::set<std::string>& value_options,
         const std::set<std::string>& flags);

    std::optional<std::string> value(const std::string& option) const;
    std::string value_or(const std::string& option, const std::string& fallback) const;
    int int_value_or(const std::string& option, int fallback) const;
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
