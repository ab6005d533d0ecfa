// Which shapes of Require lines let a negated cscguard rule open the door
// to a client without a good certificate (policy/negation.h).
#include "policy/negation.h"

#include <gtest/gtest.h>

namespace cscguard {
namespace {

using Kind = AuthzNode::Kind;

AuthzNode require(const std::string& provider, bool negated = false, const std::string& argument = "") {
    AuthzNode node;
    node.kind = Kind::Require;
    node.provider = provider;
    node.argument = argument;
    node.negated = negated;
    node.where = (negated ? "not " : "") + provider;
    return node;
}

AuthzNode container(Kind kind, std::vector<AuthzNode> children, const std::string& where) {
    AuthzNode node;
    node.kind = kind;
    node.children = std::move(children);
    node.where = where;
    return node;
}

AuthzNode section(std::vector<AuthzNode> children) { return container(Kind::Any, std::move(children), "<Location>"); }

TEST(Negation, OfficeNetworkExceptOneCertificateIsUnprotected) {
    const auto found = unprotected_negations(section(
        {container(Kind::All, {require("ip"), require("cscguard-serial", true)}, "<RequireAll>")}));
    ASSERT_EQ(found.size(), 1u);
    EXPECT_EQ(found[0].negation, "not cscguard-serial");
    EXPECT_EQ(found[0].container, "<RequireAll>");
    EXPECT_EQ(found[0].text, "Require not cscguard-serial");
}

TEST(Negation, RequireNoneBesideAllGrantedIsUnprotected) {
    const auto found = unprotected_negations(section({container(
        Kind::All, {require("all", false, "granted"), container(Kind::None, {require("cscguard-allowlist")}, "<RequireNone>")},
        "<RequireAll>")}));
    ASSERT_EQ(found.size(), 1u);
    EXPECT_EQ(found[0].text, "<RequireNone>");
}

TEST(Negation, PositiveCscguardRuleBesideItProtects) {
    EXPECT_TRUE(unprotected_negations(section({container(
        Kind::All, {require("cscguard-valid"), container(Kind::None, {require("cscguard-serial")}, "<RequireNone>")},
        "<RequireAll>")})).empty());
    EXPECT_TRUE(unprotected_negations(section({container(
        Kind::All, {require("ip"), require("cscguard-valid"), require("cscguard-serial", true)}, "<RequireAll>")}))
                    .empty());
}

TEST(Negation, AnOuterRequirementProtects) {
    // valid AND (ip OR (all granted AND not serial)): nobody without a good certificate gets in.
    const AuthzNode inner = container(Kind::All, {require("all", false, "granted"), require("cscguard-serial", true)}, "inner");
    const AuthzNode any = container(Kind::Any, {require("ip"), inner}, "any");
    EXPECT_TRUE(unprotected_negations(section({container(Kind::All, {require("cscguard-valid"), any}, "outer")})).empty());
}

TEST(Negation, AnotherWayInDoesNotCount) {
    // ip OR (valid AND not serial): the ip rule lets people in, but not because of the negation.
    const AuthzNode guarded =
        container(Kind::All, {require("cscguard-valid"), require("cscguard-serial", true)}, "<RequireAll>");
    EXPECT_TRUE(unprotected_negations(section({require("ip"), guarded})).empty());
}

TEST(Negation, DeniedAnywayIsNotAWarning) {
    EXPECT_TRUE(unprotected_negations(section({container(
        Kind::All, {require("all", false, "denied"), require("cscguard-serial", true)}, "<RequireAll>")})).empty());
}

TEST(Negation, NegatedOtherProvidersAreNotOurs) {
    EXPECT_TRUE(unprotected_negations(section({container(
        Kind::All, {require("cscguard-valid"), require("ip", true)}, "<RequireAll>")})).empty());
    EXPECT_TRUE(unprotected_negations(section({container(
        Kind::All, {require("all", false, "granted"), require("ip", true)}, "<RequireAll>")})).empty());
}

}  // namespace
}  // namespace cscguard
