#include "policy/parallel.h"

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace cscguard {
namespace {

TEST(RunInParallel, EveryJobRunsExactlyOnce) {
    for (std::size_t count : {0u, 1u, 2u, 7u, 100u}) {
        std::vector<std::atomic<int>> runs(count);
        run_in_parallel(count, [&](std::size_t i) { runs[i]++; });
        for (std::size_t i = 0; i < count; ++i) EXPECT_EQ(runs[i].load(), 1) << "job " << i << " of " << count;
    }
}

TEST(RunInParallel, TwoJobsRunSideBySideWhenThereAreTwoCores) {
    // Each job waits (up to 2 s) for the other to start: side by side they
    // meet at once, one after the other they cannot.
    std::vector<std::thread::id> ids(2);
    std::atomic<int> started{0};
    run_in_parallel(2, [&](std::size_t i) {
        ids[i] = std::this_thread::get_id();
        started++;
        for (int waited = 0; started.load() < 2 && waited < 2000; ++waited) {
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
    });
    if (std::thread::hardware_concurrency() >= 2) {
        EXPECT_NE(ids[0], ids[1]);
    } else {
        EXPECT_EQ(ids[0], ids[1]);  // one core: the caller's thread does both
    }
}

TEST(RunInParallel, AJobsExceptionIsThrownAfterEveryJobRan) {
    std::atomic<int> ran{0};
    try {
        run_in_parallel(10, [&](std::size_t i) {
            ran++;
            if (i == 3 || i == 7) throw std::runtime_error("job " + std::to_string(i));
        });
        FAIL() << "no exception";
    } catch (const std::runtime_error& err) {
        EXPECT_STREQ(err.what(), "job 3");  // the first by index
    }
    EXPECT_EQ(ran.load(), 10);
}

}  // namespace
}  // namespace cscguard
