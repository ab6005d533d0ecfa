// An opened CA directory: settings, certificate, database, and the key on
// demand. Commands use it under the directory's lock.
#pragma once

#include <ctime>
#include <iosfwd>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "tools/cscguard/ca_dir.h"
#include "tools/cscguard/database.h"
#include "tools/cscguard/x509_builder.h"

namespace cscguard::tool {

// What every command gets: where the CA is, how to talk, global options.
struct Context {
    CaDir dir;
    std::ostream& out;
    std::ostream& err;
    bool json = false;
    double lock_timeout = 30;
    std::optional<std::string> ca_pass;  // secret source for the CA key
    bool progress = false;            // stderr is a terminal
    std::time_t now = 0;
};

class Ca {
public:
    explicit Ca(const Context& ctx);

    const Context& ctx;
    CaSettings settings;
    X509Ptr cert;
    std::vector<Record> records;

    // The CA key, read (and decrypted) on first use.
    EVP_PKEY& key();
    // The key init just made: no second read of the passphrase to sign the first CRL.
    void use_key(EvpPkeyPtr key) { key_ = std::move(key); }
    // Where publish writes (cscguard.conf's publish_dir); ToolError naming
    // cscguard.conf when an older init stored it as a relative path.
    std::string publish_dir() const;

    std::set<std::string> serials() const;
    // Certificates named `name` that are valid now (newest last).
    std::vector<Record*> valid_named(const std::string& name, const std::string& kind = "");
    // The one certificate meant by NAME (its newest valid one) or by --serial.
    Record& find(const std::optional<std::string>& name, const std::optional<std::string>& serial);

    // A certificate signed and added to the database in memory; nothing of it
    // is on disk until commit().
    struct Signed {
        Record record;
        std::string cert_pem;
        std::string key_pem;  // the key the tool keeps for it; "" when its holder has it (a CSR)
    };
    // Checks the profile, signs and adds the record to `records`.
    Signed sign(const CertProfile& profile, EVP_PKEY& subject_key, std::string key_pem);
    // Saves the database (with every change made to `records`), then writes
    // the certificate and key files of `batch`: a file on disk always has its
    // record. SIGINT, SIGTERM and SIGHUP are held back meanwhile, so an
    // interrupt lands before the database is saved or after the files exist.
    void commit(const std::vector<Signed>& batch);
    void save() const { ctx.dir.save_records(records); }

    X509Ptr certificate_of(const Record& record) const;

private:
    EvpPkeyPtr key_;
};

// Canonical spelling of a serial given on the command line, as index.txt has it.
std::string database_serial(const std::string& text);

// Names that are also allowlist names (groups): letter first, as mod_cscguard wants.
void check_group(const std::string& group);
// The module's own rule (policy/email.h), so the tool issues no address a
// rule cannot name; ToolError(kUsage) naming `field` ("--email"...).
void check_email(const std::string& email, const std::string& field);

}  // namespace cscguard::tool
