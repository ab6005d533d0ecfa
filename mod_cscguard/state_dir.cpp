// The module's state directory: DefaultRuntimeDir/cscguard (/run/apache2 on
// Debian). The parent makes it at every (re)start; the children, which run
// as httpd's User, record what they accept there, so it belongs to that user.
#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "http_core.h"
#include "module.h"
#include "unixd.h"

APLOG_USE_MODULE(cscguard);

namespace cscguard::glue {
namespace {

// Owned by the children's user when the parent runs as root (the usual case).
bool hand_to_children(const std::string& path) {
    if (geteuid() != 0) return true;
    return chown(path.c_str(), ap_unixd_config.user_id, ap_unixd_config.group_id) == 0;
}

}  // namespace

std::unique_ptr<AcceptedFiles> open_state_dir(apr_pool_t* p, server_rec* s) {
    const char* dir = ap_runtime_dir_relative(p, "cscguard");
    const auto fail = [&](const char* what) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, errno, s,
                     "CSG0206: cannot %s %s: a restart will not fall back to the last accepted policy files",
                     what, dir ? dir : "DefaultRuntimeDir/cscguard");
        return nullptr;
    };
    if (!dir) return fail("name");
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) return fail("create");
    struct stat st {};
    if (lstat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) return fail("use (not a directory)");
    if (!hand_to_children(dir)) return fail("change the owner of");
    const std::string lock = std::string(dir) + "/.lock";
    const int fd = open(lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) return fail("create the lock file in");
    close(fd);
    if (!hand_to_children(lock)) return fail("change the owner of the lock file in");
    return std::make_unique<AcceptedFiles>(dir);
}

}  // namespace cscguard::glue
