// The status page (SetHandler cscguard-status) in a real httpd: what it shows
// of the policy, the files and the decisions summed over every child, in
// HTML, ?json, ?auto and ?metrics.
#include <cstdlib>
#include <filesystem>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/integration/policy_site.h"

namespace it {
namespace {

using nlohmann::json;

// Only eager and san-only may look: the page is the admin's to protect, as
// server-status.
const std::string kStatusSite = R"(
CSCGuardReloadInterval 1
StartServers 4
<Location /cscguard-status>
  SetHandler cscguard-status
  Require cscguard-serial kitty:1D1D1C749D9C2D16 kitty:0A1B
</Location>
)";

Response status_page(const PolicySite& site, const std::string& query = "", const std::string& cert = "eager") {
    return fetch({site.server.https_port(), "/cscguard-status" + query, cert});
}

json status_json(const PolicySite& site, const std::string& cert = "eager") {
    const Response response = status_page(site, "?json", cert);
    EXPECT_EQ(response.status, 200) << response.body;
    EXPECT_EQ(response.header("content-type"), "application/json");
    return json::parse(response.body);
}

std::uint64_t decisions(const json& doc, const std::string& provider, const std::string& outcome) {
    return doc.at("decisions").at("by_provider").at(provider).at(outcome).get<std::uint64_t>();
}

// Waits until the watcher's account of the files says `want` of `path`.
bool wait_for_file_state(const PolicySite& site, const std::string& path, bool refused) {
    for (int i = 0; i < 200; ++i) {
        const json doc = status_json(site);
        if (doc.at("files").contains("list")) {
            for (const auto& file : doc["files"]["list"]) {
                if (file.at("path") == path && file.at("problem").get<std::string>().empty() != refused) return true;
            }
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
}

TEST(StatusPage, CountsTheDecisionsOfEveryChild) {
    PolicySite site(kStatusSite, "prefork");
    site.server.start();
    for (int i = 0; i < 100 && site.server.serving_children().size() < 2; ++i) {  // slow under ASan
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    ASSERT_GE(site.server.serving_children().size(), 2u);
    // Fresh connections: prefork hands them to whichever child is free.
    for (int i = 0; i < 12; ++i) ASSERT_EQ(site.status("/valid", "eager"), 200);
    for (int i = 0; i < 5; ++i) ASSERT_EQ(site.status("/allowlist", "san-only"), 403);
    for (int i = 0; i < 3; ++i) ASSERT_EQ(site.status("/valid", ""), 403);

    std::set<long> answered_by;
    for (int i = 0; i < 8; ++i) {
        const json doc = status_json(site);
        answered_by.insert(doc.at("pid").get<long>());
        // Every child reports the same sums: they are not its own.
        EXPECT_EQ(decisions(doc, "cscguard-valid", "granted"), 12u) << doc.dump(2);
        EXPECT_EQ(decisions(doc, "cscguard-allowlist", "not_matched"), 5u);
        EXPECT_EQ(decisions(doc, "cscguard-valid", "no_certificate"), 3u);
        EXPECT_EQ(decisions(doc, "cscguard-serial", "granted"), static_cast<std::uint64_t>(i + 1));  // the page's own
        EXPECT_EQ(doc.at("decisions").at("denied").get<std::uint64_t>(), 8u);
    }
    std::cout << "[ measured ] status page answered by " << answered_by.size() << " children\n";
    expect_clean_log(site.server);
}

TEST(StatusPage, ShowsWhatIsInForce) {
    PolicySite site(kStatusSite);
    site.server.start();
    json doc = status_json(site);
    std::vector<std::string> issuers;
    for (const auto& issuer : doc.at("issuers")) issuers.push_back(issuer.at("name"));
    EXPECT_EQ(issuers, (std::vector<std::string>{"kitty", "acme"}));
    ASSERT_EQ(doc.at("crls").size(), 2u);
    EXPECT_EQ(doc["crls"][0].at("issuer"), "kitty");
    EXPECT_EQ(doc["crls"][0].at("state"), "fresh");
    EXPECT_EQ(doc["crls"][0].at("revoked"), 0);
    EXPECT_GT(doc["crls"][0].at("seconds_left").get<long>(), 23 * 3600);
    EXPECT_EQ(doc.at("allowlists").at(0).at("name"), "partners");
    EXPECT_EQ(doc.at("allowlists").at(0).at("entries"), 1);
    ASSERT_TRUE(doc.at("files").contains("list")) << doc.dump(2);
    EXPECT_EQ(doc["files"]["list"].size(), 3u);
    const std::uint64_t generation = doc.at("snapshot").at("generation");
    EXPECT_GE(doc.at("snapshot").at("age_seconds").get<long>(), 0);
    // scripts/test runs these tests once more with a module built to ask
    // mod_ssl's optional functions (as before httpd 2.4.47), and says so.
    const char* tls = std::getenv("CSCGUARD_IT_TLS_INTERFACE");
    EXPECT_EQ(doc.at("tls_interface"), tls ? tls : "ap_ssl_var_lookup (httpd 2.4.47+)");

    // A revocation reloaded live shows, with a new snapshot.
    make_crl("kitty-ca", site.kitty_crl(), 24, {kEagerSerial});
    ASSERT_GE(site.seconds_until("/valid", "eager", 403, 10.0), 0);
    EXPECT_EQ(status_page(site, "?json", "eager").status, 403) << "a revoked certificate still sees the page";
    bool shown = false;
    for (int i = 0; i < 100 && !shown; ++i) {  // every child follows within a round of its follower
        doc = status_json(site, "san-only");
        shown = doc.at("crls").at(0).at("revoked") == 1 && doc.at("snapshot").at("generation") > generation;
        if (!shown) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    EXPECT_TRUE(shown) << doc.dump(2);
    expect_clean_log(site.server);
}

TEST(StatusPage, StaleCrlsAndRefusedFilesStandOut) {
    PolicySite site(kStatusSite + "<Location /cscguard-status-open>\n  SetHandler cscguard-status\n"
                                  "  Require all granted\n</Location>\n");
    make_crl("acme-ca", site.acme_crl(), -2);  // nextUpdate two hours ago: acme is stale
    site.server.start();
    const auto page = [&site](const std::string& query) {
        return fetch({site.server.https_port(), "/cscguard-status-open" + query, ""});
    };
    write_file(site.list(), "kitty:1D1D1C749D9C2D16 eager\nthis is not a serial\n");
    ASSERT_TRUE(wait_for_file_state(site, site.list(), true)) << "the refused allowlist never showed";

    const Response html = page("");
    ASSERT_EQ(html.status, 200);
    EXPECT_EQ(html.header("content-type"), "text/html; charset=utf-8");
    EXPECT_EQ(html.header("cache-control"), "no-store");
    EXPECT_NE(html.body.find("<title>mod_cscguard status</title>"), std::string::npos);
    EXPECT_NE(html.body.find("1 CRL(s) stale"), std::string::npos) << html.body;
    EXPECT_NE(html.body.find("1 policy file(s) refused"), std::string::npos) << html.body;
    EXPECT_NE(html.body.find("partners.list:2: &#39;this&#39; is not a serial number"), std::string::npos) << html.body;
    EXPECT_NE(html.body.find("class=\"bad\">stale<"), std::string::npos);
    EXPECT_EQ(html.body.find("1D1D1C749D9C2D16"), std::string::npos) << "the page shows an allowlist's serials";

    const Response automatic = page("?auto");
    EXPECT_EQ(automatic.header("content-type"), "text/plain; charset=utf-8");
    EXPECT_NE(automatic.body.find("\nStaleCRLs: 1\n"), std::string::npos) << automatic.body;
    EXPECT_NE(automatic.body.find("\nRefusedFiles: 1\n"), std::string::npos);
    EXPECT_NE(automatic.body.find("\nCRL_acme_State: stale\n"), std::string::npos);
    EXPECT_NE(automatic.body.find("\nCRL_kitty_State: fresh\n"), std::string::npos);

    const Response metrics = page("?metrics");
    EXPECT_EQ(metrics.header("content-type"), "text/plain; version=0.0.4; charset=utf-8");
    EXPECT_NE(metrics.body.find("cscguard_crl_stale{issuer=\"acme\"} 1\n"), std::string::npos) << metrics.body;
    EXPECT_NE(metrics.body.find("cscguard_crl_stale{issuer=\"kitty\"} 0\n"), std::string::npos);
    EXPECT_NE(metrics.body.find("cscguard_file_refused{path=\"" + site.list() + "\"} 1\n"), std::string::npos);
    // Every sample line is in Prometheus' text format.
    const std::regex sample(R"(^[a-z_]+(\{[a-z_]+="([^"\\]|\\.)*"(,[a-z_]+="([^"\\]|\\.)*")*\})? -?[0-9]+$)");
    std::istringstream lines(metrics.body);
    int samples = 0;
    for (std::string line; std::getline(lines, line);) {
        if (line.rfind("# HELP ", 0) == 0 || line.rfind("# TYPE ", 0) == 0) continue;
        EXPECT_TRUE(std::regex_match(line, sample)) << line;
        ++samples;
    }
    EXPECT_GT(samples, 60);

    // The good version back: the page says so.
    write_file(site.list(), "kitty:1D1D1C749D9C2D16 eager\n");
    EXPECT_TRUE(wait_for_file_state(site, site.list(), false));
    expect_clean_log(site.server, {"CSG0201", "CSG0203"});
}

TEST(StatusPage, CountersOutliveAGracefulRestart) {
    PolicySite site(kStatusSite);
    site.server.start();
    for (int i = 0; i < 4; ++i) ASSERT_EQ(site.status("/valid", "eager"), 200);
    const std::string since = status_json(site).at("decisions").at("since");
    site.server.graceful();
    json doc;
    for (int i = 0; i < 100; ++i) {  // until a new child answers
        const Response response = status_page(site, "?json");
        if (response.status == 200) {
            doc = json::parse(response.body);
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    ASSERT_FALSE(doc.is_null());
    EXPECT_EQ(decisions(doc, "cscguard-valid", "granted"), 4u) << doc.dump(2);
    EXPECT_EQ(doc.at("decisions").at("since"), since);
    expect_clean_log(site.server);
}

TEST(StatusPage, OnlyWhereSetHandlerPutsItAndOnlyForGet) {
    PolicySite site(kStatusSite);
    site.server.start();
    EXPECT_EQ(status_page(site, "", "other").status, 403) << "the Require line protects it";
    EXPECT_EQ(status_page(site, "", "").status, 403);
    EXPECT_EQ(fetch({site.server.https_port(), "/valid/?json", "eager"}).body.find("decisions"), std::string::npos);
    EXPECT_EQ(status_page(site, "?unknown").header("content-type"), "text/html; charset=utf-8");
    expect_clean_log(site.server);
}

// An allowlist error quotes the line's bytes. Before the fix the watcher's
// account of the files threw on one that is not UTF-8: the watcher died and
// was restarted every second, and the page never said the file was refused.
TEST(StatusPage, AFileRefusedForBytesThatAreNotUtf8ShowsAsRefused) {
    PolicySite site(kStatusSite);
    site.server.start();
    write_file(site.list(), "kitty:0A1C\xe9\n");
    EXPECT_TRUE(wait_for_file_state(site, site.list(), true)) << "the refused allowlist never showed";
    const Response html = status_page(site);
    EXPECT_EQ(html.status, 200);
    EXPECT_NE(html.body.find("1 policy file(s) refused"), std::string::npos) << html.body;
    write_file(site.list(), "kitty:1D1D1C749D9C2D16 eager\n");
    EXPECT_TRUE(wait_for_file_state(site, site.list(), false));
    expect_clean_log(site.server, {"CSG0201"});
}

// Before the fix a path that is not UTF-8 made the start-up's account of the
// files throw after the snapshot was published: httpd dropped its state
// directory (CSG0206, no reloads) and still started a watcher without one.
TEST(StatusPage, APolicyFileWhosePathIsNotUtf8LeavesReloadsWorking) {
    PolicySite site(kStatusSite + "CSCGuardAllowlist latin {DIR}/caf\xe9.list\n");
    write_file(site.server.dir() + "/caf\xe9.list", "kitty:0A1B\n");
    site.server.start();
    EXPECT_TRUE(status_json(site).at("files").contains("list")) << status_json(site).dump(2);
    write_file(site.list(), "not a serial\n");
    EXPECT_TRUE(wait_for_file_state(site, site.list(), true)) << "reloads stopped";
    EXPECT_FALSE(std::filesystem::exists("/policy.snapshot")) << "a watcher without a state directory wrote into /";
    expect_clean_log(site.server, {"CSG0201"});
}

}  // namespace
}  // namespace it
