// Runs independent jobs on several cores: the policy store compiles the
// files that changed together (a million-entry allowlist and CRL take the
// time of the slower one, not of both). Every job runs once; the caller's
// thread is one of the workers, so one job costs no thread at all.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <exception>
#include <thread>
#include <vector>

namespace cscguard {

// Calls job(0) .. job(count - 1) on up to as many threads as the machine has
// cores and returns when all are done. An exception of a job is thrown here,
// after every thread has ended (the first by index).
template <typename Job>
void run_in_parallel(std::size_t count, Job&& job) {
    if (count <= 1) {  // the common round: nothing or one file changed, no thread and no look at the cores
        if (count == 1) job(std::size_t{0});
        return;
    }
    std::vector<std::exception_ptr> failures(count);
    std::atomic<std::size_t> next{0};
    const auto work = [&] {
        for (std::size_t i; (i = next.fetch_add(1)) < count;) {
            try {
                job(i);
            } catch (...) {
                failures[i] = std::current_exception();
            }
        }
    };
    const std::size_t cores = std::max<std::size_t>(1, std::thread::hardware_concurrency());
    std::vector<std::thread> helpers;
    helpers.reserve(std::min(count, cores));  // no allocation, so no throw, once threads run
    for (std::size_t t = 1; t < std::min(count, cores); ++t) {
        try {
            helpers.emplace_back(work);
        } catch (...) {  // no thread to be had: the ones running do the rest
            break;
        }
    }
    work();
    for (auto& helper : helpers) helper.join();
    for (const auto& failure : failures) {
        if (failure) std::rethrow_exception(failure);
    }
}

}  // namespace cscguard
