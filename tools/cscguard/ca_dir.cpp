#include "ca_dir.h"

#include <cerrno>
#include <chrono>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <fstream>
#include <sstream>
#include <sys/file.h>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

#include "tool_error.h"

namespace cscguard::tool {
namespace {

[[noreturn]] void fail(const std::string& what, const std::string& path) {
    throw ToolError(kFailure, path + ": " + what + ": " + std::strerror(errno));
}

std::string directory_of(const std::string& path) {
    const std::size_t slash = path.rfind('/');
    return slash == std::string::npos ? "." : path.substr(0, slash == 0 ? 1 : slash);
}

}  // namespace

void write_file_atomic(const std::string& path, std::string_view data, mode_t mode) {
    std::string tmp = path + ".tmp.XXXXXX";
    const int fd = mkstemp(tmp.data());
    if (fd < 0) fail("cannot create a temporary file", tmp);
    bool ok = fchmod(fd, mode) == 0;
    for (std::size_t done = 0; ok && done < data.size();) {
        const ssize_t n = write(fd, data.data() + done, data.size() - done);
        if (n < 0 && errno == EINTR) continue;
        ok = n > 0;
        done += ok ? static_cast<std::size_t>(n) : 0;
    }
    ok = ok && fsync(fd) == 0;
    ok = (close(fd) == 0) && ok;
    if (!ok || rename(tmp.c_str(), path.c_str()) != 0) {
        const int saved = errno;
        unlink(tmp.c_str());
        errno = saved;
        fail("cannot write", path);
    }
    const int dir = open(directory_of(path).c_str(), O_RDONLY | O_DIRECTORY);
    if (dir >= 0) {
        fsync(dir);  // make the rename itself durable
        close(dir);
    }
}

void make_directories(const std::string& path, mode_t mode) {
    for (std::size_t slash = path.find('/', 1); slash != std::string::npos; slash = path.find('/', slash + 1)) {
        mkdir(path.substr(0, slash).c_str(), 0755);
    }
    if (mkdir(path.c_str(), mode) == 0) {
        chmod(path.c_str(), mode);  // exactly `mode`, whatever the umask
        return;
    }
    if (errno != EEXIST) fail("cannot create directory", path);
}

bool directory_is_empty_or_missing(const std::string& path) {
    DIR* dir = opendir(path.c_str());
    if (!dir) return errno == ENOENT;
    bool empty = true;
    while (const dirent* entry = readdir(dir)) {
        const std::string name = entry->d_name;
        if (name != "." && name != "..") empty = false;
    }
    closedir(dir);
    return empty;
}

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) fail("cannot read", path);
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
}

bool CaDir::initialised() const {
    struct stat st {};
    return ::stat(path("cscguard.conf").c_str(), &st) == 0;
}

void CaDir::require_initialised() const {
    if (!initialised()) {
        throw ToolError(kNotFound, root_ + " holds no CA: create one with `cscguard init --dir " + root_ +
                                       " --name NAME`, or point --dir / CSCGUARD_DIR at it");
    }
}

CaSettings CaDir::load_settings() const {
    CaSettings s;
    std::istringstream in(read_file(path("cscguard.conf")));
    for (std::string line; std::getline(in, line);) {
        if (line.empty() || line[0] == '#') continue;
        const std::size_t eq = line.find(" = ");
        if (eq == std::string::npos) continue;
        const std::string key = line.substr(0, eq), value = line.substr(eq + 3);
        if (key == "name") s.name = value;
        else if (key == "key") s.key_spec = value;
        else if (key == "client_days") s.client_days = std::stoi(value);
        else if (key == "server_days") s.server_days = std::stoi(value);
        else if (key == "crl_days") s.crl_days = std::stoi(value);
        else if (key == "crl_url") s.crl_url = value;
        else if (key == "publish_dir") s.publish_dir = value;
        else if (key == "key_encrypted") s.key_encrypted = value == "yes";
    }
    if (s.name.empty()) throw ToolError(kFailure, path("cscguard.conf") + ": no 'name = ...' line");
    if (s.publish_dir.empty()) s.publish_dir = publish_dir();
    return s;
}

void CaDir::save_settings(const CaSettings& s) const {
    std::string text = "# cscguard CA settings; `cscguard init` wrote them\n";
    text += "name = " + s.name + "\n";
    text += "key = " + s.key_spec + "\n";
    text += "client_days = " + std::to_string(s.client_days) + "\n";
    text += "server_days = " + std::to_string(s.server_days) + "\n";
    text += "crl_days = " + std::to_string(s.crl_days) + "\n";
    if (!s.crl_url.empty()) text += "crl_url = " + s.crl_url + "\n";
    text += "publish_dir = " + s.publish_dir + "\n";
    text += std::string("key_encrypted = ") + (s.key_encrypted ? "yes" : "no") + "\n";
    write_file_atomic(path("cscguard.conf"), text, 0600);
}

std::vector<Record> CaDir::load_records() const {
    return parse_database(read_file(path("index.txt")), path("index.txt"));
}

void CaDir::save_records(const std::vector<Record>& records) const {
    write_file_atomic(path("index.txt"), format_database(records), 0600);
}

std::string CaDir::next_crl_number() const {
    std::string current = read_file(path("crlnumber"));
    while (!current.empty() && (current.back() == '\n' || current.back() == '\r')) current.pop_back();
    const unsigned long long n = std::stoull(current.empty() ? "1" : current, nullptr, 16);
    char next[32];
    std::snprintf(next, sizeof next, "%02llX\n", n + 1);
    write_file_atomic(path("crlnumber"), next, 0600);
    return current;
}

CaDir::Lock::Lock(const CaDir& dir, bool exclusive, double timeout_seconds) {
    const std::string file = dir.path(".lock");
    fd_ = open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd_ < 0 && errno == ENOENT) dir.require_initialised();  // no such directory: say so plainly
    if (fd_ < 0) fail("cannot open the lock file", file);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_seconds);
    while (flock(fd_, (exclusive ? LOCK_EX : LOCK_SH) | LOCK_NB) != 0) {
        if (errno != EWOULDBLOCK && errno != EINTR) fail("cannot lock", file);
        if (std::chrono::steady_clock::now() >= deadline) {
            close(fd_);
            throw ToolError(kLocked, dir.root() + " is locked by another cscguard run; waited " +
                                         std::to_string(static_cast<int>(timeout_seconds)) +
                                         " s (raise --lock-timeout, or check for a stuck run)");
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
}

CaDir::Lock::~Lock() {
    if (fd_ >= 0) close(fd_);  // closing releases the flock
}

}  // namespace cscguard::tool
