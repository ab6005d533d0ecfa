// init, issue, sign, renew: everything that creates certificates.
#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <iostream>
#include <sstream>
#include <sys/stat.h>

#include "tools/cscguard/args.h"
#include "policy/certificate.h"
#include "tools/cscguard/commands.h"
#include "policy/issuer.h"
#include "tools/cscguard/json.h"
#include "tools/cscguard/redis_url.h"
#include "tools/cscguard/secret.h"
#include "tools/cscguard/tool_error.h"

namespace cscguard::tool {
namespace {

// How many certificates `issue client --from-csv` signs before it records
// them and writes their files: an interrupt loses at most one chunk of
// signing work, and the database is rewritten once per chunk, not per line.
constexpr std::size_t kChunk = 64;

// A server's name is its first DNS subjectAltName.
void check_host(const std::string& host) {
    const std::string why = is_valid_cert_name(host) ? dns_name_problem(host) : "letters, digits, '.' and '-' only";
    if (!why.empty()) throw ToolError(kUsage, "'" + printable(host) + "' is not a host name: " + why);
}

// What one `issue client` line asks for.
struct ClientRequest {
    std::string name;
    std::vector<std::string> emails;
    std::vector<std::string> groups;
};

// `email_field` names where the addresses came from in an error.
void check_client_request(const ClientRequest& req, const std::string& email_field) {
    if (!is_valid_cert_name(req.name)) {
        throw ToolError(kUsage, "'" + req.name + "' is not a certificate name: letters, digits, '.', '_', '-', '@'");
    }
    for (const auto& e : req.emails) check_email(e, email_field);
    for (const auto& g : req.groups) check_group(g);
}

std::string report(const Context& ctx, const Record& r, const std::string& key_file, const std::string& p12_file,
                   const std::string& p12_password) {
    if (ctx.json) {
        JsonObject o;
        o.add("name", r.name()).add("serial", r.serial).add("kind", r.kind).add("expires", format_asn1_time(r.expires));
        o.add("certificate", ctx.dir.cert_file(r.serial)).add("key", key_file);
        if (!p12_file.empty()) o.add("p12", p12_file).add("p12_password", p12_password);
        return o.str() + "\n";
    }
    std::string text = "issued " + r.kind + " " + r.name() + " serial " + r.serial + "\n";
    text += "  certificate " + ctx.dir.cert_file(r.serial) + "\n";
    if (!key_file.empty()) text += "  key         " + key_file + "\n";
    if (!p12_file.empty()) {
        text += "  p12         " + p12_file + "\n";
        if (!p12_password.empty()) text += "  p12 password (shown once, store it now): " + p12_password + "\n";
    }
    return text;
}

// Splits a CSV line on commas; ';' separates several e-mails or groups in a field.
std::vector<std::string> split(const std::string& text, char sep) {
    std::vector<std::string> out;
    std::stringstream in(text);
    for (std::string part; std::getline(in, part, sep);) {
        part.erase(0, part.find_first_not_of(" \t\r"));
        part.erase(part.find_last_not_of(" \t\r") + 1);
        if (!part.empty()) out.push_back(part);
    }
    return out;
}

std::vector<ClientRequest> read_csv(const std::string& path) {
    std::istringstream in(read_file(path));
    std::vector<ClientRequest> requests;
    std::size_t line_no = 0;
    for (std::string line; std::getline(in, line);) {
        ++line_no;
        if (line.empty() || line[0] == '#' || (line_no == 1 && line.rfind("name", 0) == 0)) continue;
        std::vector<std::string> fields;
        std::stringstream cells(line);
        for (std::string cell; std::getline(cells, cell, ',');) fields.push_back(cell);
        ClientRequest req;
        req.name = fields.empty() ? "" : split(fields[0], ';').empty() ? "" : split(fields[0], ';')[0];
        if (fields.size() > 1) req.emails = split(fields[1], ';');
        if (fields.size() > 2) req.groups = split(fields[2], ';');
        try {
            check_client_request(req, "the e-mail field");
        } catch (const ToolError& err) {
            throw ToolError(err.code(), path + ":" + std::to_string(line_no) + ": " + err.what());
        }
        requests.push_back(std::move(req));
    }
    return requests;
}

// Refused unless DIR is missing or empty (our lock file aside): init makes it 0700.
void check_new_ca_directory(const CaDir& dir) {
    if (dir.initialised()) throw ToolError(kConflict, dir.root() + " already holds a CA; refusing to overwrite it");
    if (!directory_is_empty_or_missing(dir.root(), ".lock")) {
        throw ToolError(kConflict, dir.root() + " is not empty; give init a new directory (it becomes 0700)");
    }
}

}  // namespace

int cmd_init(Context& ctx, const Words& words) {
    Args args(words, {"name", "key", "days", "crl-days", "crl-url", "publish-dir", "push", "push-max-age"}, {});
    args.at_most(0);
    const auto name = args.value("name");
    if (!name) throw ToolError(kUsage, "init needs --name NAME (the CA's name, e.g. kitty-ca)");
    if (!is_valid_name(*name)) {
        throw ToolError(kUsage, "'" + *name + "' is not a CA name: a letter first, then letters, digits, '.', '_', '-' "
                                              "(it is also the issuer name mod_cscguard's rules use)");
    }
    // Everything is checked before anything is created.
    check_new_ca_directory(ctx.dir);
    CaSettings s;
    s.name = *name;
    s.key_spec = args.value_or("key", "ec:P-256");
    check_key_spec(s.key_spec, false);
    const int days = args.days_value_or("days", 3650);
    s.crl_days = args.days_value_or("crl-days", 30);
    s.crl_url = args.value_or("crl-url", "");
    if (const std::string why = s.crl_url.empty() ? "" : crl_url_problem(s.crl_url); !why.empty()) {
        throw ToolError(kUsage, "--crl-url '" + printable(s.crl_url) + "': " + why);
    }
    if (const auto push = args.value("push")) s.push = redis_url(*push, "--push").text;
    if (args.value("push-max-age")) {
        if (s.push.empty()) throw ToolError(kUsage, "--push-max-age without --push: it is how long the entries pushed there live");
        s.push_max_age_days = args.days_value_or("push-max-age", 1);
    }
    // Stored absolute: `revoke --publish` from any directory must publish here.
    s.publish_dir = absolute_path(args.value_or("publish-dir", ctx.dir.publish_dir()));
    check_publish_dir_unclaimed(s.publish_dir);
    std::string pass;
    if (ctx.ca_pass) pass = read_secret(*ctx.ca_pass);
    s.key_encrypted = !pass.empty();

    make_directories(ctx.dir.root(), 0700);
    CaDir::Lock lock(ctx.dir, true, ctx.lock_timeout);  // .lock lives inside DIR: it has to exist first
    // Again under the lock: another init may have taken DIR since the first look.
    check_new_ca_directory(ctx.dir);
    chmod(ctx.dir.root().c_str(), 0700);  // it may have existed, empty
    for (const char* sub : {"private", "certs", "p12"}) make_directories(ctx.dir.path(sub), 0700);

    EvpPkeyPtr key = generate_key(s.key_spec, false);
    CertProfile profile;
    profile.kind = "ca";
    profile.common_name = s.name;
    profile.days = days;
    profile.not_before = ctx.now - 300;
    X509Ptr cert = build_certificate(profile, *key, nullptr, *key, random_serial({}));
    write_file_atomic(ctx.dir.path("private/ca.key"), private_key_pem(*key, pass), 0600);
    write_file_atomic(ctx.dir.path("ca.crt"), certificate_pem(*cert), 0644);
    write_file_atomic(ctx.dir.path("index.txt"), "", 0600);
    write_file_atomic(ctx.dir.path("index.txt.attr"), "unique_subject = no\n", 0600);
    write_file_atomic(ctx.dir.path("crlnumber"), "01\n", 0600);
    ctx.dir.save_settings(s);  // last: its presence marks the CA as initialised

    Ca ca(ctx);
    ca.use_key(std::move(key));
    const Published pub = publish_files(ca, s.publish_dir);
    if (ctx.json) {
        ctx.out << JsonObject().add("name", s.name).add("dir", ctx.dir.root()).add("certificate", ctx.dir.path("ca.crt"))
                       .add("key_encrypted", s.key_encrypted).add("publish_dir", pub.dir).add("push", s.push).str() << "\n";
    } else {
        ctx.out << "created CA " << s.name << " in " << ctx.dir.root() << " (" << s.key_spec << ", " << days
                << " days" << (s.key_encrypted ? ", key encrypted" : "") << ")\n"
                << "published an empty CRL and allowlist in " << pub.dir << "\n";
        if (!s.push.empty()) {
            // Until a push writes the marker, the module takes the cache for one that was flushed.
            ctx.out << "revocations will be pushed to " << s.push << "; run `cscguard push` once it is up to mark the cache\n";
        }
        ctx.out << "next: cscguard issue server HOST, cscguard issue client NAME --email ... --group ...\n";
    }
    return kOk;
}

int cmd_issue(Context& ctx, const Words& words) {
    Args args(words, {"email", "group", "days", "key", "p12", "p12-pass", "san", "from-csv"}, {});
    const std::string kind = args.need(0, "what to issue: client NAME or server HOST");
    if (kind != "client" && kind != "server") throw ToolError(kUsage, "issue client NAME | issue server HOST");
    CaDir::Lock lock(ctx.dir, true, ctx.lock_timeout);
    Ca ca(ctx);
    const std::string key_spec = args.value_or("key", ca.settings.key_spec);
    check_key_spec(key_spec, kind == "client");

    if (kind == "server") {
        const std::string host = args.need(1, "the server's host name");
        args.at_most(2);
        check_host(host);
        CertProfile p;
        p.kind = "server";
        p.common_name = host;
        p.days = args.days_value_or("days", ca.settings.server_days);
        p.sans.push_back("DNS:" + host);
        for (const auto& san : args.values("san")) {
            check_san(san);
            p.sans.push_back(san);
        }
        p.crl_url = ca.settings.crl_url;
        ca.key();  // a wrong CA passphrase fails before any work
        EvpPkeyPtr key = generate_key(key_spec, false);
        const Ca::Signed s = ca.sign(p, *key, private_key_pem(*key));
        ca.commit({s});
        ctx.out << report(ctx, s.record, ctx.dir.key_file(s.record.serial), "", "");
        return kOk;
    }

    std::vector<ClientRequest> requests;
    if (const auto csv = args.value("from-csv")) {
        args.at_most(1);
        requests = read_csv(*csv);
    } else {
        requests.push_back({args.need(1, "the client's name"), args.values("email"), args.values("group")});
        args.at_most(2);
        check_client_request(requests.back(), "--email");
    }
    if (!args.values("san").empty()) throw ToolError(kUsage, "--san is for server certificates; give a client --email");
    const int days = args.days_value_or("days", ca.settings.client_days);
    const auto p12 = args.value("p12");
    if (p12 && *p12 != "compat" && *p12 != "modern") throw ToolError(kUsage, "--p12 compat|modern");
    if (!p12 && args.value("p12-pass")) throw ToolError(kUsage, "--p12-pass goes with --p12 compat|modern");
    // Every secret is read before anything is signed.
    const std::optional<std::string> chosen_password =
        args.value("p12-pass") ? std::optional(read_secret(*args.value("p12-pass"))) : std::nullopt;
    // Check every name first: a batch either issues everything or nothing.
    std::set<std::string> batch_names;
    for (const auto& req : requests) {
        if (!ca.valid_named(req.name, "client").empty() || !batch_names.insert(req.name).second) {
            throw ToolError(kConflict, "a valid client certificate named '" + req.name +
                                           "' exists already (use `cscguard renew " + req.name + "`, or revoke it first)");
        }
    }
    ca.key();  // a wrong CA passphrase fails before any work

    std::size_t done = 0;
    try {
        for (std::size_t start = 0; start < requests.size(); start += kChunk) {
            std::vector<Ca::Signed> chunk;
            for (std::size_t i = start; i < requests.size() && i < start + kChunk; ++i) {
                CertProfile p;
                p.kind = "client";
                p.common_name = requests[i].name;
                p.emails = requests[i].emails;
                p.groups = requests[i].groups;
                p.days = days;
                p.crl_url = ca.settings.crl_url;
                EvpPkeyPtr key = generate_key(key_spec, true);
                chunk.push_back(ca.sign(p, *key, private_key_pem(*key)));
            }
            ca.commit(chunk);
            for (const Ca::Signed& s : chunk) {
                std::string p12_file, password;
                if (p12) {
                    p12_file = ctx.dir.path("p12/" + s.record.name() + ".p12");
                    password = chosen_password ? *chosen_password : random_password(24);
                    export_p12_file(ca, s.record, *p12, password, p12_file);
                    if (chosen_password) password.clear();  // the caller chose it: do not echo it
                }
                ++done;
                if (requests.size() == 1) ctx.out << report(ctx, s.record, ctx.dir.key_file(s.record.serial), p12_file, password);
            }
            if (ctx.progress && requests.size() > 1) ctx.err << "\rissued " << done << "/" << requests.size() << std::flush;
        }
    } catch (const ToolError& e) {
        if (done == 0 || requests.size() == 1) throw;
        throw ToolError(e.code(), std::string(e.what()) + " (" + std::to_string(done) + " of " + std::to_string(requests.size()) +
                                      " certificates were issued before this: see `cscguard list`)");
    }
    if (ctx.progress && requests.size() > 1) ctx.err << "\n";
    if (requests.size() > 1) {
        if (ctx.json) ctx.out << JsonObject().add("issued", static_cast<long long>(requests.size())).str() << "\n";
        else ctx.out << "issued " << requests.size() << " client certificates\n";
    }
    return kOk;
}

int cmd_sign(Context& ctx, const Words& words) {
    Args args(words, {"name", "email", "group", "days", "san"}, {});
    const std::string kind = args.need(0, "client or server");
    const std::string csr_file = args.need(1, "the request file REQ.csr");
    args.at_most(2);
    if (kind != "client" && kind != "server") throw ToolError(kUsage, "sign client|server REQ.csr --name NAME");
    const auto name = args.value("name");
    if (!name) throw ToolError(kUsage, "sign needs --name NAME (the request's own subject is not trusted)");
    EvpPkeyPtr pub = public_key_of_csr(read_file(csr_file), csr_file, kind == "client");
    CaDir::Lock lock(ctx.dir, true, ctx.lock_timeout);
    Ca ca(ctx);
    CertProfile p;
    p.kind = kind;
    p.common_name = *name;
    p.crl_url = ca.settings.crl_url;
    if (kind == "client") {
        const ClientRequest req{*name, args.values("email"), args.values("group")};
        check_client_request(req, "--email");
        if (!args.values("san").empty()) throw ToolError(kUsage, "--san is for server certificates; give a client --email");
        if (!ca.valid_named(*name, "client").empty()) {
            throw ToolError(kConflict, "a valid client certificate named '" + *name + "' exists already");
        }
        p.emails = req.emails;
        p.groups = req.groups;
        p.days = args.days_value_or("days", ca.settings.client_days);
    } else {
        check_host(*name);
        p.sans.push_back("DNS:" + *name);
        for (const auto& san : args.values("san")) {
            check_san(san);
            p.sans.push_back(san);
        }
        p.days = args.days_value_or("days", ca.settings.server_days);
    }
    const Ca::Signed s = ca.sign(p, *pub, "");
    ca.commit({s});
    ctx.out << report(ctx, s.record, "", "", "");
    return kOk;
}

int cmd_renew(Context& ctx, const Words& words) {
    Args args(words, {"days", "key"}, {"rekey", "revoke-old", "keep-old"});
    const std::string name = args.need(0, "the certificate's name");
    args.at_most(1);
    if (args.flag("revoke-old") && args.flag("keep-old")) throw ToolError(kUsage, "--revoke-old or --keep-old, not both");
    CaDir::Lock lock(ctx.dir, true, ctx.lock_timeout);
    Ca ca(ctx);
    auto current = ca.valid_named(name);
    if (current.empty()) throw ToolError(kNotFound, "no valid certificate named '" + name + "' to renew");
    const Record old = *current.back();
    X509Ptr old_cert = ca.certificate_of(old);

    CertProfile p;
    p.kind = old.kind;
    p.common_name = old.name();
    p.groups = old.groups();
    p.crl_url = ca.settings.crl_url;
    p.days = args.days_value_or("days", old.kind == "client" ? ca.settings.client_days : ca.settings.server_days);
    p.emails = san_emails(*old_cert);
    GeneralNamesPtr sans(static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(old_cert.get(), NID_subject_alt_name, nullptr, nullptr)));
    for (int i = 0; sans && i < sk_GENERAL_NAME_num(sans.get()); ++i) {
        const GENERAL_NAME* gn = sk_GENERAL_NAME_value(sans.get(), i);
        if (gn->type == GEN_DNS) {
            p.sans.push_back("DNS:" + std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(gn->d.ia5)),
                                                  static_cast<std::size_t>(ASN1_STRING_length(gn->d.ia5))));
        } else if (gn->type == GEN_IPADD && (gn->d.ip->length == 4 || gn->d.ip->length == 16)) {
            char text[INET6_ADDRSTRLEN];
            const int family = gn->d.ip->length == 4 ? AF_INET : AF_INET6;
            if (inet_ntop(family, gn->d.ip->data, text, sizeof text)) p.sans.push_back(std::string("IP:") + text);
        }
    }
    const std::string new_key_spec = args.value_or("key", ca.settings.key_spec);
    if (args.flag("rekey")) check_key_spec(new_key_spec, old.kind == "client");
    ca.key();  // a wrong CA passphrase fails before any work
    EvpPkeyPtr new_key;
    EVP_PKEY* subject_key = X509_get0_pubkey(old_cert.get());  // same key unless --rekey
    std::string key_pem;
    if (args.flag("rekey")) {
        new_key = generate_key(new_key_spec, old.kind == "client");
        subject_key = new_key.get();
        key_pem = private_key_pem(*new_key);
    } else {
        // Same key: keep the tool's copy of it (if it has one) next to the new certificate.
        struct stat old_key {};
        if (::stat(ctx.dir.key_file(old.serial).c_str(), &old_key) == 0) key_pem = read_file(ctx.dir.key_file(old.serial));
    }
    if (!subject_key) throw ToolError(kFailure, ctx.dir.cert_file(old.serial) + ": no public key");
    const Ca::Signed renewed = ca.sign(p, *subject_key, key_pem);
    if (args.flag("revoke-old")) {
        for (auto& r : ca.records) {
            if (r.serial == old.serial) {
                r.status = 'R';
                r.revoked_at = ctx.now;
                r.reason = "superseded";
            }
        }
    }
    ca.commit({renewed});
    ctx.out << report(ctx, renewed.record, key_pem.empty() ? "" : ctx.dir.key_file(renewed.record.serial), "", "");
    if (!ctx.json) {
        ctx.out << "  replaces   " << old.serial << (args.flag("revoke-old") ? " (revoked: superseded; run `cscguard publish`)" : " (still valid until it expires; --revoke-old to revoke it)") << "\n";
    }
    return kOk;
}

}  // namespace cscguard::tool
