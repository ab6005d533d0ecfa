// Writes a synthetic allowlist (format v1) of COUNT entries for the e2e
// benchmark: COUNT minus the extra serials made-up ones, and the extra
// serials (the benchmark's client) in the middle, where nothing is cheap.
//
//   e2e_gen_allowlist OUT COUNT PREFIX ISSUER [EXTRA_HEX...]
//
// Every line ends with a newline (the module refuses a last line without one).
#include "bench/e2e/serials.h"

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

int main(int argc, char** argv) {
    if (argc < 5) {
        std::fprintf(stderr, "usage: %s OUT COUNT PREFIX ISSUER [EXTRA_HEX...]\n", argv[0]);
        return 2;
    }
    const std::string out_path = argv[1];
    const long count = std::strtol(argv[2], nullptr, 10);
    const auto prefix = static_cast<std::uint8_t>(std::strtoul(argv[3], nullptr, 16));
    const std::string issuer = argv[4];
    const std::vector<std::string> extras(argv + 5, argv + argc);
    const long synthetic = count - static_cast<long>(extras.size());
    if (synthetic < 0) return 2;

    FILE* out = std::fopen(out_path.c_str(), "w");
    if (!out) {
        std::perror(out_path.c_str());
        return 1;
    }
    for (long i = 0; i < synthetic; ++i) {
        if (i == synthetic / 2) {
            for (const auto& hex : extras) std::fprintf(out, "%s:%s  bench client\n", issuer.c_str(), hex.c_str());
        }
        std::fprintf(out, "%s:%016llX  synthetic %ld\n", issuer.c_str(),
                     static_cast<unsigned long long>(e2e::synthetic_serial(prefix, static_cast<std::uint64_t>(i))), i);
    }
    if (synthetic == 0) {
        for (const auto& hex : extras) std::fprintf(out, "%s:%s  bench client\n", issuer.c_str(), hex.c_str());
    }
    if (std::fclose(out) != 0) {
        std::perror(out_path.c_str());
        return 1;
    }
    return 0;
}
