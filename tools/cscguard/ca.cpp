#include "tools/cscguard/ca.h"

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>

#include "policy/email.h"
#include "policy/issuer.h"
#include "tools/cscguard/secret.h"
#include "policy/serial.h"
#include "policy/crl.h"
#include "tools/cscguard/tool_error.h"

namespace cscguard::tool {

Ca::Ca(const Context& c) : ctx(c) {
    ctx.dir.require_initialised();
    settings = ctx.dir.load_settings();
    cert = load_certificate(read_file(ctx.dir.path("ca.crt")), ctx.dir.path("ca.crt"));
    records = ctx.dir.load_records();
}

EVP_PKEY& Ca::key() {
    if (!key_) {
        std::string pass;
        if (settings.key_encrypted) {
            if (!ctx.ca_pass) {
                throw ToolError(kBadSecret, "the CA key is encrypted: give its passphrase with --ca-pass pass:|env:|file:");
            }
            pass = read_secret(*ctx.ca_pass);
        }
        key_ = load_private_key(read_file(ctx.dir.path("private/ca.key")), pass, ctx.dir.path("private/ca.key"));
    }
    return *key_;
}

std::set<std::string> Ca::serials() const {
    std::set<std::string> out;
    for (const auto& r : records) out.insert(r.serial);
    return out;
}

std::vector<Record*> Ca::valid_named(const std::string& name, const std::string& kind) {
    std::vector<Record*> out;
    for (auto& r : records) {
        if (r.valid_at(ctx.now) && r.name() == name && (kind.empty() || r.kind == kind)) out.push_back(&r);
    }
    return out;
}

Record& Ca::find(const std::optional<std::string>& name, const std::optional<std::string>& serial) {
    if (serial) {
        const std::string wanted = database_serial(*serial);
        for (auto& r : records) {
            if (r.serial == wanted) return r;
        }
        throw ToolError(kNotFound, "no certificate with serial " + wanted + " in " + ctx.dir.root());
    }
    if (!name) throw ToolError(kUsage, "give a NAME or --serial S");
    auto named = valid_named(*name);
    if (named.empty()) {
        for (auto it = records.rbegin(); it != records.rend(); ++it) {
            if (it->name() == *name) return *it;  // revoked or expired: still showable
        }
        throw ToolError(kNotFound, "no certificate named '" + *name + "' (see `cscguard list`)");
    }
    return *named.back();
}

std::string Ca::publish_dir() const {
    if (settings.publish_dir.empty() || settings.publish_dir[0] != '/') {
        throw ToolError(kFailure, ctx.dir.path("cscguard.conf") + ": publish_dir = " + settings.publish_dir +
                                      " is a relative path (an older cscguard init stored it as given), so it would publish "
                                      "relative to wherever cscguard runs. Edit that line to the absolute path of the directory "
                                      "httpd reads (the one in its CSCGuardCRL line), or publish with --out DIR");
    }
    return settings.publish_dir;
}

Ca::Signed Ca::sign(const CertProfile& requested, EVP_PKEY& subject_key, std::string key_pem) {
    CertProfile profile = requested;
    if (!profile.not_before) profile.not_before = ctx.now - 300;  // the injected clock; 5 min for skew
    const std::string serial = random_serial(serials());
    X509Ptr issued = build_certificate(profile, subject_key, cert.get(), key(), serial);
    Record r;
    r.status = 'V';
    r.expires = asn1_to_time(*X509_get0_notAfter(issued.get()));
    r.serial = serial;
    r.kind = profile.kind;
    r.subject = "/CN=" + profile.common_name;
    for (const auto& g : profile.groups) r.subject += "/OU=" + g;
    Signed out{r, certificate_pem(*issued), std::move(key_pem)};
    records.push_back(std::move(r));
    return out;
}

namespace {

// Holds back SIGINT, SIGTERM and SIGHUP while it lives; one that arrives
// meanwhile is delivered when it ends (and ends the process there).
class SignalsHeld {
public:
    SignalsHeld() {
        sigset_t set;
        sigemptyset(&set);
        for (int sig : {SIGINT, SIGTERM, SIGHUP}) sigaddset(&set, sig);
        if (sigprocmask(SIG_BLOCK, &set, &old_) != 0) throw ToolError(kFailure, std::string("cannot block signals: ") + std::strerror(errno));
    }
    ~SignalsHeld() { sigprocmask(SIG_SETMASK, &old_, nullptr); }  // cannot fail with a mask sigprocmask gave us
    SignalsHeld(const SignalsHeld&) = delete;
    SignalsHeld& operator=(const SignalsHeld&) = delete;

private:
    sigset_t old_;
};

}  // namespace

void Ca::commit(const std::vector<Signed>& batch) {
    const SignalsHeld held;
    save();
    for (const Signed& s : batch) {
        if (!s.key_pem.empty()) write_file_atomic(ctx.dir.key_file(s.record.serial), s.key_pem, 0600);
        write_file_atomic(ctx.dir.cert_file(s.record.serial), s.cert_pem, 0644);
    }
}

X509Ptr Ca::certificate_of(const Record& record) const {
    const std::string file = ctx.dir.cert_file(record.serial);
    return load_certificate(read_file(file), file);
}

std::string database_serial(const std::string& text) {
    std::string why;
    const auto serial = Serial::try_parse(text, &why);
    if (!serial) throw ToolError(kUsage, "'" + text + "' is not a serial number: " + why);
    std::string hex = serial->canonical();
    if (hex.size() % 2) hex = "0" + hex;
    return hex;
}

void check_group(const std::string& group) {
    if (!is_valid_name(group) || group == "all") {
        throw ToolError(kUsage, "'" + group + "' is not a group name: a letter first, then letters, digits, '.', '_', "
                                              "'-' ('all' is taken by the list of all certificates)");
    }
}

void check_email(const std::string& email, const std::string& field) {
    if (!is_valid_email(email)) {
        throw ToolError(kUsage, field + " '" + printable(email) + "' is not an e-mail address (USER@DOMAIN: printable ASCII without "
                                                         "spaces, '@' or '*' before the '@', a domain of letters, digits, '-', '.')");
    }
}

}  // namespace cscguard::tool
