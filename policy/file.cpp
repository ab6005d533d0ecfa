#include "file.h"

#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"

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

}  // namespace

FileStamp FileStamp::of(const std::string& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return {};
    return stamp_of(st);
}

FileContent read_policy_file(const std::string& path, const char* what, std::size_t max_bytes) {
    const std::string cannot = path + ": cannot read " + what + ": ";
    // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer forever.
    const Descriptor fd(::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC));
    if (fd.get() < 0) throw PolicyError(cannot + std::strerror(errno));
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) throw PolicyError(cannot + std::strerror(errno));
    if (!S_ISREG(st.st_mode)) throw PolicyError(cannot + "it is " + file_kind(st.st_mode) + ", not a regular file");
    const auto too_big = [&] {
        return PolicyError(cannot + "bigger than " + std::to_string(max_bytes >> 20) + " MiB");
    };
    if (static_cast<unsigned long long>(st.st_size) > max_bytes) throw too_big();

    FileContent content;
    content.stamp = stamp_of(st);
    content.owner = st.st_uid;
    content.mode = st.st_mode & 07777;
    content.bytes.reserve(static_cast<std::size_t>(st.st_size));
    char buf[1 << 16];
    for (;;) {
        const ssize_t n = ::read(fd.get(), buf, sizeof buf);
        if (n == 0) break;
        if (n < 0) {
            if (errno == EINTR) continue;
            throw PolicyError(path + ": error while reading " + what + ": " + std::strerror(errno));
        }
        if (content.bytes.size() + static_cast<std::size_t>(n) > max_bytes) throw too_big();  // still growing
        content.bytes.append(buf, static_cast<std::size_t>(n));
    }
    return content;
}

std::string read_whole_file(const std::string& path, const char* what) {
    return read_policy_file(path, what).bytes;
}

}  // namespace cscguard
