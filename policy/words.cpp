#include "policy/words.h"

#include <cctype>

#include "policy/error.h"

namespace cscguard {

std::vector<std::string> split_words(std::string_view line) {
    std::vector<std::string> words;
    std::string word;
    bool in_word = false;
    char quote = 0;
    for (std::size_t i = 0; i < line.size(); ++i) {
        const char c = line[i];
        if (quote) {
            if (c == '\\' && i + 1 < line.size()) {
                word += line[++i];
            } else if (c == quote) {
                quote = 0;
            } else {
                word += c;
            }
        } else if (c == '"' || c == '\'') {
            quote = c;
            in_word = true;
        } else if (std::isspace(static_cast<unsigned char>(c))) {
            if (in_word) words.push_back(std::move(word));
            word.clear();
            in_word = false;
        } else {
            word += c;
            in_word = true;
        }
    }
    if (quote) throw PolicyError(std::string("unterminated ") + quote + " quote");
    if (in_word) words.push_back(std::move(word));
    return words;
}

}  // namespace cscguard
