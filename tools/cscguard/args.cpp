#include "tools/cscguard/args.h"

#include "tools/cscguard/tool_error.h"

namespace cscguard::tool {

Args::Args(const std::vector<std::string>& words, const std::set<std::string>& value_options,
           const std::set<std::string>& flags) {
    for (std::size_t i = 0; i < words.size(); ++i) {
        const std::string& w = words[i];
        if (w.size() < 3 || w.rfind("--", 0) != 0) {
            positional_.push_back(w);
            continue;
        }
        const std::size_t eq = w.find('=');
        const std::string name = w.substr(2, eq == std::string::npos ? std::string::npos : eq - 2);
        if (value_options.count(name)) {
            if (eq != std::string::npos) {
                values_.emplace(name, w.substr(eq + 1));
            } else if (i + 1 < words.size()) {
                values_.emplace(name, words[++i]);
            } else {
                throw ToolError(kUsage, "--" + name + " needs a value");
            }
        } else if (flags.count(name) && eq == std::string::npos) {
            flags_.insert(name);
        } else {
            throw ToolError(kUsage, "unknown option --" + name + " (see --help)");
        }
    }
}

std::optional<std::string> Args::value(const std::string& option) const {
    const auto range = values_.equal_range(option);
    if (range.first == range.second) return std::nullopt;
    return std::prev(range.second)->second;  // the last one wins
}

std::string Args::value_or(const std::string& option, const std::string& fallback) const {
    return value(option).value_or(fallback);
}

int Args::int_value_or(const std::string& option, int fallback) const {
    const auto v = value(option);
    if (!v) return fallback;
    try {
        std::size_t used = 0;
        const int n = std::stoi(*v, &used);
        if (used == v->size() && n > 0) return n;
    } catch (const std::exception&) {
    }
    throw ToolError(kUsage, "--" + option + " wants a positive whole number, not '" + *v + "'");
}

void check_days(int days, const std::string& what) {
    if (days < 1 || days > kMaxDays) {
        throw ToolError(kUsage, what + " of " + std::to_string(days) + " days: give 1 to " + std::to_string(kMaxDays) +
                                    " (100 years)");
    }
}

int Args::days_value_or(const std::string& option, int fallback) const {
    const int days = int_value_or(option, fallback);
    check_days(days, "--" + option);
    return days;
}

std::vector<std::string> Args::values(const std::string& option) const {
    std::vector<std::string> out;
    const auto range = values_.equal_range(option);
    for (auto it = range.first; it != range.second; ++it) out.push_back(it->second);
    return out;
}

const std::string& Args::need(std::size_t n, const std::string& what) const {
    if (positional_.size() <= n) throw ToolError(kUsage, "missing " + what + " (see --help)");
    return positional_[n];
}

void Args::at_most(std::size_t n) const {
    if (positional_.size() > n) throw ToolError(kUsage, "unexpected argument '" + positional_[n] + "' (see --help)");
}

}  // namespace cscguard::tool
