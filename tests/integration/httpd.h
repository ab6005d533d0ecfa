// Starts and stops a real Apache httpd with mod_ssl and mod_cscguard for the
// integration tests: a private directory, free loopback ports, a generated
// configuration, and a check of its error log.
#pragma once

#include <string>
#include <sys/types.h>
#include <vector>

#include "tests/support/files.h"
#include "tests/support/free_port.h"
#include "tests/support/temp_dir.h"

namespace it {

// The openssl-built PKI of make_pki.sh: $CSCGUARD_IT_PKI when ctest made it
// already, else made once for this process.
const std::string& pki_dir();
std::string pki(const std::string& file);

// Writes a CRL of CA (a PKI name like "kitty-ca") to `out` with the openssl
// command line (pki_crl in scripts/lib/pki.sh): nextUpdate `hours` from now
// (negative: already stale), revoking the given hex serials ("0x1D1D...").
void make_crl(const std::string& ca, const std::string& out, int hours, const std::vector<std::string>& serials = {});

// A loopback TCP port nobody listens on right now.
using cscguard::testing::free_port;

// Whole files; write_file renames a complete file into place, as the
// README tells administrators to, so the watcher never reads half of one.
using cscguard::testing::read_file;
using cscguard::testing::write_file;

// The child processes of `parent` (from /proc).
std::vector<pid_t> children_of(pid_t parent);
// A process's name (/proc/PID/comm): "apache2", or "cscguard-watch" for the
// module's policy watcher.
std::string name_of(pid_t pid);

// Placeholders in configuration text: {DIR} (the server's directory), {PKI},
// {MODULES} (httpd's module directory), {HTTPS} (a TLS vhost with
// SSLVerifyClient optional), {NOCA} (TLS with optional_no_ca), {HTTP} (plain).
//
// Environment: CSCGUARD_IT_MODULE loads another mod_cscguard.so (e.g. an
// older build, to show a regression test fails there); CSCGUARD_IT_PRELOAD
// preloads a sanitizer runtime into httpd for a module built with ASan+UBSan -
// its reports go to sanitizer/ in the server's directory, and any report
// fails the test that started the server.
class Httpd {
public:
    // `site` follows a base configuration that loads the modules, sets the
    // logs (LogLevel info for cscguard) and listens on the three ports.
    // `trusted_cas`: the CA file mod_ssl verifies clients against (default:
    // the PKI's trusted-cas.pem).
    explicit Httpd(std::string site, std::string mpm = "event", std::string trusted_cas = "");
    ~Httpd();
    Httpd(const Httpd&) = delete;
    Httpd& operator=(const Httpd&) = delete;

    // Starts httpd and waits until every port answers. Throws
    // std::runtime_error with the error log when it does not come up.
    void start();
    void stop();
    // Makes start() run httpd in a PID namespace of its own (`unshare --pid`):
    // a signal it sends to every process (kill(-1)) then reaches only the
    // processes in there. stop() ends the namespace.
    void use_own_pid_namespace() { own_pid_namespace_ = true; }
    // `apachectl graceful` (SIGUSR1 to the parent): old children finish their
    // requests and exit, new ones start with the configuration re-read.
    void graceful();
    // The parent still runs (did not exit, e.g. on a bad configuration).
    bool running();
    // httpd's parent process (as seen from the tests' PID namespace).
    pid_t pid() const;
    std::vector<pid_t> children() const { return children_of(pid()); }
    // The children that serve requests (all but the policy watcher).
    std::vector<pid_t> serving_children() const;
    // The policy watcher's pid, or -1.
    pid_t watcher() const;

    const std::string& dir() const { return dir_; }
    int https_port() const { return https_; }
    int noca_port() const { return noca_; }
    int http_port() const { return http_; }
    std::string error_log() const;
    // Waits until the error log holds `text` (true) or `seconds` pass (false).
    bool log_shows(const std::string& text, double seconds = 10) const;

    // Error-log lines at warn level or worse, from byte `from` on, that
    // contain none of `expected` (tags like "AH01630" or "CSG0003").
    std::vector<std::string> unexpected_log_lines(std::size_t from, const std::vector<std::string>& expected) const;

    // Runs `apache2 -t` on this configuration: exit status and all output.
    struct ConfigTest {
        int status;
        std::string output;
    };
    ConfigTest configtest();

    std::string config_path() const { return dir_ + "/httpd.conf"; }

    // Sanitizer reports written by httpd processes so far (CSCGUARD_IT_PRELOAD).
    std::vector<std::string> sanitizer_reports() const;

private:
    void pick_ports_and_write_config();
    void check_sanitizer_reports() const;

    std::string site_;
    std::string mpm_;
    std::string trusted_cas_;
    cscguard::testing::TempDir temp_{"cscguard-it"};  // the server's directory; see ~Httpd
    std::string dir_;
    int https_ = 0, noca_ = 0, http_ = 0;
    pid_t pid_ = -1;  // httpd's parent, or `unshare` with use_own_pid_namespace()
    bool own_pid_namespace_ = false;
};

}  // namespace it
