// A site whose allowlist and CRLs the revocation and reload tests rewrite
// while it serves: issuers kitty and acme, a CRL file for each, the
// allowlist "partners", and one location per provider kind.
#pragma once

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "tests/integration/client.h"
#include "tests/support/docs_dir.h"
#include "tests/integration/httpd.h"

namespace it {

using cscguard::testing::add_page;
using cscguard::testing::add_pages;

inline const char* kPolicySite = R"(
CSCGuardIssuer kitty {PKI}/kitty-ca.crt
CSCGuardIssuer acme  {PKI}/acme-ca.crt
CSCGuardAllowlist partners {DIR}/partners.list
CSCGuardCRL {DIR}/kitty.crl
CSCGuardCRL {DIR}/acme.crl
<Directory {DIR}/docs>
  Require all granted
</Directory>
<Location /serial>
  Require cscguard-serial kitty:1D1D1C749D9C2D16 kitty:0A1B
</Location>
<Location /email>
  Require cscguard-email *@kitty.example
</Location>
<Location /subject>
  Require cscguard-subject O=Kitty
</Location>
<Location /allowlist>
  Require cscguard-allowlist partners
</Location>
<Location /valid>
  Require cscguard-valid
</Location>
)";

inline const char* kEagerSerial = "0x1D1D1C749D9C2D16";

// Fails the test on error-log lines at warn or worse other than httpd's
// AH01630 (its line for every 403) and the `expected` tags.
inline void expect_clean_log(const Httpd& server, std::vector<std::string> expected = {}) {
    expected.push_back("AH01630");
    for (const auto& line : server.unexpected_log_lines(0, expected)) ADD_FAILURE() << "unexpected log line: " << line;
}

class PolicySite {
public:
    // `extra` is appended to the site (e.g. CSCGuardReloadInterval 1).
    explicit PolicySite(const std::string& extra = "", const std::string& mpm = "event")
        : server(std::string(kPolicySite) + extra, mpm) {
        write_file(list(), "kitty:1D1D1C749D9C2D16 eager\n");
        make_crl("kitty-ca", kitty_crl(), 24);
        make_crl("acme-ca", acme_crl(), 24);
        add_pages(server.dir() + "/docs", {"serial", "email", "subject", "allowlist", "valid"});
    }

    std::string list() const { return server.dir() + "/partners.list"; }
    std::string kitty_crl() const { return server.dir() + "/kitty.crl"; }
    std::string acme_crl() const { return server.dir() + "/acme.crl"; }

    long status(const std::string& path, const std::string& cert) const {
        return fetch({server.https_port(), path + "/", cert}).status;
    }

    // Seconds until `path` answers `want` for `cert` (on fresh connections),
    // or a negative number when it did not within `timeout` seconds.
    double seconds_until(const std::string& path, const std::string& cert, long want, double timeout) const {
        const auto start = std::chrono::steady_clock::now();
        for (;;) {
            const double waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
            if (status(path, cert) == want) return waited;
            if (waited > timeout) return -1;
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
    }

    Httpd server;
};

}  // namespace it
