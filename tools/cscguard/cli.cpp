#include "tools/cscguard/cli.h"

#include <cstdlib>
#include <ctime>
#include <functional>
#include <iostream>

#include "tools/cscguard/commands.h"
#include "tools/cscguard/tool_error.h"

namespace cscguard::tool {
namespace {

struct Verb {
    const char* name;
    int (*run)(Context&, const Words&);
    const char* help;
};

const Verb kVerbs[] = {
    {"init", cmd_init,
     "cscguard init --dir DIR --name NAME [--key ec:P-256|ec:P-384|rsa:2048|rsa:3072|rsa:4096] [--days 3650]\n"
     "              [--crl-days 30] [--crl-url URL] [--publish-dir DIR] [--ca-pass SRC]\n"
     "              [--push redis://HOST[:PORT] [--push-max-age DAYS]]\n"
     "  Creates a CA in DIR (0700). NAME is the CA's common name and the issuer name mod_cscguard's\n"
     "  rules and allowlists use. --ca-pass encrypts the CA key (AES-256); later commands that sign\n"
     "  then need --ca-pass too. Publishes an empty CRL and allowlist right away. --push stores the\n"
     "  fleet's revocation cache (CSCGuardRevocationCache) in cscguard.conf: revoke, suspend and resume\n"
     "  then push to it (see `cscguard push --help`).\n"},
    {"issue", cmd_issue,
     "cscguard issue client NAME [--email E]... [--group G]... [--days 365] [--key SPEC]\n"
     "                            [--p12 compat|modern] [--p12-pass SRC]\n"
     "cscguard issue client --from-csv FILE [--days N] [--p12 ...]     (lines: name,email;email,group;group)\n"
     "cscguard issue server HOST [--san DNS:name|IP:addr]... [--days 397] [--key SPEC]\n"
     "  Client certificates: CA:FALSE, digitalSignature, clientAuth only, e-mails as rfc822Name SANs,\n"
     "  groups as OU. Keys are generated here (0600). With --p12 a bundle is written to DIR/p12/NAME.p12\n"
     "  with a random password shown once (or --p12-pass). Ed25519 client keys are refused.\n"},
    {"sign", cmd_sign,
     "cscguard sign client|server REQ.csr --name NAME [--email E]... [--group G]... [--san ...] [--days N]\n"
     "  Signs a request whose key stays with its holder. Only the public key is taken from the request;\n"
     "  the subject and extensions are ours. A request for CA:TRUE is refused.\n"},
    {"renew", cmd_renew,
     "cscguard renew NAME [--rekey [--key SPEC]] [--revoke-old|--keep-old] [--days N]\n"
     "  A new certificate (new serial) with the same name, groups, e-mails and SANs. Keeps the key\n"
     "  unless --rekey. The old certificate stays valid (--keep-old, the default) or is revoked as\n"
     "  superseded (--revoke-old).\n"},
    {"revoke", cmd_revoke,
     "cscguard revoke NAME|--serial S [--reason keyCompromise|superseded|affiliationChanged|\n"
     "                 cessationOfOperation|privilegeWithdrawn|unspecified] [--publish]\n"
     "                 [--push redis://HOST[:PORT] | --no-push] [--push-max-age DAYS]\n"
     "  Revokes every valid certificate of NAME (or one serial). --publish writes the new CRL and\n"
     "  allowlists at once; otherwise run `cscguard publish`. Then, with --push or the CA's push\n"
     "  setting (--no-push skips it), writes each revocation to the fleet's Redis cache, where every\n"
     "  node's mod_cscguard sees it within CSCGuardRevocationCacheTTL. An entry lives until its\n"
     "  certificate expires, or DAYS after the revocation with --push-max-age (or the CA's\n"
     "  push_max_age). A cache without cscguard's marker (new or flushed) is sent every revocation.\n"
     "  When Redis cannot be reached the revocation stays recorded (and published), the error names\n"
     "  the URL, and the exit code is 1: run `cscguard push` when Redis is back.\n"},
    {"suspend", cmd_suspend,
     "cscguard suspend NAME|--serial S [--publish] [--push redis://HOST[:PORT] | --no-push]\n"
     "                  [--push-max-age DAYS]\n"
     "  Revokes with the reason certificateHold, pushed and published as revoke does: a block that\n"
     "  `cscguard resume` takes back.\n"},
    {"resume", cmd_resume,
     "cscguard resume NAME|--serial S [--publish] [--push redis://HOST[:PORT] | --no-push]\n"
     "                 [--push-max-age DAYS]\n"
     "  Takes back a suspension (certificateHold; no other revocation): the certificate is valid\n"
     "  again in the database, so the next CRL leaves it out (--publish writes it at once), and its\n"
     "  entry is deleted from the revocation cache (--push or the CA's push setting).\n"},
    {"push", cmd_push,
     "cscguard push [redis://HOST[:PORT]] [--push-max-age DAYS] [--save]\n"
     "  Writes every revoked, unexpired certificate of the CA to the fleet's revocation cache, removes\n"
     "  the entries of certificates valid again, and then the marker that tells mod_cscguard the cache\n"
     "  is whole: for a new, flushed or restarted Redis, or after a push that failed. The same result\n"
     "  however often it runs. Without a URL, the CA's push setting (init --push). --save stores the\n"
     "  URL (and --push-max-age) as that setting. HOST: a name, an IPv4 address or [IPv6]; port 6379\n"
     "  by default; no TLS, password or database number (mod_cscguard uses none).\n"},
    {"publish", cmd_publish,
     "cscguard publish [--out DIR]\n"
     "  Writes what mod_cscguard reads, each file atomically, the CRL first: crl.pem, ca.crt,\n"
     "  all.list (every valid client certificate) and GROUP.list per group, all bound to the CA's\n"
     "  name. Prints the httpd lines that use them. Default DIR: the CA's publish directory.\n"},
    {"crl", cmd_crl,
     "cscguard crl status        exit 7 when the CRL is near (last third) or past its nextUpdate\n"
     "cscguard crl refresh [--if-due]   re-sign the CRL (and republish); for cron\n"},
    {"list", cmd_list,
     "cscguard list [--valid|--revoked|--expiring DAYS] [--json]\n"},
    {"show", cmd_show,
     "cscguard show NAME|--serial S [--json|--pem]\n"},
    {"export-p12", cmd_export_p12,
     "cscguard export-p12 NAME|--serial S [compat|modern] [--p12-pass SRC] [--out FILE]\n"
     "  compat (default): 3DES/SHA-1, imports in old macOS keychains, Java and Windows.\n"
     "  modern: AES-256-CBC/PBKDF2 with a SHA-256 MAC. A random password is shown once unless given.\n"},
    {"doctor", cmd_doctor,
     "cscguard doctor\n"
     "  Checks permissions, CA and CRL expiry, certificates expiring within 30 days and the database.\n"
     "  Exit 8 when it finds a problem.\n"},
};

const char* kUsageText =
    "usage: cscguard [--dir DIR] [--json] [--batch] [--ca-pass SRC] [--lock-timeout SECONDS] VERB ...\n"
    "\n"
    "A small CA for client-certificate sites, writing the CRL and allowlists mod_cscguard enforces.\n"
    "verbs: init, issue, sign, renew, revoke, suspend, resume, publish, push, crl, list, show, export-p12,\n"
    "       doctor\n"
    "       (cscguard VERB --help for each)\n"
    "\n"
    "  --dir DIR          the CA directory (default: $CSCGUARD_DIR, else ./cscguard-ca)\n"
    "  --json             machine-readable output\n"
    "  --batch            never prompt (cscguard never does; accepted for scripts)\n"
    "  --ca-pass SRC      the CA key's passphrase: pass:TEXT, env:VAR or file:PATH\n"
    "  --lock-timeout S   wait this long for another run's lock (default 30)\n"
    "  --version          print the version and exit\n"
    "\n"
    "exit codes: 0 ok, 1 failure, 2 usage, 3 not found, 4 conflict, 5 locked, 6 bad secret,\n"
    "            7 CRL due, 8 doctor found problems, 9 refused input\n";

double lock_timeout(const std::string& text) {
    try {
        std::size_t used = 0;
        const double seconds = std::stod(text, &used);
        if (used == text.size() && seconds >= 0 && seconds <= 86400) return seconds;
    } catch (const std::exception&) {
    }
    throw ToolError(kUsage, "--lock-timeout wants seconds from 0 to 86400, not '" + text + "'");
}

}  // namespace

int run_cli(const std::vector<std::string>& args, std::ostream& out, std::ostream& err, bool stderr_is_terminal,
            std::time_t now) {
    // Whatever a command's OpenSSL calls left in the queue goes with it: the
    // next command run in this process (tests run many) starts clean.
    const ClearErrorsOnReturn clear;
    const char* env_dir = std::getenv("CSCGUARD_DIR");
    Context ctx{CaDir(env_dir && *env_dir ? env_dir : "cscguard-ca"), out, err};
    ctx.progress = stderr_is_terminal;
    ctx.now = now;
    try {
        // Global options may stand anywhere; the first other word is the verb.
        std::vector<std::string> rest;
        const Verb* verb = nullptr;
        bool help = false;
        for (std::size_t i = 0; i < args.size(); ++i) {
            const std::string& a = args[i];
            auto value = [&](const std::string& opt) -> std::optional<std::string> {
                if (a == opt) {
                    if (i + 1 >= args.size()) throw ToolError(kUsage, opt + " needs a value");
                    return args[++i];
                }
                if (a.rfind(opt + "=", 0) == 0) return a.substr(opt.size() + 1);
                return std::nullopt;
            };
            if (auto v = value("--dir")) ctx.dir = CaDir(*v);
            else if (auto p = value("--ca-pass")) ctx.ca_pass = *p;
            else if (auto t = value("--lock-timeout")) ctx.lock_timeout = lock_timeout(*t);
            else if (a == "--json") ctx.json = true;
            else if (a == "--batch") continue;  // cscguard never prompts; accepted for scripts
            else if (a == "--help" || a == "-h") help = true;
            else if (a == "--version" && !verb) {
                out << "cscguard " << CSCGUARD_VERSION << "\n";
                return kOk;
            }
            else if (!verb && a.rfind("-", 0) != 0) {
                for (const Verb& known : kVerbs) {
                    if (a == known.name) verb = &known;
                }
                if (!verb) throw ToolError(kUsage, "unknown verb '" + a + "'\n" + kUsageText);
            } else {
                rest.push_back(a);
            }
        }
        if (help) {
            out << (verb ? verb->help : kUsageText);
            return kOk;
        }
        if (!verb) {
            err << kUsageText;
            return kUsage;
        }
        return verb->run(ctx, rest);
    } catch (const ToolError& e) {
        err << "cscguard: " << e.what() << "\n";
        return e.code();
    } catch (const std::exception& e) {
        err << "cscguard: " << e.what() << "\n";
        return kFailure;
    }
}

}  // namespace cscguard::tool
