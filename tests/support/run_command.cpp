#include "tests/support/run_command.h"

#include <cstdio>
#include <stdexcept>

#include <sys/wait.h>

namespace cscguard::testing {

CommandResult run_command(const std::string& command) {
    // The braces keep `a && b` or `a; b` whole: 2>&1 applies to all of it.
    FILE* pipe = popen(("{ " + command + "\n} 2>&1").c_str(), "r");
    if (!pipe) throw std::runtime_error("popen failed: " + command);
    std::string output;
    char buf[4096];
    while (const std::size_t n = std::fread(buf, 1, sizeof buf, pipe)) output.append(buf, n);
    const int status = pclose(pipe);
    return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, output};
}

}  // namespace cscguard::testing
