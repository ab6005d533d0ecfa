// The status page's pieces without httpd: the files' health a PolicyStore
// keeps, the watcher's file of it, and the four renderings.
#include "policy/status_report.h"

#include <fstream>
#include <set>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "policy/error.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_pki.h"

namespace cscguard {
namespace {

using testing::TestCa;

class Status : public ::testing::Test {
protected:
    void SetUp() override {
        std::ofstream(list) << "kitty:0A0A\nkitty:0B0B\n";
        std::ofstream(crl_file) << kitty.crl({{"0C0C"}});
        store = std::make_unique<PolicyStore>(
            std::vector<std::shared_ptr<const Issuer>>{Issuer::from_pem("kitty", kitty.pem())},
            std::vector<AllowlistSource>{{"partners", list, "test.conf:1"}},
            std::vector<CrlSource>{{crl_file, "test.conf:2"}}, 0);
    }

    void rewrite(const std::string& path, const std::string& text) {
        const std::string tmp = path + ".new";
        std::ofstream(tmp) << text;
        std::rename(tmp.c_str(), path.c_str());
    }

    StatusReport report() const {
        StatusReport r;
        r.now = std::time(nullptr);
        r.server = "Apache/2.4 (test)";
        r.policy = store->current();
        r.reload = ReloadStatus{7, r.now, store->health()};
        r.reload->files.at(0).digest = to_hex(r.reload->files.at(0).digest);  // as parse_reload_status keeps it
        r.reload->files.at(1).digest = to_hex(r.reload->files.at(1).digest);
        r.counters = &counters;
        return r;
    }

