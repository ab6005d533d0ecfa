// An opened CA directory: settings, certificate, database, and the key on
// demand. Commands use it under the directory's lock.
#pragma once

#include <ctime>
#include <iosfwd>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "ca_dir.h"
#include "database.h"
#include "x509_builder.h"

namespace cscguard::tool {

// What every command gets: where the CA is, how to talk, global options.
struct Context {
    CaDir dir;
    std::ostream& out;
    std::ostream& err;
    bool json = false;
    bool batch = false;               // never prompt (we never do; kept for scripts)
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

    std::set<std::string> serials() const;
    // Certificates named `name` that are valid now (newest last).
    std::vector<Record*> valid_named(const std::string& name, const std::string& kind = "");
    // The one certificate meant by NAME (its newest valid one) or by --serial.
    Record& find(const std::optional<std::string>& name, const std::optional<std::string>& serial);

    // Signs a certificate, stores it (and the key, when given) and adds it to
    // the database in memory; save() writes the database.
    Record issue(const CertProfile& profile, EVP_PKEY& subject_key, EVP_PKEY* private_key_to_keep);
    void save() const { ctx.dir.save_records(records); }

    X509Ptr certificate_of(const Record& record) const;

private:
    EvpPkeyPtr key_;
};

// Canonical spelling of a serial given on the command line, as index.txt has it.
std::string database_serial(const std::string& text);

// Names that are also allowlist names (groups): letter first, as mod_cscguard wants.
void check_group(const std::string& group);
void check_email(const std::string& email);

}  // namespace cscguard::tool
