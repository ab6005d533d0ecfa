// What one authorization costs in policy/, and whether it grows with the
// size of the allowlist (it must not: lookups are hashed).
#include <benchmark/benchmark.h>

#include <fstream>
#include <map>
#include <memory>
#include <random>

#include "policy/allowlist.h"
#include "policy/crl.h"
#include "policy/decision_counters.h"
#include "policy/policy.h"
#include "policy/policy_store.h"
#include "policy/rules.h"
#include "policy/snapshot.h"
#include "tests/support/test_pki.h"

namespace {

using namespace cscguard;

std::string random_serial(std::mt19937_64& rng) {
    char buf[40];
    std::snprintf(buf, sizeof buf, "%016llX%016llX", static_cast<unsigned long long>(rng() >> 1),
                  static_cast<unsigned long long>(rng()));
    return buf;
}

// An allowlist file of `n` random kitty serials plus the one we look up.
std::string write_allowlist(std::size_t n, const std::string& member) {
    const std::string path = "/tmp/cscguard-bench-" + std::to_string(n) + ".list";
    std::ofstream out(path);
    std::mt19937_64 rng(n);
    for (std::size_t i = 0; i < n; ++i) out << "kitty:" << random_serial(rng) << " user" << i << "\n";
    out << "kitty:" << member << "\n";
    return path;
}

struct World {
    testing::TestCa ca{"kitty-ca"};
    std::string pem = ca.issue({{{"CN", "eager-client"}, {"emailAddress", "eager@kitty.example"}}, "1D1D1C749D9C2D16"});
};

World& world() {
    static World w;
    return w;
}

// Request-path cost of `Require cscguard-allowlist` against N entries, for a
// listed and an unlisted certificate (the connection's identity is cached).
void BM_AllowlistDecision(benchmark::State& state) {
    const auto n = static_cast<std::size_t>(state.range(0));
    const std::string path = write_allowlist(n, state.range(1) ? "1D1D1C749D9C2D16" : "01");
    PolicyStore store({Issuer::from_pem("kitty", world().ca.pem())}, {{"big", path, ""}}, {}, 0);
    std::remove(path.c_str());
    const Policy& policy = *store.current();
    Rule rule = Rule::parse(RuleKind::Allowlist, "big");
    rule.bind(policy);
    const Identity identity = policy.identify(world().pem);
    const std::time_t now = std::time(nullptr);  // within the certificate's validity: the lookup runs
    if (evaluate(rule, identity, policy, now).granted != (state.range(1) != 0)) state.SkipWithError("wrong decision");
    for (auto _ : state) {
        Verdict v = evaluate(rule, identity, policy, now);
        benchmark::DoNotOptimize(v);
    }
    state.SetLabel(state.range(1) ? "listed" : "unlisted");
}
BENCHMARK(BM_AllowlistDecision)->ArgsProduct({{1000, 100000, 1000000}, {0, 1}})->Unit(benchmark::kNanosecond);

// Loading (parsing and hashing) an allowlist file of N entries.
void BM_AllowlistLoad(benchmark::State& state) {
    const auto n = static_cast<std::size_t>(state.range(0));
    const std::string path = write_allowlist(n, "01");
    for (auto _ : state) {
        SerialTable table = load_allowlist(path, {"kitty"});
        benchmark::DoNotOptimize(table);
    }
    std::remove(path.c_str());
    state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(n));
}
BENCHMARK(BM_AllowlistLoad)->Arg(100000)->Arg(1000000)->Unit(benchmark::kMillisecond);

// A CRL of N entries, as the watcher compiles it on every change (the issue's
// target: 1M allowlist + 1M CRL entries in <= 1.5 s on one core).
const std::string& big_crl(std::size_t n) {
    static std::map<std::size_t, std::string> made;
    std::string& pem = made[n];
    if (pem.empty()) {
        testing::CrlSpec spec;
        std::mt19937_64 rng(n + 1);
        for (std::size_t i = 0; i < n; ++i) spec.revoked_hex.push_back(random_serial(rng));
        pem = world().ca.crl(spec);
    }
    return pem;
}

void BM_CrlLoad(benchmark::State& state) {
    const auto n = static_cast<std::size_t>(state.range(0));
    const std::string& pem = big_crl(n);
    const std::vector<std::shared_ptr<const Issuer>> issuers{Issuer::from_pem("kitty", world().ca.pem())};
    for (auto _ : state) {
        auto lists = parse_crls(pem, "big.crl", issuers);
        benchmark::DoNotOptimize(lists);
    }
    state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(n));
    state.counters["MB"] = static_cast<double>(pem.size()) / 1e6;
}
BENCHMARK(BM_CrlLoad)->Arg(100000)->Arg(1000000)->Unit(benchmark::kMillisecond);

