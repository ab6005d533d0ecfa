// The watcher: the one process of an httpd that re-reads the policy files
// while it serves. httpd's parent forks it once the configuration is loaded
// (as mod_cgid forks its daemon), so it starts from the parent's policy and
// keeps the parent's privileges: the files are the parent's to read and the
// state directory is the parent's to write. Every CSCGuardReloadInterval it
// refreshes the policy store and, when a change was accepted, publishes a
// compiled snapshot that every child maps - until that succeeds, every round;
// a file put in place wakes it at once (file_events.h);
// a snapshot removed or replaced is published again. It is the one process
// that parses a changed file, however many children there are, and it keeps
// no copy of its own: after publishing, it serves its tables from the
// snapshot's pages like everybody else. The parent starts a new watcher if it
// dies; a new one first takes the newest snapshot (the parent's own policy is
// the one from start-up) and publishes nothing before it has. It is stopped, and reaped, at a restart or shutdown.
#include <algorithm>
#include <cerrno>
#include <csignal>

#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ap_listen.h"
#include "ap_mpm.h"
#include "apr_thread_proc.h"
#include "mod_cscguard/file_events.h"
#include "mod_cscguard/module.h"

#include "policy/error.h"

APLOG_USE_MODULE(cscguard);

namespace cscguard::glue {
namespace {

struct WatcherProcess {
    apr_proc_t proc;  // proc.pid: the running watcher, or 0
    apr_pool_t* pool;
    server_rec* server;
};

// CSG0201 for what was refused, CSG0202 for what was reloaded.
void log_line(server_rec* s, LogLevel level, const std::string& text) {
    ap_log_error(APLOG_MARK, ap_level(level), 0, s, "%s: %s", level == LogLevel::Info ? "CSG0202" : "CSG0201",
                 text.c_str());
}

// httpd's parent handles these signals for itself; here they keep their
// plain meaning (TERM and HUP end the watcher) or do nothing.
void reset_signals() {
    for (int sig : {SIGTERM, SIGHUP, SIGINT, SIGCHLD}) std::signal(sig, SIG_DFL);
    for (int sig : {SIGUSR1, SIGWINCH, SIGPIPE}) std::signal(sig, SIG_IGN);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
}

// Says an error once, not every round it persists.
class OnceLog {
public:
    explicit OnceLog(server_rec* s) : server_(s) {}
    void error(const std::string& text) {
        if (text == last_) return;
        last_ = text;
        ap_log_error(APLOG_MARK, APLOG_ERR, 0, server_, "%s", text.c_str());
    }
    void clear() { last_.clear(); }

private:
    server_rec* server_;
    std::string last_;
};

// A watcher started after another one died takes the newest snapshot first:
// the parent's policy is the one from start-up, and republishing it, or
// judging CRLs against it, would roll back what the children enforce.
bool catch_up(Registry& reg, OnceLog& once) {
    std::string why;
    std::optional<Snapshot> latest = read_snapshot(reg.state_dir, reg.state_owner, reg.store->issuer_names(), &why);
    if (!latest) {
        once.error("CSG0207: the new policy watcher cannot read the newest snapshot, and publishes nothing until it "
                   "can: " + why);
        return false;
    }
    if (latest->configuration != reg.configuration) {
        // Not this server's snapshot (another httpd with the same
        // DefaultRuntimeDir?): nothing to go on from.
        once.error("CSG0207: the new policy watcher found a snapshot of another configuration in " + reg.state_dir +
                   " (does another httpd use the same DefaultRuntimeDir?), and publishes nothing until a restart");
        return false;
    }
    reg.store->adopt(*latest);
    reg.generation = std::max(reg.generation, latest->generation);
    return true;
}



[[noreturn]] void watch(server_rec* s, pid_t parent, bool caught_up) {
    reset_signals();
    prctl(PR_SET_NAME, "cscguard-watch");
    prctl(PR_SET_PDEATHSIG, SIGTERM);  // never outlive the parent...
    if (getppid() != parent) _exit(0);  // ...which may be gone already
    ap_close_listeners();
    Registry& reg = registry();
    const auto log = [s](LogLevel level, const std::string& text) { log_line(s, level, text); };
    OnceLog once(s);
    bool unpublished = false;  // a change accepted, not yet handed on
    std::uint64_t above = 0;    // a generation the next snapshot must pass (one put in place by someone else)
    std::vector<std::string> paths;
    for (const CompiledFile* file : reg.store->files()) paths.push_back(file->path);
    FileEvents events(paths);
    if (!events.problem().empty()) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s,
                     "CSG0210: the policy watcher is not told of all file changes (%s): those it is not told of "
                     "are seen within CSCGuardReloadInterval (%d s)",
                     events.problem().c_str(), reg.reload_interval);
    }
    // After every round, also one that ends early (`continue`): the status
    // page's account of the files.
    for (;; write_reload_status(reg, s), events.wait(reg.reload_interval)) {
        if (getppid() != parent) _exit(0);
        try {
            if (!caught_up && !(caught_up = catch_up(reg, once))) continue;
            if (reg.store->refresh(log)) {
                unpublished = true;
                // Files often change together (an allowlist and a CRL renamed
                // one after the other): one that changed while another was
                // compiled goes into the same snapshot, so every child maps
                // and checks one snapshot, not two.
                for (int again = 0; again < 3 && reg.store->refresh(log); ++again) {
                }
            }
            if (!unpublished) {
                // Not the snapshot published last (removed by a cleaner of /run,
                // replaced): children forked from now on would serve the
                // parent's start-up policy, or another one.
                const SnapshotHead head = peek_snapshot(reg.state_dir, reg.state_owner);
                if (head.generation == reg.generation) continue;
                once.error("CSG0206: the policy snapshot in " + reg.state_dir +
                           " was removed or replaced; publishing it again");
                above = head.generation.value_or(0);
            }
            unpublished = true;
            const std::uint64_t generation = next_generation(std::max(reg.generation, above));
            // The tables just compiled go; those of the snapshot's pages stay.
            reg.store->adopt(publish_snapshot(reg.state_dir, generation, reg.configuration, reg.store->files(),
                                              reg.store->issuer_names()));
            trim_heap();
            reg.generation = generation;
            unpublished = false;
            once.clear();
        } catch (const std::exception& err) {  // out of memory, a full /run...: tried again next round
            once.error(std::string("CSG0206: cannot hand the policy on to the children: ") + err.what());
        }
    }
}

