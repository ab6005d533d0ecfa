// Fuzz target: the watcher's account of the policy files that the status
// page reads from the state directory (policy/status_report.h
// parse_reload_status). Only httpd's parent uid may write it, but it is a
// file like any other: torn, old, or from another module version.
//
// Invariants: the only error is PolicyError, naming the file; what is
// accepted writes out and reads back the same, and renders as HTML, JSON,
// ?auto and ?metrics without throwing, with nothing of it unescaped in HTML.
// And any bytes as a path or an error text (which quotes a file's bytes) are
// written and read back without an exception (they need not be UTF-8).
#include <string>

#include "policy/error.h"
#include "policy/status_report.h"
#include "tests/fuzz/fuzz_check.h"

using namespace cscguard;
using cscguard::fuzz::shown;

namespace {
const std::string kOrigin = "/run/apache2/cscguard/reload-status.json";
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text = fuzz::as_text(data, size);
    {
        FileHealth file;
        file.path = std::string(text);
        file.problem = std::string(text);
        ReloadStatus written;
        written.files.push_back(file);
        try {
            parse_reload_status(encode_reload_status(written), kOrigin);
        } catch (const std::exception& err) {
            fuzz::fail(__FILE__, __LINE__, "these bytes as a path or error do not write and read back", err.what());
        }
    }
    ReloadStatus status;
    try {
        status = parse_reload_status(text, kOrigin);
    } catch (const PolicyError& err) {
        FUZZ_CHECK_MSG(std::string_view(err.what()).substr(0, kOrigin.size()) == kOrigin,
                       "error does not name the file: " + shown(err.what()));
        return 0;
    }
    // The digest is kept as the text it was (hex when the watcher wrote it):
    // compare everything through one more round.
    ReloadStatus again;
    try {
        again = parse_reload_status(encode_reload_status(status), kOrigin);
    } catch (const PolicyError& err) {
        fuzz::fail(__FILE__, __LINE__, "an accepted status does not read back", err.what());
    }
    FUZZ_CHECK(again.generation == status.generation && again.written == status.written);
    FUZZ_CHECK(again.files.size() == status.files.size());

    StatusReport report;
    report.now = 1700000000;
    report.policy = std::make_shared<const Policy>(std::vector<std::shared_ptr<const Issuer>>{},
                                                   std::map<std::string, SerialTable>{});
    report.reload = again;
    const std::string html = render_html(report);
    for (const auto& file : again.files) {
        if (file.path.find('<') != std::string::npos || file.problem.find('<') != std::string::npos) {
            FUZZ_CHECK_MSG(html.find(file.path) == std::string::npos || file.path.find('<') == std::string::npos,
                           "a path with '<' is in the HTML unescaped: " + shown(file.path));
        }
    }
    (void)render_json(report);
    (void)render_auto(report);
    (void)render_metrics(report);
    return 0;
}
