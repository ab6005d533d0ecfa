#include "tools/cscguard/ca_dir.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <dirent.h>
#include <filesystem>
#include <fcntl.h>
#include <sstream>
#include <sys/file.h>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

#include "tools/cscguard/args.h"
#include "policy/error.h"
#include "policy/file.h"
#include "tools/cscguard/redis_url.h"
#include "tools/cscguard/tool_error.h"

namespace cscguard::tool {
namespace {

[[noreturn]] void fail(const std::string& what, const std::string& path) {
    throw ToolError(kFailure, path + ": " + what + ": " + std::strerror(errno));
}

std::string directory_of(const std::string& path) {
    const std::size_t slash = path.rfind('/');
    return slash == std::string::npos ? "." : path.substr(0, slash == 0 ? 1 : slash);
}

// Writes `data` to a new temporary file next to `path`, fsynced; returns its name.
std::string write_temp_file(const std::string& path, std::string_view data, mode_t mode) {
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
    if (!ok) {
        const int saved = errno;
        unlink(tmp.c_str());
        errno = saved;
        fail("cannot write", path);
    }
    return tmp;
}

// Makes a rename or link in the directory of `path` durable.
void sync_directory_of(const std::string& path) {
    const int dir = open(directory_of(path).c_str(), O_RDONLY | O_DIRECTORY);
    if (dir >= 0) {
        fsync(dir);
        close(dir);
    }
}

}  // namespace

void write_file_atomic(const std::string& path, std::string_view data, mode_t mode) {
    const std::string tmp = write_temp_file(path, data, mode);
    if (rename(tmp.c_str(), path.c_str()) != 0) {
        const int saved = errno;
        unlink(tmp.c_str());
        errno = saved;
        fail("cannot write", path);
    }
    sync_directory_of(path);
}

bool create_file_exclusive(const std::string& path, std::string_view data, mode_t mode) {
    const std::string tmp = write_temp_file(path, data, mode);
    // link(2), unlike rename(2), never replaces: whole content or nothing, and one winner.
    const int linked = link(tmp.c_str(), path.c_str());
    const int saved = errno;
    unlink(tmp.c_str());
    if (linked != 0 && saved == EEXIST) return false;
    errno = saved;
    if (linked != 0) fail("cannot create", path);
    sync_directory_of(path);
    return true;
}

std::string absolute_path(const std::string& path) {
    if (path.empty()) throw ToolError(kUsage, "an empty directory name");
    std::filesystem::path p(path);
    if (p.is_relative()) {
        std::error_code error;
        const auto cwd = std::filesystem::current_path(error);
        if (error) throw ToolError(kFailure, "cannot make '" + path + "' absolute: the current directory: " + error.message());
        p = cwd / p;
    }
    std::string normal = p.lexically_normal().string();
    while (normal.size() > 1 && normal.back() == '/') normal.pop_back();
    return normal;
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

std::vector<std::string> directory_entries(const std::string& path) {
    std::vector<std::string> names;
    DIR* dir = opendir(path.c_str());
    if (!dir) {
        if (errno == ENOENT) return names;
        fail("cannot read directory", path);
    }
    while (const dirent* entry = readdir(dir)) {
        const std::string name = entry->d_name;
        if (name != "." && name != "..") names.push_back(name);
    }
    closedir(dir);
    std::sort(names.begin(), names.end());
    return names;
}

bool directory_is_empty_or_missing(const std::string& path, const std::string& except) {
    DIR* dir = opendir(path.c_str());
    if (!dir) return errno == ENOENT;
    bool empty = true;
    while (const dirent* entry = readdir(dir)) {
        const std::string name = entry->d_name;
        if (name != "." && name != ".." && name != except) empty = false;
    }
    closedir(dir);
    return empty;
}

std::string read_file(const std::string& path) {
    try {
        return read_named_file(path, "");
    } catch (const PolicyError& e) {
        throw ToolError(kFailure, e.what());
    }
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
    const std::string file = path("cscguard.conf");
    std::istringstream in(read_file(file));
    std::size_t line_no = 0;
    // A hand-edited number must not become an unreadable date (see check_days).
    const auto days = [&](const std::string& key, const std::string& value) {
        try {
            std::size_t used = 0;
            const int n = std::stoi(value, &used);
            if (used == value.size() && n >= 1 && n <= kMaxDays) return n;
        } catch (const std::exception&) {
        }
        throw ToolError(kFailure, file + ":" + std::to_string(line_no) + ": " + key + " = " + value + ": want a number of days from 1 to " +
                                      std::to_string(kMaxDays));
    };
    for (std::string line; std::getline(in, line);) {
        ++line_no;
        if (line.empty() || line[0] == '#') continue;
        const std::size_t eq = line.find(" = ");
        if (eq == std::string::npos) continue;
        const std::string key = line.substr(0, eq), value = line.substr(eq + 3);
        if (key == "name") s.name = value;
        else if (key == "key") s.key_spec = value;
        else if (key == "client_days") s.client_days = days(key, value);
        else if (key == "server_days") s.server_days = days(key, value);
        else if (key == "crl_days") s.crl_days = days(key, value);
        else if (key == "crl_url") s.crl_url = value;
        else if (key == "publish_dir") s.publish_dir = value;
        else if (key == "key_encrypted") s.key_encrypted = value == "yes";
        else if (key == "push_max_age") s.push_max_age_days = days(key, value);
        else if (key == "push") {
            // Refused here, where the line is known, not when a revoke first pushes.
            RedisUrl url;
            if (const std::string why = parse_redis_url(value, url); !why.empty()) {
                throw ToolError(kFailure, file + ":" + std::to_string(line_no) + ": push = " + printable(value) + ": " + why);
            }
            s.push = value;
        }
    }
    if (s.name.empty()) throw ToolError(kFailure, file + ": no 'name = ...' line");
    if (s.publish_dir.empty()) s.publish_dir = publish_dir();
    return s;
}

std::string CaDir::publish_dir() const { return absolute_path(root_) + "/publish"; }

void CaDir::save_settings(const CaSettings& s) const {
    std::string text = "# cscguard CA settings; `cscguard init` (and `cscguard push --save`) wrote them\n";
    text += "name = " + s.name + "\n";
    text += "key = " + s.key_spec + "\n";
    text += "client_days = " + std::to_string(s.client_days) + "\n";
    text += "server_days = " + std::to_string(s.server_days) + "\n";
    text += "crl_days = " + std::to_string(s.crl_days) + "\n";
    if (!s.crl_url.empty()) text += "crl_url = " + s.crl_url + "\n";
    text += "publish_dir = " + s.publish_dir + "\n";
    text += std::string("key_encrypted = ") + (s.key_encrypted ? "yes" : "no") + "\n";
    if (!s.push.empty()) text += "push = " + s.push + "\n";
    if (s.push_max_age_days > 0) text += "push_max_age = " + std::to_string(s.push_max_age_days) + "\n";
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
