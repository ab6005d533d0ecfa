#include "ca.h"

#include <algorithm>

#include "issuer.h"
#include "secret.h"
#include "serial.h"
#include "crl.h"
#include "tool_error.h"

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

Record Ca::issue(const CertProfile& requested, EVP_PKEY& subject_key, EVP_PKEY* private_key_to_keep) {
    CertProfile profile = requested;
    if (!profile.not_before) profile.not_before = ctx.now - 300;  // the injected clock; 5 min for skew
    const std::string serial = random_serial(serials());
    X509Ptr issued = build_certificate(profile, subject_key, cert.get(), key(), serial);
    if (private_key_to_keep) {
        write_file_atomic(ctx.dir.key_file(serial), private_key_pem(*private_key_to_keep), 0600);
    }
    write_file_atomic(ctx.dir.cert_file(serial), certificate_pem(*issued), 0644);
    Record r;
    r.status = 'V';
    r.expires = asn1_to_time(*X509_get0_notAfter(issued.get()));
    r.serial = serial;
    r.kind = profile.kind;
    r.subject = "/CN=" + profile.common_name;
    for (const auto& g : profile.groups) r.subject += "/OU=" + g;
    records.push_back(r);
    return r;
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

void check_email(const std::string& email) {
    const std::size_t at = email.find('@');
    if (at == 0 || at == std::string::npos || at + 1 == email.size() || email.find('@', at + 1) != std::string::npos ||
        email.find_first_of(" \t,/") != std::string::npos) {
        throw ToolError(kUsage, "'" + email + "' is not an e-mail address");
    }
}

}  // namespace cscguard::tool
