// Runs cscguard commands in-process against a fresh CA directory, and the
// built binary as a child process when a test needs a real process (signals,
// concurrency, another current directory).
#pragma once

#include <csignal>
#include <cstdlib>
#include <ctime>
#include <dirent.h>
#include <optional>
#include <sstream>
#include <string>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

#include <gtest/gtest.h>

#include "tools/cscguard/cli.h"
#include "tests/support/files.h"
#include "tests/support/temp_dir.h"

namespace cscguard::tool::testing {

struct Result {
    int code;
    std::string out;
    std::string err;
};

inline std::string read_text(const std::string& path) { return cscguard::testing::read_file(path); }

// The names in a directory (without . and ..), empty when it does not exist.
inline std::vector<std::string> files_in(const std::string& path) {
    std::vector<std::string> names;
    if (DIR* d = opendir(path.c_str())) {
        while (const dirent* e = readdir(d)) {
            const std::string name = e->d_name;
            if (name != "." && name != "..") names.push_back(name);
        }
        closedir(d);
    }
    return names;
}

// Starts the built cscguard binary with `args` (in `cwd` when given); stdout
// and stderr go to `log` when given. The child starts with default signal
// dispositions and an empty signal mask, like a program run from a shell.
inline pid_t spawn_tool(const std::vector<std::string>& args, const std::string& cwd = "", const std::string& log = "") {
    const pid_t pid = fork();
    if (pid != 0) return pid;
    for (int sig : {SIGINT, SIGTERM, SIGHUP}) std::signal(sig, SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    if (!cwd.empty() && chdir(cwd.c_str()) != 0) _exit(126);
    if (!log.empty() && !std::freopen(log.c_str(), "a", stdout)) _exit(126);
    if (!log.empty()) dup2(STDOUT_FILENO, STDERR_FILENO);
    std::vector<char*> argv{const_cast<char*>(CSCGUARD_TOOL)};
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(CSCGUARD_TOOL, argv.data());
    _exit(127);
}

// The exit code of a child, or 128 + the signal that ended it.
inline int wait_for(pid_t pid) {
    int status = 0;
    if (waitpid(pid, &status, 0) != pid) return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

class ToolTest : public ::testing::Test {
protected:
    void SetUp() override {
        // The test's name says whose directory it is; TempDir's mkdtemp suffix
        // keeps it unique across parallel ctest runs and build trees.
        const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
        temp.emplace(std::string("cscguard-") + info->test_suite_name() + "." + info->name());
        root = temp->path();
        dir = root + "/ca";
        pub = root + "/pub";
    }
    void TearDown() override {
        if (HasFailure()) temp->keep();  // a failed test's CA directory, to look at
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

    std::optional<cscguard::testing::TempDir> temp;
    std::string root, dir, pub;
};

}  // namespace cscguard::tool::testing
