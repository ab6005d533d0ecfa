// The real cscguard binary as a child process: a batch interrupted by a
// signal, and several `init` runs racing for one directory.
#include <cerrno>
#include <chrono>
#include <fcntl.h>
#include <sys/stat.h>
#include <fstream>
#include <set>
#include <thread>

#include <openssl/pem.h>

#include "tools/cscguard/database.h"
#include "policy/openssl_ptr.h"
#include "tools/cscguard/tool_error.h"
#include "tests/tool/tool_harness.h"

namespace cscguard::tool::testing {
namespace {

std::size_t count_suffix(const std::string& path, const std::string& suffix) {
    std::size_t n = 0;
    for (const auto& name : files_in(path)) {
        if (name.size() > suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0) ++n;
    }
    return n;
}

// Without reaping it.
bool still_running(pid_t pid) {
    siginfo_t info{};
    return waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 && info.si_pid == 0;
}

class Interrupted : public ToolTest {
protected:
    // One round: a fresh CA, a batch of kNames certificates, `sig` sent
    // `delay` after `before` certificate files exist.
    void interrupt_batch(int round, int sig, std::size_t before, std::chrono::milliseconds delay = {}) {
        SCOPED_TRACE("round " + std::to_string(round) + ", signal " + std::to_string(sig) + " " +
                     std::to_string(delay.count()) + " ms after " + std::to_string(before) + " certificate files");
        dir = root + "/ca" + std::to_string(round);
        pub = root + "/pub" + std::to_string(round);
        init();
        const std::string csv = root + "/people.csv";
        {
            std::ofstream out(csv);
            out << "name,emails,groups\n";
            for (int i = 0; i < kNames; ++i) out << "user" << i << ",user" << i << "@kitty.example,staff\n";
        }
        const pid_t pid = spawn_tool({"--dir", dir, "issue", "client", "--from-csv", csv}, "", root + "/log" + std::to_string(round));
        ASSERT_GT(pid, 0);
        // Polling only picks the moment to interrupt; what is asserted below
        // must hold whenever the signal lands.
        const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(120);
        while (count_suffix(dir + "/certs", ".pem") < before && still_running(pid) &&
               std::chrono::steady_clock::now() < give_up) {
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
        std::this_thread::sleep_for(delay);
        kill(pid, sig);
        const int code = wait_for(pid);
        ASSERT_EQ(code, 128 + sig) << "the batch was not interrupted (it ended with " << code << ")\n"
                                   << read_text(root + "/log" + std::to_string(round));

        std::set<std::string> recorded;
        const auto records = parse_database(read_text(dir + "/index.txt"), dir + "/index.txt");
        for (const Record& r : records) recorded.insert(r.serial);
        for (const auto& [sub, suffix] : {std::pair{"certs", ".pem"}, std::pair{"private", ".key"}}) {
            for (const std::string& name : files_in(dir + "/" + sub)) {
                if (name == "ca.key") continue;
                const bool known = name.size() > 4 && name.compare(name.size() - 4, 4, suffix) == 0 &&
                                   recorded.count(name.substr(0, name.size() - 4));
                EXPECT_TRUE(known) << sub << "/" << name << " is not in the database";
            }
        }
        EXPECT_LT(records.size(), static_cast<std::size_t>(kNames)) << "interrupted, yet everything was issued";
        const Result doctor = run({"doctor"});
        EXPECT_EQ(doctor.code, 0) << "an interrupted batch must leave a consistent CA:\n" << doctor.out;
    }

    static constexpr int kNames = 300;
};

TEST_F(Interrupted, BatchLeavesNoCertificateTheDatabaseDoesNotKnow) {
    interrupt_batch(0, SIGINT, 0, std::chrono::milliseconds(60));
    interrupt_batch(1, SIGINT, 1);
    interrupt_batch(2, SIGTERM, 40);
    interrupt_batch(3, SIGINT, 100);
    interrupt_batch(4, SIGHUP, 170);
}

X509Ptr read_certificate(const std::string& path) {
    const std::string pem = read_text(path);
    BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
    return X509Ptr(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
}

EvpPkeyPtr read_key(const std::string& path, const char* passphrase) {
    const std::string pem = read_text(path);
    BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
    return EvpPkeyPtr(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, const_cast<char*>(passphrase)));
}

// Answers every read of the FIFOs with `secret` until all `runs` have ended.
// Each run's first read is answered only once every run has started reading:
// until then all of them wait between their first look at the directory and
// the lock, so they race for it at once.
void serve_secrets(const std::vector<std::string>& fifos, const std::vector<pid_t>& runs, const std::string& secret) {
    std::vector<bool> reading(fifos.size(), false);
    std::vector<int> first(fifos.size(), -1);
    const auto running = [&] {
        for (pid_t pid : runs) {
            if (still_running(pid)) return true;
        }
        return false;
    };
    const auto answer = [&](int fd) {
        if (write(fd, secret.data(), secret.size()) != static_cast<ssize_t>(secret.size())) ADD_FAILURE() << "cannot write a secret";
        close(fd);
    };
    while (running()) {
        bool all_reading = true;
        for (std::size_t i = 0; i < fifos.size(); ++i) {
            if (!reading[i]) {
                first[i] = open(fifos[i].c_str(), O_WRONLY | O_NONBLOCK);  // ENXIO: no reader yet
                reading[i] = first[i] >= 0 || !still_running(runs[i]);
            }
            all_reading = all_reading && reading[i];
        }
        if (all_reading) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    for (int fd : first) {
        if (fd >= 0) answer(fd);
    }
    while (running()) {  // later reads, e.g. to sign the first CRL
        for (const auto& fifo : fifos) {
            const int fd = open(fifo.c_str(), O_WRONLY | O_NONBLOCK);
            if (fd >= 0) answer(fd);
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
}

TEST_F(ToolTest, ConcurrentInitCreatesExactlyOneCa) {
    constexpr int kRounds = 3, kRuns = 6;
    for (int round = 0; round < kRounds; ++round) {
        SCOPED_TRACE("round " + std::to_string(round));
        const std::string ca = root + "/ca" + std::to_string(round), log = root + "/log" + std::to_string(round);
        // Each run reads its CA passphrase from a FIFO: a slow secret source.
        std::vector<pid_t> pids;
        std::vector<std::string> fifos;
        for (int i = 0; i < kRuns; ++i) {
            fifos.push_back(root + "/pass" + std::to_string(round) + "-" + std::to_string(i));
            ASSERT_EQ(mkfifo(fifos.back().c_str(), 0600), 0);
            const std::string own_pub = root + "/pub" + std::to_string(round) + "-" + std::to_string(i);
            pids.push_back(spawn_tool({"--dir", ca, "--ca-pass", "file:" + fifos.back(), "init", "--name", "kitty-ca", "--publish-dir",
                                       own_pub}, "", log));
        }
        serve_secrets(fifos, pids, "secret\n");
        int created = 0, winner = -1;
        for (int i = 0; i < kRuns; ++i) {
            const int code = wait_for(pids[i]);
            if (code == 0) {
                ++created;
                winner = i;
            } else {
                EXPECT_EQ(code, kConflict) << read_text(log);
            }
        }
        EXPECT_EQ(created, 1) << read_text(log);
        X509Ptr cert = read_certificate(ca + "/ca.crt");
        EvpPkeyPtr key = read_key(ca + "/private/ca.key", "secret");
        ASSERT_TRUE(cert && key);
        EXPECT_EQ(X509_check_private_key(cert.get(), key.get()), 1) << "the CA key does not match the CA certificate";
        if (winner >= 0) {
            EXPECT_EQ(read_text(root + "/pub" + std::to_string(round) + "-" + std::to_string(winner) + "/ca.crt"),
                      read_text(ca + "/ca.crt"));
        }
    }
}

}  // namespace
}  // namespace cscguard::tool::testing