    testing::TempDir temp;
    TestCa kitty{"kitty-ca"};
    std::string list = temp / "partners.list";
    std::string crl_file = temp / "kitty.crl";
    std::unique_ptr<PolicyStore> store;
    DecisionCounters counters;
};

const LogSink quiet = [](LogLevel, const std::string&) {};

TEST_F(Status, HealthSaysWhichFileIsRefusedAndWhyUntilItIsPutRight) {
    auto health = store->health();
    ASSERT_EQ(health.size(), 2u);
    EXPECT_EQ(health[0].name, "partners");
    EXPECT_FALSE(health[0].crl);
    EXPECT_EQ(health[0].entries, 2u);
    EXPECT_TRUE(health[1].crl);
    EXPECT_EQ(health[1].entries, 1u);
    EXPECT_GT(health[0].loaded, 0);
    EXPECT_EQ(health[0].problem, "");

    rewrite(list, "kitty:0A0A\nnot a serial\n");
    EXPECT_FALSE(store->refresh(quiet));
    health = store->health();
    EXPECT_NE(health[0].problem.find(list + ":2: 'not' is not a serial number"), std::string::npos) << health[0].problem;
    EXPECT_NE(health[0].problem.find("the last good version stays in force"), std::string::npos);
    EXPECT_GT(health[0].problem_since, 0);
    EXPECT_EQ(health[0].entries, 2u) << "the good version is the one counted";
    EXPECT_EQ(health[1].problem, "");

    rewrite(list, "kitty:0A0A\nkitty:0B0B\n");  // the same bytes as in force
    store->refresh(quiet);
    EXPECT_EQ(store->health()[0].problem, "");

    std::remove(crl_file.c_str());
    store->refresh(quiet);
    EXPECT_NE(store->health()[1].problem.find("has disappeared"), std::string::npos);
}

TEST_F(Status, AnOlderCrlIsAProblemOfItsFile) {
    const std::string newer = kitty.crl({{"0C0C", "0D0D"}});
    rewrite(crl_file, newer);
    ASSERT_TRUE(store->refresh(quiet));
    testing::CrlSpec older;
    older.number = 1;  // before the CRLs written so far
    rewrite(crl_file, kitty.crl(older));
    store->refresh(quiet);
    const auto health = store->health();
    EXPECT_NE(health[1].problem, "");
    EXPECT_EQ(health[1].entries, 2u) << "the newer CRL stays in force";
}

TEST_F(Status, TheWatchersFileReadsBackAsWritten) {
    rewrite(list, "garbage\n");
    store->refresh(quiet);
    ReloadStatus written{42, 1700000000, store->health()};
    const ReloadStatus read = parse_reload_status(encode_reload_status(written), "/run/x");
    EXPECT_EQ(read.generation, 42u);
    EXPECT_EQ(read.written, 1700000000);
    ASSERT_EQ(read.files.size(), 2u);
    EXPECT_EQ(read.files[0].path, list);
    EXPECT_EQ(read.files[0].name, "partners");
    EXPECT_EQ(read.files[0].problem, written.files[0].problem);
    EXPECT_EQ(read.files[0].problem_since, written.files[0].problem_since);
    EXPECT_EQ(read.files[0].digest, to_hex(written.files[0].digest));
    EXPECT_EQ(read.files[1].entries, 1u);
    EXPECT_TRUE(read.files[1].crl);
}

TEST(ReloadStatusFile, AnythingElseIsRefusedNamingTheFileAndField) {
    const auto error_of = [](const std::string& text) {
        try {
            parse_reload_status(text, "/run/cscguard/reload-status.json");
        } catch (const PolicyError& err) {
            return std::string(err.what());
        }
        return std::string("(accepted)");
    };
    EXPECT_EQ(error_of("").rfind("/run/cscguard/reload-status.json: not a reload status", 0), 0u);
    EXPECT_EQ(error_of("{\"format\":2}"),
              "/run/cscguard/reload-status.json: reload status of another format (written by another module version?)");
    EXPECT_NE(error_of("{\"format\":1,\"generation\":1,\"written\":1}").find("(field files)"), std::string::npos);
    EXPECT_NE(error_of("{\"format\":1,\"generation\":\"x\",\"written\":1,\"files\":[]}").find("field generation"),
              std::string::npos);
    // Found by fuzzing: nlohmann converts a float to an integer with undefined behaviour.
    EXPECT_NE(error_of("{\"format\":1,\"generation\":1.5e22,\"written\":1,\"files\":[]}").find("field generation"),
              std::string::npos);
    EXPECT_NE(error_of("{\"format\":1,\"generation\":-1,\"written\":1,\"files\":[]}").find("field generation"),
              std::string::npos);
    EXPECT_NE(error_of("{\"format\":1,\"generation\":1,\"written\":1,\"files\":{}}").find("field files"),
              std::string::npos);
    EXPECT_NE(error_of("{\"format\":1,\"generation\":1,\"written\":1,\"files\":[{\"path\":\"/a\",\"kind\":\"x\"}]}")
                  .find("field kind"),
              std::string::npos);
    EXPECT_NE(error_of("[1,2]").find("not a reload status"), std::string::npos);
}

TEST_F(Status, HtmlEscapesWhatFilesAndErrorsSay) {
    StatusReport r = report();
    r.reload->files[0].path = "/etc/<script>alert(1)</script>.list";
    r.reload->files[0].problem = "bad 'x' & \"y\"";
    const std::string html = render_html(r);
    EXPECT_EQ(html.find("<script>"), std::string::npos);
    EXPECT_NE(html.find("/etc/&lt;script&gt;alert(1)&lt;/script&gt;.list"), std::string::npos);
    EXPECT_NE(html.find("bad &#39;x&#39; &amp; &quot;y&quot;"), std::string::npos);
    EXPECT_NE(html.find("1 policy file(s) refused"), std::string::npos);
    EXPECT_EQ(html.find("0A0A"), std::string::npos) << "an allowlist's serials are not shown";
}

TEST_F(Status, MetricsEscapeLabelValuesAndCountEveryProviderAndOutcome) {
    StatusReport r = report();
    r.reload->files[0].path = "/a \"quoted\" \\ path\nnext";
    counters.add(provider_index("cscguard-allowlist"), Outcome::NotMatched);
    counters.add(provider_index("cscguard-allowlist"), Outcome::NotMatched);
    counters.add(provider_index("cscguard-valid"), Outcome::Granted);
    counters.add(provider_index("no-such-provider"), Outcome::Granted);  // ignored
    const std::string metrics = render_metrics(r);
    EXPECT_NE(metrics.find("cscguard_file_refused{path=\"/a \\\"quoted\\\" \\\\ path\\nnext\"} 0\n"), std::string::npos)
        << metrics;
    EXPECT_NE(metrics.find("cscguard_decisions_total{provider=\"cscguard-allowlist\",outcome=\"not_matched\"} 2\n"),
              std::string::npos);
    EXPECT_NE(metrics.find("cscguard_decisions_total{provider=\"cscguard-valid\",outcome=\"granted\"} 1\n"),
              std::string::npos);
    std::size_t samples = 0;
    for (std::size_t at = metrics.find("cscguard_decisions_total{"); at != std::string::npos;
         at = metrics.find("cscguard_decisions_total{", at + 1)) {
        ++samples;
    }
    EXPECT_EQ(samples, kProviderCount * kOutcomeCount);
    const std::string automatic = render_auto(r);
    EXPECT_NE(automatic.find("Granted: 1\nDenied: 2\n"), std::string::npos) << automatic;
}

// An error quotes the file's bytes, and paths are bytes: neither need be
// UTF-8. nlohmann threw on them - in the watcher's loop, which then died every
// second and never said the file was refused, and in ?json (a 500).
TEST_F(Status, BytesThatAreNotUtf8AreWrittenAndShownNotThrown) {
    rewrite(list, "kitty:0A1C\xe9\n");
    store->refresh(quiet);
    ReloadStatus written{1, 1700000000, store->health()};
    ASSERT_NE(written.files[0].problem.find('\xe9'), std::string::npos) << written.files[0].problem;
    std::string text;
    ASSERT_NO_THROW(text = encode_reload_status(written));
    const ReloadStatus read = parse_reload_status(text, "/run/x");
    EXPECT_NE(read.files[0].problem.find("0A1C\xEF\xBF\xBD"), std::string::npos) << read.files[0].problem;

    StatusReport r = report();
    r.reload->files[0].path = "/etc/caf\xe9.list";
    r.reload->files[0].problem = written.files[0].problem;
    std::string body;
    ASSERT_NO_THROW(body = render_json(r));
    const nlohmann::json doc = nlohmann::json::parse(body);
    EXPECT_EQ(doc.at("files").at("list").at(0).at("path"), "/etc/caf\xEF\xBF\xBD.list");
}

TEST_F(Status, MetricsHaveOneSeriesPerFileEvenWhenTwoLinesNameIt) {
    StatusReport r = report();
    FileHealth again = r.reload->files.at(0);
    again.name = "others";
    again.problem = "partners.list:1: bad";
    r.reload->files.push_back(again);
    const std::string metrics = render_metrics(r);
    const std::string series = "cscguard_file_refused{path=\"" + list + "\"} ";
    const std::size_t at = metrics.find(series);
    ASSERT_NE(at, std::string::npos) << metrics;
    EXPECT_EQ(metrics.find(series, at + 1), std::string::npos) << metrics;
    EXPECT_EQ(metrics.substr(at + series.size(), 2), "1\n") << "refused for one of its names";
}

TEST(CrlState, FreshInGraceStale) {
    RevocationList crl;
    crl.next_update = 1000;
    EXPECT_EQ(crl_state(crl, 999, 0), "fresh");
    EXPECT_EQ(crl_state(crl, 1000, 0), "fresh");
    EXPECT_EQ(crl_state(crl, 1001, 60), "in grace");
    EXPECT_EQ(crl_state(crl, 1001, 0), "stale");
}

TEST(Outcomes, EveryVerdictHasOneAndEveryOutcomeAName) {
    Verdict v;
    EXPECT_EQ(outcome_of(v), Outcome::NotMatched);
    v.revoked = v.cache_revoked = true;
    EXPECT_EQ(outcome_of(v), Outcome::CacheRevoked);
    v.cache_revoked = false;
    EXPECT_EQ(outcome_of(v), Outcome::Revoked);
    v = {};
    v.granted = true;
    EXPECT_EQ(outcome_of(v), Outcome::Granted);
    std::set<std::string_view> names;
    for (std::size_t o = 0; o < kOutcomeCount; ++o) names.insert(outcome_name(static_cast<Outcome>(o)));
    EXPECT_EQ(names.size(), kOutcomeCount);
}

}  // namespace
}  // namespace cscguard
