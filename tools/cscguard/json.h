// Just enough JSON for --json output: objects of strings, numbers, bools and
// arrays, written in order, strings escaped.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace cscguard::tool {

std::string json_string(std::string_view text);
std::string json_array(const std::vector<std::string>& strings);

class JsonObject {
public:
    JsonObject& add(std::string_view key, std::string_view value);
    JsonObject& add(std::string_view key, const char* value) { return add(key, std::string_view(value)); }
    JsonObject& add(std::string_view key, long long value);
    JsonObject& add(std::string_view key, bool value);
    JsonObject& add(std::string_view key, const std::vector<std::string>& values);
    std::string str() const { return "{" + body_ + "}"; }

private:
    void key(std::string_view k);
    std::string body_;
};

}  // namespace cscguard::tool
