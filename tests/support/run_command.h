// Runs a shell command and captures what it prints: the tests use it for
// independent tools (openssl, pk12util, apache2 -t, the cscguard binary)
// whose output they judge.
#pragma once

#include <string>

namespace cscguard::testing {

struct CommandResult {
    int status;          // the exit status, or -1 when the command did not exit (a signal)
    std::string output;  // stdout and stderr together, as a terminal would show them
};

// `/bin/sh -c COMMAND`, with stderr sent to the same pipe as stdout so a
// failure's message lands in the test's failure message.
CommandResult run_command(const std::string& command);

}  // namespace cscguard::testing
