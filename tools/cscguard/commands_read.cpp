// list, show, export-p12, doctor: reading the CA (export-p12 only adds a file).
#include <cstdio>
#include <set>
#include <sys/stat.h>

#include "tools/cscguard/args.h"
#include "policy/certificate.h"
#include "tools/cscguard/commands.h"
#include "tools/cscguard/json.h"
#include "tools/cscguard/secret.h"
#include "policy/crl.h"
#include "tools/cscguard/tool_error.h"

namespace cscguard::tool {
namespace {

std::string status_of(const Record& r, std::time_t now) {
    if (r.revoked()) return "revoked";
    return r.expires <= now ? "expired" : "valid";
}

std::string record_json(const Record& r, std::time_t now) {
    JsonObject o;
    o.add("name", r.name()).add("serial", r.serial).add("kind", r.kind).add("status", status_of(r, now));
    o.add("expires", format_iso_utc(r.expires)).add("groups", r.groups());
    if (r.revoked()) o.add("revoked", format_iso_utc(r.revoked_at)).add("reason", r.reason);
    return o.str();
}

bool ends_with(const std::string& text, const std::string& suffix) {
    return text.size() > suffix.size() && text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// certs/*.pem and private/*.key (ca.key aside) of no serial in index.txt: a
// certificate revoke cannot reach (an older cscguard wrote files before
// saving the database; an interrupted run could leave them).
std::vector<std::string> unrecorded_files(const CaDir& dir, const std::set<std::string>& serials) {
    std::vector<std::string> problems;
    for (const auto& [sub, suffix] : {std::pair<std::string, std::string>{"certs", ".pem"}, {"private", ".key"}}) {
        for (const std::string& name : directory_entries(dir.path(sub))) {
            if (sub == "private" && name == "ca.key") continue;
            if (ends_with(name, suffix) && serials.count(name.substr(0, name.size() - suffix.size()))) continue;
            problems.push_back(sub + "/" + name + " is not in index.txt: revoke cannot reach a certificate the database does not "
                               "know; find out whether it was handed out, then move it out of " + dir.path(sub));
        }
    }
    return problems;
}

}  // namespace

int cmd_list(Context& ctx, const Words& words) {
    Args args(words, {"expiring"}, {"valid", "revoked"});
    args.at_most(0);
    CaDir::Lock lock(ctx.dir, false, ctx.lock_timeout);
    Ca ca(ctx);
    const int expiring = args.value("expiring") ? args.days_value_or("expiring", 30) : -1;
    std::vector<const Record*> shown;
    for (const auto& r : ca.records) {
        if (args.flag("valid") && !r.valid_at(ctx.now)) continue;
        if (args.flag("revoked") && !r.revoked()) continue;
        if (expiring >= 0 && !(r.valid_at(ctx.now) && r.expires <= ctx.now + expiring * 86400L)) continue;
        shown.push_back(&r);
    }
    if (ctx.json) {
        ctx.out << "[";
        for (std::size_t i = 0; i < shown.size(); ++i) ctx.out << (i ? "," : "") << record_json(*shown[i], ctx.now);
        ctx.out << "]\n";
        return kOk;
    }
    char line[256];
    std::snprintf(line, sizeof line, "%-8s %-34s %-6s %-11s %-20s %s\n", "STATUS", "SERIAL", "KIND", "EXPIRES", "NAME", "GROUPS");
    ctx.out << line;
    for (const Record* r : shown) {
        std::string groups;
        for (const auto& g : r->groups()) groups += (groups.empty() ? "" : ",") + g;
        std::snprintf(line, sizeof line, "%-8s %-34s %-6s %-11s %-20s %s\n", status_of(*r, ctx.now).c_str(),
                      r->serial.c_str(), r->kind.c_str(), format_iso_utc(r->expires).substr(0, 10).c_str(),
                      r->name().c_str(), groups.c_str());
        ctx.out << line;
    }
    return kOk;
}

int cmd_show(Context& ctx, const Words& words) {
    Args args(words, {"serial"}, {"pem"});
    args.at_most(1);
    CaDir::Lock lock(ctx.dir, false, ctx.lock_timeout);
    Ca ca(ctx);
    const Record& r = ca.find(args.positional().empty() ? std::nullopt : std::optional(args.positional()[0]), args.value("serial"));
    X509Ptr cert = ca.certificate_of(r);
    if (args.flag("pem")) {
        ctx.out << certificate_pem(*cert);
        return kOk;
    }
    const std::vector<std::string> emails = san_emails(*cert);
    struct stat st {};
    const bool key_held = ::stat(ctx.dir.key_file(r.serial).c_str(), &st) == 0;
    if (ctx.json) {
        std::string json = record_json(r, ctx.now);
        json.pop_back();
        ctx.out << json << ",\"emails\":" << json_array(emails) << ",\"certificate\":" << json_string(ctx.dir.cert_file(r.serial))
                << ",\"key_held\":" << (key_held ? "true" : "false") << "}\n";
        return kOk;
    }
    ctx.out << "name        " << r.name() << "\n"
            << "kind        " << r.kind << "\n"
            << "status      " << status_of(r, ctx.now) << (r.revoked() ? " (" + r.reason + ", " + format_iso_utc(r.revoked_at) + ")" : "") << "\n"
            << "serial      " << r.serial << "  (in allowlists: " << ca.settings.name << ":" << r.serial << ")\n"
            << "subject     " << r.subject << "\n"
            << "emails      ";
    for (const auto& e : emails) ctx.out << e << " ";
    ctx.out << "\nexpires     " << format_iso_utc(r.expires) << "\n"
            << "certificate " << ctx.dir.cert_file(r.serial) << "\n"
            << "key         " << (key_held ? ctx.dir.key_file(r.serial) : "(not held: signed from a CSR)") << "\n";
    return kOk;
}

void export_p12_file(Ca& ca, const Record& record, const std::string& profile, const std::string& password,
                     const std::string& out_file) {
    const std::string key_file = ca.ctx.dir.key_file(record.serial);
    struct stat st {};
    if (::stat(key_file.c_str(), &st) != 0) {
        throw ToolError(kNotFound, "the tool does not hold the key of " + record.serial +
                                       " (it was signed from a CSR): its holder builds the .p12");
    }
    EvpPkeyPtr key = load_private_key(read_file(key_file), "", key_file);
    X509Ptr cert = ca.certificate_of(record);
    write_file_atomic(out_file, build_p12(*cert, *key, *ca.cert, record.name(), password, profile), 0600);
}

int cmd_export_p12(Context& ctx, const Words& words) {
    Args args(words, {"serial", "p12-pass", "out"}, {});
    std::optional<std::string> name;
    std::string profile = "compat";
    for (const auto& word : args.positional()) {
        if (word == "compat" || word == "modern") profile = word;
        else if (!name) name = word;
        else throw ToolError(kUsage, "unexpected argument '" + word + "'");
    }
    CaDir::Lock lock(ctx.dir, true, ctx.lock_timeout);
    Ca ca(ctx);
    const Record& r = ca.find(name, args.value("serial"));
    if (r.revoked()) throw ToolError(kRefused, "certificate " + r.serial + " is revoked; export refused");
    const std::string out = args.value_or("out", ctx.dir.path("p12/" + r.name() + ".p12"));
    const bool generated = !args.value("p12-pass");
    const std::string password = generated ? random_password(24) : read_secret(*args.value("p12-pass"));
    export_p12_file(ca, r, profile, password, out);
    if (ctx.json) {
        JsonObject o;
        o.add("p12", out).add("profile", profile);
        if (generated) o.add("password", password);
        ctx.out << o.str() << "\n";
    } else {
        ctx.out << "wrote " << out << " (" << profile << ")\n";
        if (generated) ctx.out << "password (shown once, store it now): " << password << "\n";
    }
    return kOk;
}

int cmd_doctor(Context& ctx, const Words& words) {
    Args args(words, {}, {});
    args.at_most(0);
    CaDir::Lock lock(ctx.dir, false, ctx.lock_timeout);
    std::vector<std::string> problems, notes;
    Ca ca(ctx);  // a corrupted database line stops here with its line number
    auto mode_of = [](const std::string& path) -> int {
        struct stat st {};
        return ::stat(path.c_str(), &st) == 0 ? static_cast<int>(st.st_mode & 0777) : -1;
    };
    for (const char* dir : {"", "private", "certs", "p12"}) {
        const std::string path = dir[0] ? ctx.dir.path(dir) : ctx.dir.root();
        const int mode = mode_of(path);
        if (mode >= 0 && (mode & 077)) problems.push_back(path + " is readable by others (chmod 700)");
    }
    const int key_mode = mode_of(ctx.dir.path("private/ca.key"));
    if (key_mode < 0) problems.push_back("private/ca.key is missing");
    else if (key_mode & 077) problems.push_back("private/ca.key is readable by others (chmod 600)");
    const std::time_t ca_end = asn1_to_time(*X509_get0_notAfter(ca.cert.get()));
    if (ca_end < ctx.now + 90 * 86400L) problems.push_back("the CA certificate expires " + format_iso_utc(ca_end) + ": plan a new CA");
    try {
        const std::time_t next = read_crl_dates(read_file(ctx.dir.path("crl.pem")), "crl.pem").next_update;
        if (next < ctx.now) problems.push_back("the CRL is stale since " + format_iso_utc(next) + ": cscguard crl refresh");
        else if (next < ctx.now + ca.settings.crl_days * 86400L / 3) problems.push_back("the CRL is due: cscguard crl refresh");
    } catch (const ToolError&) {
        problems.push_back("crl.pem is missing or unreadable: cscguard publish");
    }
    try {
        ca.publish_dir();
    } catch (const ToolError& e) {
        problems.push_back(e.what());
    }
    std::set<std::string> seen;
    for (const auto& r : ca.records) {
        if (!seen.insert(r.serial).second) problems.push_back("serial " + r.serial + " appears twice in index.txt");
        if (mode_of(ctx.dir.cert_file(r.serial)) < 0) problems.push_back("certs/" + r.serial + ".pem is missing");
        if (r.valid_at(ctx.now) && r.expires < ctx.now + 30 * 86400L) {
            notes.push_back(r.kind + " " + r.name() + " (" + r.serial + ") expires " + format_iso_utc(r.expires) +
                            ": cscguard renew " + r.name());
        }
    }
    const auto unrecorded = unrecorded_files(ctx.dir, seen);
    problems.insert(problems.end(), unrecorded.begin(), unrecorded.end());
    if (ctx.json) {
        ctx.out << JsonObject().add("problems", problems).add("expiring", notes).str() << "\n";
    } else {
        for (const auto& p : problems) ctx.out << "problem: " << p << "\n";
        for (const auto& n : notes) ctx.out << "expiring: " << n << "\n";
        if (problems.empty()) {
            ctx.out << "ok: " << ca.records.size() << " certificates, permissions, CA and CRL dates, no unrecorded files\n";
        }
    }
    return problems.empty() ? kOk : kDoctorFound;
}

}  // namespace cscguard::tool
