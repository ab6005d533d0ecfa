// The verbs of `cscguard`. Each takes the words after the verb, does its job
// under the CA lock and returns an exit code (or throws ToolError).
#pragma once

#include <string>
#include <vector>

#include "tools/cscguard/args.h"
#include "tools/cscguard/ca.h"

namespace cscguard::tool {

using Words = std::vector<std::string>;

int cmd_init(Context& ctx, const Words& words);
int cmd_issue(Context& ctx, const Words& words);
int cmd_sign(Context& ctx, const Words& words);
int cmd_renew(Context& ctx, const Words& words);
int cmd_revoke(Context& ctx, const Words& words);
int cmd_publish(Context& ctx, const Words& words);
int cmd_crl(Context& ctx, const Words& words);
int cmd_list(Context& ctx, const Words& words);
int cmd_show(Context& ctx, const Words& words);
int cmd_export_p12(Context& ctx, const Words& words);
int cmd_doctor(Context& ctx, const Words& words);
int cmd_push(Context& ctx, const Words& words);
int cmd_suspend(Context& ctx, const Words& words);
int cmd_resume(Context& ctx, const Words& words);

// revoke and suspend: revokes NAME's valid certificates (or --serial's) with
// `reason`, publishes with --publish, and pushes to the revocation cache
// (--push URL or the CA's push setting; --no-push). Takes the verb's Args.
int revoke_records(Context& ctx, const Args& args, const std::string& reason);

// The marker file that names the CA owning a publish directory (its name and
// the SHA-256 fingerprint of its certificate): two CAs publishing into one
// directory would overwrite each other's ca.crt, crl.pem and all.list.
inline constexpr const char* kOwnerMarker = "cscguard.owner";

// For init, before the CA exists: ToolError(kConflict) when `dir` belongs to
// a CA already (a marker, or a ca.crt an older cscguard published there).
void check_publish_dir_unclaimed(const std::string& dir);

// Writes the CRL and the allowlists mod_cscguard reads into the publish
// directory (shared by publish, revoke --publish and crl refresh), after
// claiming it for this CA (ToolError(kConflict) when another CA owns it).
// Every group any record ever had gets its list, and so does every *.list
// already there: empty (the header only) without a valid member, never
// deleted (the module keeps the last content of a file that disappears).
struct Published {
    std::string dir;
    std::size_t revoked = 0;
    std::size_t listed = 0;
    std::vector<std::string> groups;
};
Published publish_files(Ca& ca, const std::string& out_dir);

// Writes a .p12 for `record` (the tool must hold its key) protected by `password`.
void export_p12_file(Ca& ca, const Record& record, const std::string& profile, const std::string& password,
                     const std::string& out_file);

}  // namespace cscguard::tool
