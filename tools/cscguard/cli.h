// `cscguard ARGS...` as a function, so tests can run commands in-process.
#pragma once

#include <ctime>
#include <iosfwd>
#include <string>
#include <vector>

namespace cscguard::tool {

// Runs one command line (without the program name). Returns the exit code;
// errors are written to `err` as "cscguard: ...". `now` is the clock
// (tests pass a later time to see certificates and CRLs age).
int run_cli(const std::vector<std::string>& args, std::ostream& out, std::ostream& err, bool stderr_is_terminal,
            std::time_t now);

}  // namespace cscguard::tool
