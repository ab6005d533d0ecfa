// The CA directory and how it is changed safely.
//
//   DIR/                   0700
//     cscguard.conf        the CA's settings (name, validity defaults, CRL days/URL, push target)
//     ca.crt               the CA certificate
//     private/ca.key       the CA key, 0600, AES-256 encrypted when a passphrase was given
//     private/SERIAL.key   keys the tool generated for certificates, 0600
//     certs/SERIAL.pem     every issued certificate
//     index.txt            the database (see database.h), readable by `openssl ca`
//     crlnumber            the next CRL number (hex), as `openssl ca` keeps it
//     p12/                 exported .p12 bundles, 0600
//     publish/             what `publish` writes for mod_cscguard: crl.pem, *.list
//     .lock                flock(2) target: one changing run at a time
//
// Every file is written to a temporary file, fsynced, renamed into place and
// the directory fsynced, so a crash leaves the old or the new file, never half.
#pragma once

#include <ctime>
#include <string>
#include <string_view>
#include <sys/types.h>
#include <vector>

#include "tools/cscguard/database.h"

namespace cscguard::tool {

struct CaSettings {
    std::string name;            // CA common name and the issuer name in allowlists
    std::string key_spec = "ec:P-256";
    int client_days = 365;
    int server_days = 397;
    int crl_days = 30;
    std::string crl_url;          // CRL distribution point put into issued certificates
    std::string publish_dir;      // where `publish` writes what mod_cscguard reads; absolute
                                  // since init stores it so (an older init stored it as given)
    bool key_encrypted = false;
    std::string push;             // redis://HOST[:PORT] of the fleet's revocation cache; "" for none
    int push_max_age_days = 0;    // the longest a cache entry lives; 0: as long as its certificate
};

void write_file_atomic(const std::string& path, std::string_view data, mode_t mode);
// Creates `path` with `data` (whole, fsynced) unless it exists: then false.
bool create_file_exclusive(const std::string& path, std::string_view data, mode_t mode);
// `path` made absolute against the current directory and lexically
// normalised ("a/./b/../c/" -> "/cwd/a/c"); the path need not exist.
std::string absolute_path(const std::string& path);
// mkdir -p; the last directory gets `mode`, missing parents 0755.
void make_directories(const std::string& path, mode_t mode);
// The names in a directory (no . or ..), sorted; none when it does not exist.
std::vector<std::string> directory_entries(const std::string& path);
// True for a missing directory and one holding nothing but `except`.
bool directory_is_empty_or_missing(const std::string& path, const std::string& except = "");
// The whole file through policy/file.h read_named_file (a pipe is read to its
// end, a directory or a read error is refused); ToolError(kFailure) naming the file.
std::string read_file(const std::string& path);

class CaDir {
public:
    explicit CaDir(std::string root) : root_(std::move(root)) {}

    const std::string& root() const { return root_; }
    std::string path(const std::string& relative) const { return root_ + "/" + relative; }
    std::string cert_file(const std::string& serial) const { return path("certs/" + serial + ".pem"); }
    std::string key_file(const std::string& serial) const { return path("private/" + serial + ".key"); }
    // The default publish directory, DIR/publish, as an absolute path.
    std::string publish_dir() const;

    bool initialised() const;
    // Throws ToolError(kNotFound) with a hint when DIR holds no CA.
    void require_initialised() const;

    CaSettings load_settings() const;
    void save_settings(const CaSettings& settings) const;
    std::vector<Record> load_records() const;
    void save_records(const std::vector<Record>& records) const;

    // Allocates the next CRL number (as `openssl ca` does with crlnumber).
    std::string next_crl_number() const;

    // An exclusive (changing) or shared (reading) lock on the CA directory,
    // waited for up to `timeout_seconds`, then ToolError(kLocked).
    class Lock {
    public:
        Lock(const CaDir& dir, bool exclusive, double timeout_seconds);
        ~Lock();
        Lock(const Lock&) = delete;
        Lock& operator=(const Lock&) = delete;

    private:
        int fd_ = -1;
    };

private:
    std::string root_;
};

}  // namespace cscguard::tool