// The issue's compile target: a start (or a watcher's reload of both files)
// with a 1M-entry allowlist and a 1M-entry CRL - read, hashed, parsed,
// verified and compiled, on one core.
void BM_CompileAllowlistAndCrl(benchmark::State& state) {
    const auto n = static_cast<std::size_t>(state.range(0));
    const std::string list_path = write_allowlist(n, "01");
    const std::string crl_path = "/tmp/cscguard-bench-compile-" + std::to_string(n) + ".crl";
    std::ofstream(crl_path) << big_crl(n);
    const std::vector<std::shared_ptr<const Issuer>> issuers{Issuer::from_pem("kitty", world().ca.pem())};
    for (auto _ : state) {
        PolicyStore store(issuers, {{"big", list_path, ""}}, {{crl_path, ""}}, 0);
        benchmark::DoNotOptimize(store);
    }
    std::remove(list_path.c_str());
    std::remove(crl_path.c_str());
    state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(2 * n));
}
BENCHMARK(BM_CompileAllowlistAndCrl)->Arg(1000000)->Unit(benchmark::kMillisecond);

// What a child pays per change: opening a snapshot of N allowlist + N CRL
// entries (layout checks and the SHA-256 of all of it) - no parse.
void BM_SnapshotOpen(benchmark::State& state) {
    const auto n = static_cast<std::size_t>(state.range(0));
    const std::string list_path = write_allowlist(n, "01");
    const std::string crl_path = "/tmp/cscguard-bench-" + std::to_string(n) + ".crl";
    std::ofstream(crl_path) << big_crl(n);
    PolicyStore store({Issuer::from_pem("kitty", world().ca.pem())}, {{"big", list_path, ""}}, {{crl_path, ""}}, 0);
    std::remove(list_path.c_str());
    std::remove(crl_path.c_str());
    Snapshot snapshot;
    snapshot.configuration = store.configuration_id();
    for (const CompiledFile* file : store.files()) snapshot.files.push_back(*file);
    const std::string bytes = encode_snapshot(snapshot);
    for (auto _ : state) {
        Snapshot opened = open_snapshot(bytes, nullptr, "bench.snapshot", store.issuer_names());
        benchmark::DoNotOptimize(opened);
    }
    state.counters["MB"] = static_cast<double>(bytes.size()) / 1e6;
}
BENCHMARK(BM_SnapshotOpen)->Arg(1000000)->Unit(benchmark::kMillisecond);

// Once per connection: decode the PEM and find the issuer by key (an ECDSA
// P-256 signature check).
void BM_IdentifyCertificate(benchmark::State& state) {
    Policy policy({Issuer::from_pem("kitty", world().ca.pem())}, {});
    for (auto _ : state) {
        Identity identity = policy.identify(world().pem);
        benchmark::DoNotOptimize(identity);
    }
}
BENCHMARK(BM_IdentifyCertificate)->Unit(benchmark::kMicrosecond);

// Per request on a kept-alive connection: the e-mail rule.
void BM_EmailDecision(benchmark::State& state) {
    Policy policy({Issuer::from_pem("kitty", world().ca.pem())}, {});
    Rule rule = Rule::parse(RuleKind::Email, "boss@kitty.example *@acme.example eager@kitty.example");
    rule.bind(policy);
    const Identity identity = policy.identify(world().pem);
    const std::time_t now = std::time(nullptr);  // within the certificate's validity: the patterns are matched
    if (!evaluate(rule, identity, policy, now).granted) state.SkipWithError("wrong decision");
    for (auto _ : state) {
        Verdict v = evaluate(rule, identity, policy, now);
        benchmark::DoNotOptimize(v);
    }
}
BENCHMARK(BM_EmailDecision)->Unit(benchmark::kNanosecond);

// Per decision, for the status page: one relaxed atomic increment in memory
// every child shares. With two threads both hit the same counter, as two
// children granting the same provider do: the worst case, a cache line
// bouncing between the cores.
void BM_CountDecision(benchmark::State& state) {
    static DecisionCounters counters;
    const std::size_t provider = provider_index(EmailRule::kProvider);
    for (auto _ : state) counters.add(provider, Outcome::Granted);
    if (state.thread_index() == 0) benchmark::DoNotOptimize(counters.get(provider, Outcome::Granted));
}
BENCHMARK(BM_CountDecision)->Threads(1)->Threads(2)->Unit(benchmark::kNanosecond);

}  // namespace

BENCHMARK_MAIN();