void maintain(int reason, void* data, apr_wait_t status);

void launch(WatcherProcess* w, bool caught_up) {
    const pid_t parent = getpid();
    const pid_t pid = fork();
    if (pid < 0) {
        ap_log_error(APLOG_MARK, APLOG_ERR, errno, w->server,
                     "CSG0207: cannot start the policy watcher: policy files are not reloaded");
        return;
    }
    if (pid == 0) {
        try {
            watch(w->server, parent, caught_up);
        } catch (...) {
        }
        _exit(1);  // never run the parent's cleanups in this process
    }
    w->proc.pid = pid;
    w->proc.in = w->proc.out = w->proc.err = nullptr;
    // Not apr_pool_note_subprocess: APR would wait for and signal the pid it
    // was given at the pool's cleanup even after the process ended and was
    // reaped (a reused pid, or -1: every process). stop() ends exactly the
    // watcher that runs.
    apr_proc_other_child_register(&w->proc, maintain, w, nullptr, w->pool);
}

// Ends the running watcher and reaps it: SIGTERM, then SIGKILL after 3 s.
void stop(WatcherProcess* w) {
    const pid_t pid = w->proc.pid;
    if (pid <= 0) return;
    w->proc.pid = 0;
    kill(pid, SIGTERM);
    for (int i = 0; i < 60; ++i) {
        if (waitpid(pid, nullptr, WNOHANG) != 0) return;  // reaped, or not ours to reap
        usleep(50 * 1000);
    }
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
}

void maintain(int reason, void* data, apr_wait_t status) {
    auto* w = static_cast<WatcherProcess*>(data);
    switch (reason) {
        case APR_OC_REASON_DEATH:
        case APR_OC_REASON_LOST: {
            const pid_t ended = w->proc.pid;
            w->proc.pid = 0;  // reaped already: stop() must not signal that pid
            apr_proc_other_child_unregister(data);
            int state = AP_MPMQ_STOPPING;
            if (ap_mpm_query(AP_MPMQ_MPM_STATE, &state) == APR_SUCCESS && state != AP_MPMQ_STOPPING) {
                ap_log_error(APLOG_MARK, APLOG_ERR, 0, w->server,
                             "CSG0207: the policy watcher (pid %ld) ended (status %d); starting another",
                             static_cast<long>(ended), static_cast<int>(status));
                launch(w, false);
            }
            break;
        }
        case APR_OC_REASON_RESTART:
            apr_proc_other_child_unregister(data);
            break;
        case APR_OC_REASON_UNREGISTER:  // a restart or shutdown (the pool's cleanup), or after DEATH
            stop(w);
            break;
        default:
            break;
    }
}

}  // namespace

void start_watcher(apr_pool_t* pconf, server_rec* s) {
    auto* w = static_cast<WatcherProcess*>(apr_pcalloc(pconf, sizeof(WatcherProcess)));
    w->pool = pconf;
    w->server = s;
    launch(w, true);  // forked from the parent right after it published its policy
}

}  // namespace cscguard::glue
