// cscguard: the CA tool that issues client certificates, revokes them and
// publishes what mod_cscguard enforces. See cli.cpp for the verbs.
#include <ctime>
#include <iostream>
#include <unistd.h>

#include "tools/cscguard/cli.h"

int main(int argc, char** argv) {
    const std::vector<std::string> args(argv + 1, argv + argc);
    return cscguard::tool::run_cli(args, std::cout, std::cerr, isatty(STDERR_FILENO) != 0, std::time(nullptr));
}
