#include "policy/user_mode.h"

#include <gtest/gtest.h>

#include "policy/error.h"
#include "tests/support/test_pki.h"

namespace cscguard {
namespace {

TEST(UserMode, ParsesEveryModeInAnyCase) {
    EXPECT_EQ(parse_user_mode("serial"), UserMode::Serial);
    EXPECT_EQ(parse_user_mode("EMAIL"), UserMode::Email);
    EXPECT_EQ(parse_user_mode("Cn"), UserMode::Cn);
    EXPECT_EQ(parse_user_mode("dn"), UserMode::Dn);
    EXPECT_EQ(parse_user_mode("none"), UserMode::None);
    EXPECT_THROW(parse_user_mode("uid"), PolicyError);
}

TEST(UserMode, ChildWinsWhereItSpeaks) {
    EXPECT_EQ(merge_user_mode(UserMode::Email, UserMode::Unset), UserMode::Email);
    EXPECT_EQ(merge_user_mode(UserMode::Email, UserMode::Cn), UserMode::Cn);
    EXPECT_EQ(merge_user_mode(UserMode::Unset, UserMode::None), UserMode::None);
    EXPECT_EQ(merge_user_mode(UserMode::Unset, UserMode::Unset), UserMode::Unset);
}

TEST(UserMode, NamesFromTheCertificate) {
    testing::TestCa ca("kitty-ca");
    Policy policy({Issuer::from_pem("kitty", ca.pem())}, {});
    const Identity eager = policy.identify(ca.issue({{{"CN", "eager-client"}}, "1D1D", {"Eager@Kitty.example"}}));
    const Match match{"cscguard-email", "eager@kitty.example"};
    EXPECT_EQ(user_name(UserMode::Unset, eager, match), "kitty:1D1D");  // the default
    EXPECT_EQ(user_name(UserMode::Serial, eager, match), "kitty:1D1D");
    EXPECT_EQ(user_name(UserMode::Email, eager, match), "eager@kitty.example");
    EXPECT_EQ(user_name(UserMode::Cn, eager, match), "eager-client");
    EXPECT_EQ(user_name(UserMode::Dn, eager, match), "CN=eager-client");
    EXPECT_EQ(user_name(UserMode::None, eager, match), std::nullopt);
    EXPECT_EQ(user_name(UserMode::Email, eager, Match{"cscguard-serial", ""}), std::nullopt);
}

// REMOTE_USER reaches logs and backends' headers: never with CR/LF in it.
TEST(UserMode, NamesWithControlCharactersAreNotSet) {
    testing::TestCa ca("kitty-ca");
    Policy policy({Issuer::from_pem("kitty", ca.pem())}, {});
    const Identity id = policy.identify(ca.issue({{{"CN", "eve\r\nX-Admin: yes"}}, "1D1D"}));
    EXPECT_EQ(user_name(UserMode::Cn, id, Match{}), std::nullopt);
    EXPECT_EQ(user_name(UserMode::Dn, id, Match{}), "CN=eve\\0D\\0AX-Admin: yes") << "RFC 2253 escapes them";
    EXPECT_EQ(user_name(UserMode::Serial, id, Match{}), "kitty:1D1D");
}

}  // namespace
}  // namespace cscguard
