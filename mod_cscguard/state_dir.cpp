// The module's state directory: DefaultRuntimeDir/cscguard (/run/apache2 on
// Debian), where the parent and the watcher - httpd's user before it drops
// privileges, root in the usual case - publish policy snapshots that the
// children (httpd's User) read. Nobody else may write there, nor replace the
// directory: a snapshot is a policy every child takes. So the runtime
// directory must belong to root (or that user) and be writable by nobody
// else (or sticky), ours is 0750 and theirs, and children take a snapshot only
// when it belongs to that user and nobody else may write it.
#include <cerrno>
#include <cstring>
#include <ctime>

#include <dirent.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "http_core.h"
#include "mod_cscguard/module.h"
#include "unixd.h"

#include "policy/error.h"

namespace cscguard::glue {
namespace {

constexpr char kTempPrefix[] = ".policy.snapshot.";

// The children's group may read what the parent writes; when the parent does
// not run as root there is nobody else to share with.
void share_with_children(int fd) {
    if (geteuid() == 0) (void)!fchown(fd, static_cast<uid_t>(-1), ap_unixd_config.group_id);
}

bool safe_owner(const struct stat& st) { return st.st_uid == 0 || st.st_uid == geteuid(); }

// Writable by nobody but its owner, or sticky (like /tmp: nobody may rename
// another's entries).
bool safe_mode(const struct stat& st) { return !(st.st_mode & 022) || (st.st_mode & S_ISVTX); }

std::string not_ours(const std::string& path, unsigned owner) {
    return path + ": the policy snapshot is not a file of uid " + std::to_string(owner) +
           " that nobody else may write: refused";
}

// The whole file, mapped read-only: every process that maps it shares the
// same pages of the page cache. Unmapped when the last table using it goes.
std::shared_ptr<const void> map_whole(int fd, std::size_t size, const std::string& path) {
    void* at = mmap(nullptr, size, PROT_READ, MAP_SHARED, fd, 0);
    if (at == MAP_FAILED) throw PolicyError(path + ": cannot map the policy snapshot: " + std::strerror(errno));
    return std::shared_ptr<const void>(at, [size](const void* p) { munmap(const_cast<void*>(p), size); });
}

// Opens and checks the snapshot in `fd` (owner and mode checked by the caller).
Snapshot open_mapped(int fd, const std::string& path, const std::vector<std::string>& issuer_names) {
    struct stat st {};
    if (fstat(fd, &st) != 0) throw PolicyError(path + ": cannot stat: " + std::strerror(errno));
    if (!S_ISREG(st.st_mode)) throw PolicyError(path + ": not a regular file");
    const auto size = static_cast<std::uint64_t>(st.st_size);
    if (size == 0 || size > kMaxSnapshotBytes) throw PolicyError(path + ": not a policy snapshot: its size is out of range");
    std::shared_ptr<const void> mapping = map_whole(fd, static_cast<std::size_t>(size), path);
    const std::string_view bytes(static_cast<const char*>(mapping.get()), static_cast<std::size_t>(size));
    return open_snapshot(bytes, std::move(mapping), path, issuer_names);
}

std::string parent_of(const std::string& path) {
    const std::size_t slash = path.rfind('/');
    return slash == 0 ? "/" : path.substr(0, slash);
}

}  // namespace

std::string prepare_state_dir(apr_pool_t* p) {
    const char* dir = ap_runtime_dir_relative(p, "cscguard");
    if (!dir) throw PolicyError("cannot name DefaultRuntimeDir/cscguard");
    const std::string path = dir;
    struct stat runtime {};
    if (stat(parent_of(path).c_str(), &runtime) != 0 || !safe_owner(runtime) || !safe_mode(runtime)) {
        throw PolicyError(parent_of(path) + " (DefaultRuntimeDir) must belong to root or uid " +
                          std::to_string(geteuid()) + " and be writable by nobody else");
    }
    if (mkdir(dir, 0750) != 0 && errno != EEXIST) {
        throw PolicyError(path + ": cannot create the state directory: " + std::strerror(errno));
    }
    const int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) throw PolicyError(path + ": cannot open the state directory: " + std::strerror(errno));
    struct stat st {};
    const bool ours = fstat(fd, &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == geteuid();
    const bool fixed = ours && fchmod(fd, 0750) == 0;  // exactly, whatever the umask made of mkdir
    if (fixed) share_with_children(fd);
    close(fd);
    if (!fixed) {
        throw PolicyError(path + ": the state directory must be a directory of uid " + std::to_string(geteuid()) +
                          " (remove it; httpd makes it again)");
    }
    return path;
}

void clean_state_dir(const std::string& state_dir) {
    DIR* dir = opendir(state_dir.c_str());
    if (!dir) return;
    while (const dirent* entry = readdir(dir)) {
        if (std::strncmp(entry->d_name, kTempPrefix, sizeof kTempPrefix - 1) == 0) {
            unlink((state_dir + "/" + entry->d_name).c_str());  // a writer killed before its rename
        }
    }
    closedir(dir);
}

std::string snapshot_path(const std::string& state_dir) { return state_dir + "/policy.snapshot"; }
std::string last_good_path(const std::string& state_dir) { return state_dir + "/policy.snapshot.good"; }

Snapshot publish_snapshot(const std::string& state_dir, std::uint64_t generation, const std::string& configuration,
                          const std::vector<const CompiledFile*>& files, const std::vector<std::string>& issuer_names) {
    // "" would put the snapshot into / (a watcher once got there without one).
    if (state_dir.empty()) throw PolicyError("no state directory to publish the policy snapshot in");
    const std::uint64_t size = snapshot_size(configuration, files);
    if (size > kMaxSnapshotBytes) {
        throw PolicyError("the policy takes " + std::to_string(size >> 20) + " MiB, more than the " +
                          std::to_string(kMaxSnapshotBytes >> 20) + " MiB a snapshot may hold");
    }
    std::string tmp = state_dir + "/" + kTempPrefix + "XXXXXX";
    const int fd = mkstemp(tmp.data());
    if (fd < 0) throw PolicyError(tmp + ": cannot create: " + std::strerror(errno));
    Snapshot written;
    try {
        if (fchmod(fd, 0640) != 0) throw PolicyError(tmp + ": cannot chmod: " + std::strerror(errno));
        share_with_children(fd);
        write_snapshot(fd, tmp, generation, configuration, files);
        // On disk before it is in place (DefaultRuntimeDir need not be a RAM disk).
        if (fsync(fd) != 0) throw PolicyError(tmp + ": cannot write: " + std::strerror(errno));
        // What the children will read, read back: the writer serves from the
        // same pages, and a bad write is caught here, before the rename.
        written = open_mapped(fd, tmp, issuer_names);
    } catch (...) {
        close(fd);
        unlink(tmp.c_str());
        throw;
    }
    if (close(fd) != 0) {
        const int why = errno;
        unlink(tmp.c_str());
        throw PolicyError(tmp + ": cannot write: " + std::strerror(why));
    }
    // The same file under a second name too (no copy: a hard link), put in
    // place once the snapshot is, so it only ever names a published one.
    // Best effort: without it a child forked while policy.snapshot is damaged
    // serves httpd's start-up policy until the watcher puts one back.
    const std::string good_tmp = tmp + ".good";
    const bool linked = link(tmp.c_str(), good_tmp.c_str()) == 0;
    if (rename(tmp.c_str(), snapshot_path(state_dir).c_str()) != 0) {
        const int why = errno;
        unlink(tmp.c_str());
        if (linked) unlink(good_tmp.c_str());
        throw PolicyError(snapshot_path(state_dir) + ": cannot rename into place: " + std::strerror(why));
    }
    if (linked && rename(good_tmp.c_str(), last_good_path(state_dir).c_str()) != 0) unlink(good_tmp.c_str());
    return written;
}

void write_state_file(const std::string& path, const std::string& text) {
    const std::string dir = parent_of(path);
    std::string tmp = dir + "/" + kTempPrefix + "XXXXXX";  // cleaned up like a snapshot's, if left behind
    const int fd = mkstemp(tmp.data());
    if (fd < 0) throw PolicyError(tmp + ": cannot create: " + std::strerror(errno));
    bool ok = fchmod(fd, 0640) == 0;
    if (ok) share_with_children(fd);
    for (std::size_t done = 0; ok && done < text.size();) {
        const ssize_t n = write(fd, text.data() + done, text.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n == 0) errno = EIO;  // write() wrote nothing and said nothing
        ok = n > 0;
        if (ok) done += static_cast<std::size_t>(n);
    }
    const int why = errno;
    if (close(fd) != 0 || !ok || rename(tmp.c_str(), path.c_str()) != 0) {
        const int reason = ok ? errno : why;
        unlink(tmp.c_str());
        throw PolicyError(path + ": cannot write: " + std::strerror(reason));
    }
}

SnapshotHead peek_snapshot(const std::string& state_dir, unsigned owner) {
    SnapshotHead head;
    const std::string path = snapshot_path(state_dir);
    const int fd = open(path.c_str(), O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        head.missing = errno == ENOENT;
        head.error = path + ": cannot read the policy snapshot: " + std::strerror(errno);
        return head;
    }
    struct stat st {};
    char bytes[kSnapshotHeadBytes];
    ssize_t n = -1;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_uid != owner || (st.st_mode & 022)) {
        head.error = not_ours(path, owner);
    } else {
        head.stamp.exists = true;
        head.stamp.device = st.st_dev;
        head.stamp.inode = st.st_ino;
        head.stamp.size = static_cast<unsigned long long>(st.st_size);
        head.stamp.mtime_ns = st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec;
        head.stamp.ctime_ns = st.st_ctim.tv_sec * 1000000000LL + st.st_ctim.tv_nsec;
        n = pread(fd, bytes, sizeof bytes, 0);
        head.generation = peek_generation(std::string_view(bytes, n > 0 ? static_cast<std::size_t>(n) : 0));
        if (!head.generation) head.error = path + ": not a policy snapshot";
    }
    close(fd);
    return head;
}

std::optional<Snapshot> read_snapshot(const std::string& state_dir, unsigned owner,
                                      const std::vector<std::string>& issuer_names, std::string* why, bool last_good) {
    const std::string path = last_good ? last_good_path(state_dir) : snapshot_path(state_dir);
    const int fd = open(path.c_str(), O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
    try {
        if (fd < 0) throw PolicyError(path + ": cannot read the policy snapshot: " + std::strerror(errno));
        struct stat st {};
        if (fstat(fd, &st) != 0 || st.st_uid != owner || (st.st_mode & 022)) throw PolicyError(not_ours(path, owner));
        Snapshot snapshot = open_mapped(fd, path, issuer_names);
        close(fd);
        return snapshot;
    } catch (const PolicyError& err) {
        if (fd >= 0) close(fd);
        if (why) *why = err.what();
        return std::nullopt;
    }
}

std::uint64_t next_generation(std::uint64_t last) {
    struct timespec now {};
    clock_gettime(CLOCK_REALTIME, &now);
    const auto ns = static_cast<std::uint64_t>(now.tv_sec) * 1000000000ULL + static_cast<std::uint64_t>(now.tv_nsec);
    return ns > last ? ns : last + 1;
}

}  // namespace cscguard::glue
