// Runs cscguard commands in-process against a fresh CA directory.
#pragma once

#include <ctime>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "cli.h"

namespace cscguard::tool::testing {

struct Result {
    int code;
    std::string out;
    std::string err;
};

class ToolTest : public ::testing::Test {
protected:
    void SetUp() override {
        root = ::testing::TempDir() + "/cscguard-" + ::testing::UnitTest::GetInstance()->current_test_info()->name();
        std::system(("rm -rf '" + root + "'").c_str());
        dir = root + "/ca";
        pub = root + "/pub";
    }
    void TearDown() override {
        if (!HasFailure()) std::system(("rm -rf '" + root + "'").c_str());
    }

    // `cscguard --dir DIR WORDS...` at time `now` (default: the real clock).
    Result run(std::vector<std::string> words, std::time_t at = 0) {
        words.insert(words.begin(), {"--dir", dir});
        std::ostringstream out, err;
        const int code = run_cli(words, out, err, false, at ? at : std::time(nullptr));
        return {code, out.str(), err.str()};
    }

    // init a CA named kitty-ca publishing into `pub`.
    void init(std::vector<std::string> extra = {}) {
        std::vector<std::string> words{"init", "--name", "kitty-ca", "--publish-dir", pub};
        words.insert(words.end(), extra.begin(), extra.end());
        const Result r = run(words);
        ASSERT_EQ(r.code, 0) << r.err;
    }

    std::string root, dir, pub;
};

}  // namespace cscguard::tool::testing
