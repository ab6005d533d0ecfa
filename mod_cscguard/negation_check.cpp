// configtest's warning about negated cscguard rules that let people in
// (policy/negation.h): turns httpd's configuration tree into the shape of
// each section's Require lines and reports what policy/ finds.
#include <strings.h>

#include "mod_cscguard/module.h"
#include "util_cfgtree.h"

#include "policy/certificate.h"
#include "policy/negation.h"

APLOG_USE_MODULE(cscguard);

namespace cscguard::glue {
namespace {

bool named(const ap_directive_t& d, const char* name) { return strcasecmp(d.directive, name) == 0; }

std::string place(const ap_directive_t& d) {
    return std::string(d.filename ? d.filename : "?") + ":" + std::to_string(d.line_num);
}

// Sections whose content belongs to the section around them.
bool transparent(const ap_directive_t& d) {
    for (const char* name : {"<IfModule", "<IfDefine", "<IfVersion", "<IfFile", "<IfDirective", "<IfSection",
                             "<Limit", "<LimitExcept"}) {
        if (named(d, name)) return true;
    }
    return false;
}

AuthzNode require_line(const ap_directive_t& d) {
    AuthzNode node;
    node.kind = AuthzNode::Kind::Require;
    node.where = place(d);
    std::string args = d.args ? d.args : "";
    const auto next_word = [&args] {
        const std::size_t start = args.find_first_not_of(" \t");
        if (start == std::string::npos) return std::string();
        const std::size_t end = args.find_first_of(" \t", start);
        std::string word = args.substr(start, end == std::string::npos ? std::string::npos : end - start);
        args = end == std::string::npos ? std::string() : args.substr(end);
        return word;
    };
    std::string word = ascii_lower(next_word());
    if (word == "not") {
        node.negated = true;
        word = ascii_lower(next_word());
    }
    node.provider = word;
    node.argument = ascii_lower(next_word());
    return node;
}

void report(const AuthzNode& section, server_rec* s) {
    for (const UnprotectedNegation& found : unprotected_negations(section)) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s,
                     "CSG0103: %s at %s does not keep out a client without a good certificate: a missing, "
                     "expired or revoked certificate, or a stale CRL, makes every cscguard rule deny, and a "
                     "negated denial is no objection, so the container at %s can grant. Require a positive "
                     "cscguard rule beside it (e.g. Require cscguard-valid in the same <RequireAll>)",
                     found.text.c_str(), found.negation.c_str(), found.container.c_str());
    }
}

// Adds the Require lines and containers among `first` and its siblings to
// `scope`; every other section becomes a scope of its own.
void collect(const ap_directive_t* first, AuthzNode& scope, server_rec* s) {
    for (const ap_directive_t* d = first; d; d = d->next) {
        if (named(*d, "Require")) {
            scope.children.push_back(require_line(*d));
        } else if (named(*d, "<RequireAll") || named(*d, "<RequireAny") || named(*d, "<RequireNone")) {
            AuthzNode container;
            container.kind = named(*d, "<RequireAll")   ? AuthzNode::Kind::All
                             : named(*d, "<RequireAny") ? AuthzNode::Kind::Any
                                                        : AuthzNode::Kind::None;
            container.where = place(*d);
            collect(d->first_child, container, s);
            scope.children.push_back(std::move(container));
        } else if (d->first_child && transparent(*d)) {
            collect(d->first_child, scope, s);
        } else if (d->first_child) {
            AuthzNode section;  // <Location>, <Directory>, <VirtualHost>, <If>...: Require lines OR'ed
            section.where = place(*d);
            collect(d->first_child, section, s);
            report(section, s);
        }
    }
}

}  // namespace

void warn_unprotected_negations(server_rec* s) {
    AuthzNode server;
    server.where = "server config";
    collect(ap_conftree, server, s);
    report(server, s);
}

}  // namespace cscguard::glue
