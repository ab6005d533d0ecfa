#include "policy/file.h"

#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "policy/error.h"

namespace cscguard {
namespace {

// Computed without overflow for any time (a file dated after 2262 wraps
// around, which still tells two times apart).
long long nanoseconds(const struct timespec& t) {
    const unsigned long long ns = static_cast<unsigned long long>(t.tv_sec) * 1000000000ULL +
                                  static_cast<unsigned long long>(t.tv_nsec);
    return static_cast<long long>(ns);
}

FileStamp stamp_of(const struct stat& st) {
    FileStamp stamp;
    stamp.exists = true;
    stamp.device = st.st_dev;
    stamp.inode = st.st_ino;
    stamp.size = static_cast<unsigned long long>(st.st_size);
    stamp.mtime_ns = nanoseconds(st.st_mtim);
    stamp.ctime_ns = nanoseconds(st.st_ctim);
    return stamp;
}

const char* file_kind(mode_t mode) {
    if (S_ISFIFO(mode)) return "a FIFO";
    if (S_ISDIR(mode)) return "a directory";
    if (S_ISCHR(mode) || S_ISBLK(mode)) return "a device";
    if (S_ISSOCK(mode)) return "a socket";
    return "not a regular file";
}

class Descriptor {
public:
    explicit Descriptor(int fd) : fd_(fd) {}
    ~Descriptor() {
        if (fd_ >= 0) ::close(fd_);
    }
    Descriptor(const Descriptor&) = delete;
    Descriptor& operator=(const Descriptor&) = delete;
    int get() const { return fd_; }

private:
    int fd_;
};

// " allowlist", or "" for a file that is just a file.
std::string spaced(const char* what) { return *what ? std::string(" ") + what : std::string(); }

std::string cannot_read(const std::string& path, const char* what) { return path + ": cannot read" + spaced(what) + ": "; }

PolicyError too_big(const std::string& path, const char* what, std::size_t max_bytes) {
    return PolicyError(cannot_read(path, what) + "bigger than " + std::to_string(max_bytes >> 20) + " MiB");
}

// Appends everything `fd` gives until its end; an error names the file.
void read_to_end(int fd, const std::string& path, const char* what, std::size_t max_bytes, std::string& bytes) {
    char buf[1 << 16];
    for (;;) {
        const ssize_t n = ::read(fd, buf, sizeof buf);
        if (n == 0) return;
        if (n < 0) {
            if (errno == EINTR) continue;
            throw PolicyError(path + ": error while reading" + spaced(what) + ": " + std::strerror(errno));
        }
        if (bytes.size() + static_cast<std::size_t>(n) > max_bytes) throw too_big(path, what, max_bytes);  // still growing
        bytes.append(buf, static_cast<std::size_t>(n));
    }
}

}  // namespace

FileStamp FileStamp::of(const std::string& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return {};
    return stamp_of(st);
}

FileContent read_policy_file(const std::string& path, const char* what, std::size_t max_bytes) {
    const std::string cannot = cannot_read(path, what);
    // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer forever.
    const Descriptor fd(::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC));
    if (fd.get() < 0) throw PolicyError(cannot + std::strerror(errno));
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) throw PolicyError(cannot + std::strerror(errno));
    if (!S_ISREG(st.st_mode)) throw PolicyError(cannot + "it is " + file_kind(st.st_mode) + ", not a regular file");
    if (static_cast<unsigned long long>(st.st_size) > max_bytes) throw too_big(path, what, max_bytes);

    FileContent content;
    content.stamp = stamp_of(st);
    content.owner = st.st_uid;
    content.mode = st.st_mode & 07777;
    content.bytes.reserve(static_cast<std::size_t>(st.st_size));
    read_to_end(fd.get(), path, what, max_bytes, content.bytes);
    return content;
}

std::string read_whole_file(const std::string& path, const char* what) {
    return read_policy_file(path, what).bytes;
}

std::string read_named_file(const std::string& path, const char* what, std::size_t max_bytes) {
    const std::string cannot = cannot_read(path, what);
    const Descriptor fd(::open(path.c_str(), O_RDONLY | O_NOCTTY | O_CLOEXEC));
    if (fd.get() < 0) throw PolicyError(cannot + std::strerror(errno));
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) throw PolicyError(cannot + std::strerror(errno));
    if (S_ISDIR(st.st_mode)) throw PolicyError(cannot + "it is a directory");
    std::string bytes;
    if (S_ISREG(st.st_mode)) {
        if (static_cast<unsigned long long>(st.st_size) > max_bytes) throw too_big(path, what, max_bytes);
        bytes.reserve(static_cast<std::size_t>(st.st_size));
    }
    read_to_end(fd.get(), path, what, max_bytes, bytes);
    return bytes;
}

}  // namespace cscguard
