#include "policy/status_report.h"

#include <map>
#include <type_traits>
#include <utility>

#include <nlohmann/json.hpp>

#include "policy/digest.h"
#include "policy/error.h"

namespace cscguard {
namespace {

using nlohmann::json;

constexpr int kReloadStatusFormat = 1;

// Paths, subjects and error texts (which quote a file's bytes) need not be
// UTF-8; JSON must be. nlohmann's default is to throw, which took the watcher
// down with every round and the page's ?json with it: such bytes are written
// as U+FFFD instead.
constexpr auto kReplaceInvalidUtf8 = json::error_handler_t::replace;

std::string html_escape(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (const char c : text) {
        switch (c) {
            case '&': out += "&amp;"; break;
            case '<': out += "&lt;"; break;
            case '>': out += "&gt;"; break;
            case '"': out += "&quot;"; break;
            case '\'': out += "&#39;"; break;
            default: out += c;
        }
    }
    return out;
}

// A Prometheus label value: backslash, double quote and newline escaped.
std::string label_value(std::string_view text) {
    std::string out;
    for (const char c : text) {
        if (c == '\\') out += "\\\\";
        else if (c == '"') out += "\\\"";
        else if (c == '\n') out += "\\n";
        else out += c;
    }
    return out;
}

// One line of ?auto: no newline may end a value early.
std::string one_line(std::string_view text) {
    std::string out(text);
    for (char& c : out) {
        if (c == '\n' || c == '\r') c = ' ';
    }
    return out;
}

// "3d 4h", "12m 5s", "-2h 10m" (in the past): for people.
std::string span(std::time_t seconds) {
    const bool past = seconds < 0;
    long long s = past ? -static_cast<long long>(seconds) : static_cast<long long>(seconds);
    std::string out;
    if (s >= 86400) out = std::to_string(s / 86400) + "d " + std::to_string(s % 86400 / 3600) + "h";
    else if (s >= 3600) out = std::to_string(s / 3600) + "h " + std::to_string(s % 3600 / 60) + "m";
    else if (s >= 60) out = std::to_string(s / 60) + "m " + std::to_string(s % 60) + "s";
    else out = std::to_string(s) + "s";
    return past ? "-" + out : out;
}

std::string when(std::time_t t) { return t ? format_iso_utc(t) : "-"; }

bool in_force(const Policy& policy, const RevocationList& crl) { return policy.revocation(crl.issuer) == &crl; }

std::uint64_t total(const DecisionCounters& counters, bool granted) {
    std::uint64_t sum = 0;
    for (std::size_t p = 0; p < kProviderCount; ++p) {
        for (std::size_t o = 0; o < kOutcomeCount; ++o) {
            if ((static_cast<Outcome>(o) == Outcome::Granted) == granted) sum += counters.get(p, static_cast<Outcome>(o));
        }
    }
    return sum;
}

std::size_t refused_files(const StatusReport& report) {
    std::size_t n = 0;
    if (report.reload) {
        for (const auto& file : report.reload->files) n += file.problem.empty() ? 0 : 1;
    }
    return n;
}

std::size_t stale_crls(const StatusReport& report) {
    std::size_t n = 0;
    for (const auto& crl : report.policy->crls()) {
        if (in_force(*report.policy, *crl) && is_stale(*crl, report.now, report.policy->crl_grace())) ++n;
    }
    return n;
}

json health_json(const FileHealth& file) {
    return {{"path", file.path},
            {"kind", file.crl ? "crl" : "allowlist"},
            {"name", file.name},
            {"size", file.stamp.size},
            {"mtime_ns", file.stamp.mtime_ns},
            {"sha256", to_hex(file.digest)},
            {"entries", file.entries},
            {"loaded", file.loaded},
            {"problem", file.problem},
            {"problem_since", file.problem_since}};
}

// One field of the watcher's file.
struct Field {
    const json& value;
    const std::string& origin;
    const std::string& name;
    // An integer of type T, never a float or one out of T's range
    // (nlohmann's get<> converts those with undefined behaviour).
    template <typename T>
    T get() const {
        if constexpr (std::is_integral_v<T>) {
            const bool fits = value.is_number_unsigned()  ? std::in_range<T>(value.get<std::uint64_t>())
                              : value.is_number_integer() ? std::in_range<T>(value.get<std::int64_t>())
                                                          : false;
            if (!fits) throw PolicyError(origin + ": field " + name + ": not an integer of its range");
            return value.is_number_unsigned() ? static_cast<T>(value.get<std::uint64_t>())
                                              : static_cast<T>(value.get<std::int64_t>());
        } else {
            return value.get<T>();
        }
    }
    auto begin() const { return value.begin(); }
    auto end() const { return value.end(); }
};

}  // namespace

std::string crl_state(const RevocationList& crl, std::time_t now, std::time_t grace) {
    if (is_stale(crl, now, grace)) return "stale";
    return now > crl.next_update ? "in grace" : "fresh";
}

// --- the watcher's file -------------------------------------------------

std::string encode_reload_status(const ReloadStatus& status) {
    json files = json::array();
    for (const auto& file : status.files) files.push_back(health_json(file));
    return json{{"format", kReloadStatusFormat},
                {"generation", status.generation},
                {"written", status.written},
                {"files", files}}
        .dump(-1, ' ', false, kReplaceInvalidUtf8);
}

ReloadStatus parse_reload_status(std::string_view text, const std::string& origin) {
    std::string field = "(the text)";
    try {
        const json doc = json::parse(text);
        const auto get = [&field, &origin](const json& object, const char* key) {
            field = key;
            return Field{object.at(key), origin, field};
        };
        if (get(doc, "format").get<int>() != kReloadStatusFormat) {
            throw PolicyError(origin + ": reload status of another format (written by another module version?)");
        }
        ReloadStatus status;
        status.generation = get(doc, "generation").get<std::uint64_t>();
        status.written = get(doc, "written").get<std::time_t>();
        const json& files = get(doc, "files").value;
        if (!files.is_array()) throw PolicyError(origin + ": field files: not a list");
        for (const json& item : files) {
            FileHealth file;
            file.path = get(item, "path").get<std::string>();
            const std::string kind = get(item, "kind").get<std::string>();
            if (kind != "crl" && kind != "allowlist") throw PolicyError(origin + ": field kind: '" + kind + "'");
            file.crl = kind == "crl";
            file.name = get(item, "name").get<std::string>();
            file.stamp.exists = true;
            file.stamp.size = get(item, "size").get<unsigned long long>();
            file.stamp.mtime_ns = get(item, "mtime_ns").get<long long>();
            file.digest = get(item, "sha256").get<std::string>();  // kept in hex
            file.entries = get(item, "entries").get<std::size_t>();
            file.loaded = get(item, "loaded").get<std::time_t>();
            file.problem = get(item, "problem").get<std::string>();
            file.problem_since = get(item, "problem_since").get<std::time_t>();
            status.files.push_back(std::move(file));
        }
        return status;
    } catch (const json::exception& err) {
        throw PolicyError(origin + ": not a reload status (field " + field + "): " + err.what());
    }
}

// --- HTML ---------------------------------------------------------------

std::string render_html(const StatusReport& report) {
    const Policy& policy = *report.policy;
    std::string h;
    h += "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>mod_cscguard status</title>\n"
         "<style>body{font-family:sans-serif;margin:1.5em}table{border-collapse:collapse;margin-bottom:1.5em}"
         "td,th{border:1px solid #bbb;padding:.25em .6em;text-align:left}th{background:#eee}"
         ".bad{background:#fdd;color:#900;font-weight:bold}.warn{background:#ffd}.ok{color:#060}"
         ".num{text-align:right}</style></head><body>\n";
    h += "<h1>mod_cscguard status</h1>\n<p>" + html_escape(report.server) + " &middot; answered by pid " +
         std::to_string(report.pid) + " at " + format_iso_utc(report.now) + "</p>\n";

    const std::size_t stale = stale_crls(report), refused = refused_files(report);
    if (stale) {
        h += "<p class=\"bad\">" + std::to_string(stale) +
             " CRL(s) stale: every certificate of their issuer is denied until a fresh CRL is published.</p>\n";
    }
    if (refused) {
        h += "<p class=\"bad\">" + std::to_string(refused) +
             " policy file(s) refused: their last good version stays in force (see Files).</p>\n";
    }

    h += "<h2>Policy snapshot</h2>\n<table><tr><th>generation served by this child</th><td>" +
         std::to_string(report.generation) + "</td></tr>";
    if (report.published) {
        h += "<tr><th>published</th><td>" + format_iso_utc(*report.published) + " (" +
             span(report.now - *report.published) + " ago)</td></tr>";
    }
    h += "<tr><th>TLS variables from</th><td>" + html_escape(report.tls_interface) + "</td></tr>";
    h += "<tr><th>CSCGuardReloadInterval</th><td>" + std::to_string(report.reload_interval) + " s</td></tr>";
    h += "<tr><th>revocation cache</th><td>" +
         html_escape(report.revocation_cache.empty() ? "off" : report.revocation_cache) + "</td></tr></table>\n";

    h += "<h2>Issuers</h2>\n<table><tr><th>name</th><th>subject</th><th>certificate file</th></tr>\n";
    for (const auto& issuer : policy.issuers()) {
        h += "<tr><td>" + html_escape(issuer->name()) + "</td><td>" + html_escape(issuer->subject()) + "</td><td>" +
             html_escape(issuer->path()) + "</td></tr>\n";
    }
    h += "</table>\n";

    h += "<h2>CRLs in force</h2>\n<table><tr><th>issuer</th><th>file</th><th>crlNumber</th><th>thisUpdate</th>"
         "<th>nextUpdate</th><th>time left</th><th>state</th><th class=\"num\">revoked</th></tr>\n";
    for (const auto& crl : policy.crls()) {
        if (!in_force(policy, *crl)) continue;
        const std::string state = crl_state(*crl, report.now, policy.crl_grace());
        const char* css = state == "stale" ? "bad" : state == "in grace" ? "warn" : "ok";
        h += "<tr><td>" + html_escape(crl->issuer) + "</td><td>" + html_escape(crl->source) + "</td><td>" +
             html_escape(crl->number.empty() ? "-" : crl->number) + "</td><td>" + format_iso_utc(crl->this_update) +
             "</td><td>" + format_iso_utc(crl->next_update) + "</td><td>" + span(crl->next_update - report.now) +
             "</td><td class=\"" + css + "\">" + state + "</td><td class=\"num\">" +
             std::to_string(crl->revoked.size()) + "</td></tr>\n";
    }
    h += "</table>\n";

    h += "<h2>Allowlists</h2>\n<table><tr><th>name</th><th class=\"num\">entries</th></tr>\n";
    for (const auto& [name, table] : policy.allowlists()) {
        h += "<tr><td>" + html_escape(name) + "</td><td class=\"num\">" + std::to_string(table.size()) + "</td></tr>\n";
    }
    h += "</table>\n";

    h += "<h2>Files</h2>\n";
    if (!report.reload) {
        h += "<p class=\"warn\">The watcher's account of the files is not available: " +
             html_escape(report.reload_unknown) + "</p>\n";
    } else {
        h += "<p>As the policy watcher last wrote it, " + when(report.reload->written) + ".</p>\n"
             "<table><tr><th>file</th><th>kind</th><th class=\"num\">entries</th><th class=\"num\">bytes</th>"
             "<th>modified</th><th>SHA-256</th><th>loaded</th><th>last reload</th></tr>\n";
        for (const auto& file : report.reload->files) {
            const bool bad = !file.problem.empty();
            h += "<tr><td>" + html_escape(file.path) + "</td><td>" +
                 (file.crl ? std::string("CRL") : "allowlist " + html_escape(file.name)) + "</td><td class=\"num\">" +
                 std::to_string(file.entries) + "</td><td class=\"num\">" + std::to_string(file.stamp.size) +
                 "</td><td>" + when(static_cast<std::time_t>(file.stamp.mtime_ns / 1000000000)) + "</td><td><code>" +
                 html_escape(file.digest.substr(0, 16)) + "</code></td><td>" + when(file.loaded) + "</td><td class=\"" +
                 (bad ? "bad" : "ok") + "\">" +
                 (bad ? "refused since " + when(file.problem_since) + ": " + html_escape(file.problem) : "ok") +
                 "</td></tr>\n";
        }
        h += "</table>\n";
    }

    h += "<h2>Decisions</h2>\n";
    if (!report.counters) {
        h += "<p class=\"warn\">Not counted in this server (no shared memory).</p>\n";
    } else {
        const DecisionCounters& c = *report.counters;
        h += "<p>Since " + when(c.since.load()) + ", summed over all children: " + std::to_string(total(c, true)) +
             " granted, " + std::to_string(total(c, false)) +
             " denied. One <code>Require cscguard-*</code> line is one decision.</p>\n<table><tr><th>provider</th>";
        for (std::size_t o = 0; o < kOutcomeCount; ++o) {
            h += "<th class=\"num\">" + std::string(outcome_name(static_cast<Outcome>(o))) + "</th>";
        }
        h += "</tr>\n";
        for (std::size_t p = 0; p < kProviderCount; ++p) {
            h += "<tr><td>" + std::string(kProviders[p]) + "</td>";
            for (std::size_t o = 0; o < kOutcomeCount; ++o) {
                h += "<td class=\"num\">" + std::to_string(c.get(p, static_cast<Outcome>(o))) + "</td>";
            }
            h += "</tr>\n";
        }
        h += "</table>\n";
    }
    h += "</body></html>\n";
    return h;
}

// --- JSON ---------------------------------------------------------------

std::string render_json(const StatusReport& report) {
    const Policy& policy = *report.policy;
    json doc;
    doc["server"] = report.server;
    doc["pid"] = report.pid;
    doc["now"] = format_iso_utc(report.now);
    doc["snapshot"] = {{"generation", report.generation},
                       {"published", report.published ? json(format_iso_utc(*report.published)) : json(nullptr)},
                       {"age_seconds", report.published ? json(report.now - *report.published) : json(nullptr)}};
    doc["reload_interval_seconds"] = report.reload_interval;
    doc["tls_interface"] = report.tls_interface;
    doc["revocation_cache"] = report.revocation_cache.empty() ? json(nullptr) : json(report.revocation_cache);
    doc["issuers"] = json::array();
    for (const auto& issuer : policy.issuers()) {
        doc["issuers"].push_back({{"name", issuer->name()}, {"subject", issuer->subject()}, {"file", issuer->path()}});
    }
    doc["crls"] = json::array();
    for (const auto& crl : policy.crls()) {
        if (!in_force(policy, *crl)) continue;
        doc["crls"].push_back({{"issuer", crl->issuer},
                               {"file", crl->source},
                               {"number", crl->number},
                               {"this_update", format_iso_utc(crl->this_update)},
                               {"next_update", format_iso_utc(crl->next_update)},
                               {"seconds_left", crl->next_update - report.now},
                               {"state", crl_state(*crl, report.now, policy.crl_grace())},
                               {"revoked", crl->revoked.size()}});
    }
    doc["allowlists"] = json::array();
    for (const auto& [name, table] : policy.allowlists()) {
        doc["allowlists"].push_back({{"name", name}, {"entries", table.size()}});
    }
    if (report.reload) {
        json files = json::array();
        for (const auto& file : report.reload->files) {
            json item = health_json(file);
            item["sha256"] = file.digest;  // hex already
            files.push_back(std::move(item));
        }
        doc["files"] = {{"written", format_iso_utc(report.reload->written)}, {"list", files}};
    } else {
        doc["files"] = {{"unavailable", report.reload_unknown}};
    }
    if (report.counters) {
        const DecisionCounters& c = *report.counters;
        json decisions = json::object();
        for (std::size_t p = 0; p < kProviderCount; ++p) {
            json row = json::object();
            for (std::size_t o = 0; o < kOutcomeCount; ++o) {
                row[std::string(outcome_name(static_cast<Outcome>(o)))] = c.get(p, static_cast<Outcome>(o));
            }
            decisions[std::string(kProviders[p])] = row;
        }
        doc["decisions"] = {{"since", format_iso_utc(c.since.load())},
                            {"granted", total(c, true)},
                            {"denied", total(c, false)},
                            {"by_provider", decisions}};
    } else {
        doc["decisions"] = nullptr;
    }
    return doc.dump(2, ' ', false, kReplaceInvalidUtf8) + "\n";
}

// --- ?auto --------------------------------------------------------------

std::string render_auto(const StatusReport& report) {
    const Policy& policy = *report.policy;
    std::string a;
    const auto line = [&a](const std::string& key, const std::string& value) { a += key + ": " + one_line(value) + "\n"; };
    line("ServerVersion", report.server);
    line("Generation", std::to_string(report.generation));
    if (report.published) line("SnapshotAgeSeconds", std::to_string(report.now - *report.published));
    line("Issuers", std::to_string(policy.issuers().size()));
    line("StaleCRLs", std::to_string(stale_crls(report)));
    line("RefusedFiles", report.reload ? std::to_string(refused_files(report)) : "unknown");
    for (const auto& crl : policy.crls()) {
        if (!in_force(policy, *crl)) continue;
        const std::string key = "CRL_" + crl->issuer;
        line(key + "_NextUpdate", format_iso_utc(crl->next_update));
        line(key + "_SecondsLeft", std::to_string(crl->next_update - report.now));
        line(key + "_State", crl_state(*crl, report.now, policy.crl_grace()));
        line(key + "_Revoked", std::to_string(crl->revoked.size()));
    }
    for (const auto& [name, table] : policy.allowlists()) line("Allowlist_" + name + "_Entries", std::to_string(table.size()));
    if (report.counters) {
        line("Granted", std::to_string(total(*report.counters, true)));
        line("Denied", std::to_string(total(*report.counters, false)));
    }
    return a;
}

// --- ?metrics -----------------------------------------------------------

std::string render_metrics(const StatusReport& report) {
    const Policy& policy = *report.policy;
    std::string m;
    const auto head = [&m](const char* name, const char* type, const char* help) {
        m += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
    };
    head("cscguard_snapshot_generation", "gauge", "Generation of the policy snapshot this child serves.");
    m += "cscguard_snapshot_generation " + std::to_string(report.generation) + "\n";
    if (report.published) {
        head("cscguard_snapshot_published_timestamp_seconds", "gauge", "When that snapshot was published.");
        m += "cscguard_snapshot_published_timestamp_seconds " + std::to_string(*report.published) + "\n";
    }
    head("cscguard_crl_next_update_timestamp_seconds", "gauge", "nextUpdate of the CRL in force, per issuer.");
    for (const auto& crl : policy.crls()) {
        if (in_force(policy, *crl)) {
            m += "cscguard_crl_next_update_timestamp_seconds{issuer=\"" + label_value(crl->issuer) + "\"} " +
                 std::to_string(crl->next_update) + "\n";
        }
    }
    head("cscguard_crl_stale", "gauge", "1 when the issuer's CRL is past nextUpdate + CSCGuardCRLGrace (all denied).");
    for (const auto& crl : policy.crls()) {
        if (in_force(policy, *crl)) {
            m += "cscguard_crl_stale{issuer=\"" + label_value(crl->issuer) + "\"} " +
                 (is_stale(*crl, report.now, policy.crl_grace()) ? "1" : "0") + "\n";
        }
    }
    head("cscguard_crl_revoked_entries", "gauge", "Revoked serials on the CRL in force, per issuer.");
    for (const auto& crl : policy.crls()) {
        if (in_force(policy, *crl)) {
            m += "cscguard_crl_revoked_entries{issuer=\"" + label_value(crl->issuer) + "\"} " +
                 std::to_string(crl->revoked.size()) + "\n";
        }
    }
    head("cscguard_allowlist_entries", "gauge", "Entries of each allowlist in force.");
    for (const auto& [name, table] : policy.allowlists()) {
        m += "cscguard_allowlist_entries{allowlist=\"" + label_value(name) + "\"} " + std::to_string(table.size()) + "\n";
    }
    if (report.reload) {
        head("cscguard_file_refused", "gauge", "1 when the file on disk is refused and its last good version serves.");
        // One series per path: two allowlists (or CRL lines) may name one
        // file, and Prometheus drops a scrape's duplicate series.
        std::map<std::string, bool> refused;
        for (const auto& file : report.reload->files) refused[file.path] |= !file.problem.empty();
        for (const auto& [path, bad] : refused) {
            m += "cscguard_file_refused{path=\"" + label_value(path) + "\"} " + (bad ? "1" : "0") + "\n";
        }
    }
    if (report.counters) {
        head("cscguard_decisions_total", "counter", "Decisions of Require cscguard-* lines, summed over all children.");
        for (std::size_t p = 0; p < kProviderCount; ++p) {
            for (std::size_t o = 0; o < kOutcomeCount; ++o) {
                m += "cscguard_decisions_total{provider=\"" + std::string(kProviders[p]) + "\",outcome=\"" +
                     std::string(outcome_name(static_cast<Outcome>(o))) + "\"} " +
                     std::to_string(report.counters->get(p, static_cast<Outcome>(o))) + "\n";
            }
        }
    }
    return m;
}

}  // namespace cscguard
