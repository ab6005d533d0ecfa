#include "accepted_files.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <set>

#include <dirent.h>
#include <fcntl.h>
#include <openssl/sha.h>
#include <sys/file.h>
#include <unistd.h>

#include "error.h"

namespace cscguard {
namespace {

constexpr std::string_view kMagic = "cscguard-accepted 1";
constexpr std::string_view kPrefix = "accepted-";

std::string header(const std::string& path, const FileStamp& stamp) {
    return std::string(kMagic) + " " + std::to_string(stamp.device) + " " + std::to_string(stamp.inode) + " " +
           std::to_string(stamp.size) + " " + std::to_string(stamp.mtime_ns) + "\n" + path + "\n";
}

// The header of a record file's text, and where its bytes begin.
struct Parsed {
    std::string header;
    std::size_t body = 0;
};

bool parse(std::string_view text, Parsed& out) {
    const std::size_t first = text.find('\n');
    if (first == std::string_view::npos || text.substr(0, kMagic.size()) != kMagic) return false;
    const std::size_t second = text.find('\n', first + 1);
    if (second == std::string_view::npos) return false;
    out.header = std::string(text.substr(0, second + 1));
    out.body = second + 1;
    return true;
}

// An exclusive flock(2) on DIR/.lock for one record's read-compare-write.
class DirLock {
public:
    explicit DirLock(const std::string& dir) : fd_(::open((dir + "/.lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600)) {
        if (fd_ < 0) throw PolicyError(dir + "/.lock: cannot open: " + std::strerror(errno));
        while (::flock(fd_, LOCK_EX) != 0) {
            if (errno != EINTR) throw PolicyError(dir + "/.lock: cannot lock: " + std::strerror(errno));
        }
    }
    ~DirLock() { ::close(fd_); }  // releases the lock
    DirLock(const DirLock&) = delete;
    DirLock& operator=(const DirLock&) = delete;

private:
    int fd_;
};

void write_all(int fd, std::string_view data, const std::string& where) {
    while (!data.empty()) {
        const ssize_t n = ::write(fd, data.data(), data.size());
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) throw PolicyError(where + ": cannot write: " + std::strerror(errno));
        data.remove_prefix(static_cast<std::size_t>(n));
    }
}

}  // namespace

std::string AcceptedFiles::record_path(const std::string& path) const {
    unsigned char md[SHA256_DIGEST_LENGTH];
    SHA256(reinterpret_cast<const unsigned char*>(path.data()), path.size(), md);
    static const char* hex = "0123456789abcdef";
    std::string name(kPrefix);
    for (unsigned char b : md) {
        name += hex[b >> 4];
        name += hex[b & 15];
    }
    return dir_ + "/" + name;
}

void AcceptedFiles::record(const std::string& path, const FileStamp& stamp, std::string_view bytes) const {
    if (path.find('\n') != std::string::npos) return;  // cannot be written in the header; nothing to fall back to
    const std::string target = record_path(path);
    const std::string head = header(path, stamp);
    DirLock lock(dir_);
    // Every child accepts the same version within one interval: the first records it.
    try {
        const FileContent existing = read_policy_file(target, "accepted copy");
        Parsed parsed;
        if (parse(existing.bytes, parsed) && parsed.header == head) return;
    } catch (const PolicyError&) {
        // none yet, or unreadable: write it
    }
    const std::string tmp = target + ".tmp";
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) throw PolicyError(tmp + ": cannot create: " + std::strerror(errno));
    try {
        write_all(fd, head, tmp);
        write_all(fd, bytes, tmp);
    } catch (const PolicyError&) {
        ::close(fd);
        ::unlink(tmp.c_str());
        throw;
    }
    ::close(fd);
    if (::rename(tmp.c_str(), target.c_str()) != 0) {
        const int saved = errno;
        ::unlink(tmp.c_str());
        throw PolicyError(target + ": cannot rename into place: " + std::strerror(saved));
    }
}

std::optional<AcceptedVersion> AcceptedFiles::find(const std::string& path) const {
    FileContent content;
    try {
        content = read_policy_file(record_path(path), "accepted copy");
    } catch (const PolicyError&) {
        return std::nullopt;  // none yet
    }
    // cscguard-accepted 1 DEVICE INODE SIZE MTIME_NS\nPATH\n
    Parsed parsed;
    if (!parse(content.bytes, parsed)) return std::nullopt;
    AcceptedVersion version;
    version.stamp.exists = true;
    if (std::sscanf(parsed.header.c_str() + kMagic.size(), " %llu %llu %llu %lld", &version.stamp.device,
                    &version.stamp.inode, &version.stamp.size, &version.stamp.mtime_ns) != 4) {
        return std::nullopt;
    }
    // The path in the header guards against a (practically impossible) name clash.
    if (parsed.header.find("\n" + path + "\n") == std::string::npos) return std::nullopt;
    version.bytes = content.bytes.substr(parsed.body);
    return version;
}

void AcceptedFiles::prune(const std::vector<std::string>& keep) const {
    std::set<std::string> wanted;
    for (const auto& path : keep) wanted.insert(record_path(path).substr(dir_.size() + 1));
    DIR* dir = ::opendir(dir_.c_str());
    if (!dir) return;
    while (const dirent* entry = ::readdir(dir)) {
        const std::string name = entry->d_name;
        if (name.rfind(kPrefix, 0) == 0 && !wanted.count(name)) ::unlink((dir_ + "/" + name).c_str());
    }
    ::closedir(dir);
}

}  // namespace cscguard
