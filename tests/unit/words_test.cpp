#include "policy/words.h"

#include <gtest/gtest.h>

#include "policy/error.h"

namespace cscguard {
namespace {

using Words = std::vector<std::string>;

TEST(SplitWords, SplitsOnWhitespace) {
    EXPECT_EQ(split_words("  a  b\tc "), (Words{"a", "b", "c"}));
    EXPECT_EQ(split_words(""), Words{});
}

TEST(SplitWords, QuotesMayOpenInsideAWord) {
    EXPECT_EQ(split_words(R"(CN=eager-client O="Acme Corp")"), (Words{"CN=eager-client", "O=Acme Corp"}));
    EXPECT_EQ(split_words(R"("O=Acme Corp" 'OU=R&D Lab')"), (Words{"O=Acme Corp", "OU=R&D Lab"}));
}

TEST(SplitWords, BackslashEscapesInsideQuotes) {
    EXPECT_EQ(split_words(R"(O="Acme \"Q\" Corp")"), (Words{R"(O=Acme "Q" Corp)"}));
    EXPECT_EQ(split_words(R"(a\b)"), (Words{R"(a\b)"}));  // outside quotes it is literal
}

TEST(SplitWords, EmptyQuotesMakeAnEmptyWord) { EXPECT_EQ(split_words(R"(a "")"), (Words{"a", ""})); }

TEST(SplitWords, UnterminatedQuoteIsAnError) {
    EXPECT_THROW(split_words(R"(O="Acme Corp)"), PolicyError);
    EXPECT_THROW(split_words("O='x"), PolicyError);
}

}  // namespace
}  // namespace cscguard
