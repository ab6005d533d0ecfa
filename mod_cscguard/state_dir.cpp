// The module's state directory: DefaultRuntimeDir/cscguard (/run/apache2 on
// Debian), where the parent and the watcher - both root - publish policy
// bundles that the children (httpd's User) read. Nobody but root may write
// there: a bundle is a policy every child takes.
#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "http_core.h"
#include "module.h"
#include "unixd.h"

#include "error.h"

namespace cscguard::glue {
namespace {

// The children's group may read what the parent writes; when the parent does
// not run as root there is nobody else to share with.
void share_with_children(int fd) {
    if (geteuid() == 0) (void)!fchown(fd, static_cast<uid_t>(-1), ap_unixd_config.group_id);
}

}  // namespace

std::string prepare_state_dir(apr_pool_t* p) {
    const char* dir = ap_runtime_dir_relative(p, "cscguard");
    if (!dir) throw PolicyError("cannot name DefaultRuntimeDir/cscguard");
    const std::string path = dir;
    if (mkdir(dir, 0750) != 0 && errno != EEXIST) {
        throw PolicyError(path + ": cannot create the state directory: " + std::strerror(errno));
    }
    const int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) throw PolicyError(path + ": cannot open the state directory: " + std::strerror(errno));
    struct stat st {};
    const bool ok = fstat(fd, &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == geteuid() && !(st.st_mode & 022);
    if (ok) share_with_children(fd);
    close(fd);
    if (!ok) {
        throw PolicyError(path + ": the state directory must be a directory owned by uid " + std::to_string(geteuid()) +
                          " and writable by it alone (remove it; httpd makes it again)");
    }
    return path;
}

std::string bundle_path(const std::string& state_dir) { return state_dir + "/policy.bundle"; }

void publish_bundle(const std::string& state_dir, const Bundle& bundle) {
    const std::string data = encode_bundle(bundle);
    std::string tmp = state_dir + "/.policy.bundle.XXXXXX";
    const int fd = mkstemp(tmp.data());
    if (fd < 0) throw PolicyError(tmp + ": cannot create: " + std::strerror(errno));
    bool ok = fchmod(fd, 0640) == 0;
    share_with_children(fd);
    for (std::size_t done = 0; ok && done < data.size();) {
        const ssize_t n = write(fd, data.data() + done, data.size() - done);
        if (n < 0 && errno == EINTR) continue;
        ok = n > 0;
        if (ok) done += static_cast<std::size_t>(n);
    }
    const int saved = errno;
    ok = close(fd) == 0 && ok;
    if (!ok || rename(tmp.c_str(), bundle_path(state_dir).c_str()) != 0) {
        const int why = ok ? errno : saved;
        unlink(tmp.c_str());
        throw PolicyError(bundle_path(state_dir) + ": cannot write: " + std::strerror(why));
    }
}

std::optional<Bundle> read_bundle(const std::string& state_dir, std::string* why) {
    const std::string path = bundle_path(state_dir);
    try {
        return decode_bundle(read_policy_file(path, "policy bundle", kMaxBundleBytes).bytes, path);
    } catch (const PolicyError& err) {
        if (why) *why = err.what();
        return std::nullopt;
    }
}

}  // namespace cscguard::glue
