// The watcher: the one process of an httpd that re-reads the policy files
// while it serves. httpd's parent forks it once the configuration is loaded
// (as mod_cgid forks its daemon), so it starts from the parent's policy and
// keeps the parent's privileges: the files are the parent's to read and the
// state directory is the parent's to write. Every CSCGuardReloadInterval it
// refreshes the policy store and, when a change was accepted, publishes a
// bundle that every child takes. The parent starts a new watcher if it dies
// and stops it at a restart or shutdown.
#include <cerrno>
#include <csignal>
#include <ctime>

#include <sys/prctl.h>
#include <unistd.h>

#include "ap_listen.h"
#include "ap_mpm.h"
#include "apr_thread_proc.h"
#include "module.h"

#include "error.h"

APLOG_USE_MODULE(cscguard);

namespace cscguard::glue {
namespace {

struct WatcherProcess {
    apr_proc_t proc;
    apr_pool_t* pool;
    server_rec* server;
};

void log_line(server_rec* s, LogLevel level, const std::string& text) {
    switch (level) {
        case LogLevel::Error: ap_log_error(APLOG_MARK, APLOG_ERR, 0, s, "CSG0201: %s", text.c_str()); break;
        case LogLevel::Warning: ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, "CSG0201: %s", text.c_str()); break;
        case LogLevel::Info: ap_log_error(APLOG_MARK, APLOG_INFO, 0, s, "CSG0202: %s", text.c_str()); break;
    }
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

[[noreturn]] void watch(server_rec* s) {
    prctl(PR_SET_NAME, "cscguard-watch");
    prctl(PR_SET_PDEATHSIG, SIGTERM);  // never outlive the parent
    const pid_t parent = getppid();
    reset_signals();
    ap_close_listeners();
    Registry& reg = registry();
    PolicyStore& store = *reg.store;
    const auto log = [s](LogLevel level, const std::string& text) { log_line(s, level, text); };
    // A watcher started after another one died goes on from the newest bundle.
    std::string why;
    if (auto latest = read_bundle(reg.state_dir, &why);
        latest && latest->configuration == reg.configuration && latest->generation > reg.generation) {
        try {
            store.adopt(*latest);
            reg.generation = latest->generation;
        } catch (const PolicyError& err) {
            log(LogLevel::Error, std::string("the newest policy bundle does not load: ") + err.what());
        }
    }
    for (;;) {
        if (getppid() != parent) _exit(0);
        try {
            if (store.refresh(log)) {
                publish_bundle(reg.state_dir, store.bundle(reg.generation + 1, reg.configuration));
                ++reg.generation;
            }
        } catch (const std::exception& err) {  // e.g. out of memory, or the state directory: tried again next round
            ap_log_error(APLOG_MARK, APLOG_ERR, 0, s, "CSG0206: cannot publish the policy: %s", err.what());
        }
        struct timespec wait {reg.reload_interval, 0};
        while (nanosleep(&wait, &wait) != 0 && errno == EINTR) {
        }
    }
}

void maintain(int reason, void* data, apr_wait_t status);

void launch(WatcherProcess* w) {
    const pid_t pid = fork();
    if (pid < 0) {
        ap_log_error(APLOG_MARK, APLOG_ERR, errno, w->server,
                     "CSG0207: cannot start the policy watcher: policy files are not reloaded");
        return;
    }
    if (pid == 0) {
        try {
            watch(w->server);
        } catch (...) {
        }
        _exit(1);  // never run the parent's cleanups in this process
    }
    w->proc.pid = pid;
    w->proc.in = w->proc.out = w->proc.err = nullptr;
    apr_pool_note_subprocess(w->pool, &w->proc, APR_KILL_AFTER_TIMEOUT);
    apr_proc_other_child_register(&w->proc, maintain, w, nullptr, w->pool);
}

void maintain(int reason, void* data, apr_wait_t status) {
    auto* w = static_cast<WatcherProcess*>(data);
    switch (reason) {
        case APR_OC_REASON_DEATH:
        case APR_OC_REASON_LOST: {
            apr_proc_other_child_unregister(data);
            int state = AP_MPMQ_STOPPING;
            if (ap_mpm_query(AP_MPMQ_MPM_STATE, &state) == APR_SUCCESS && state != AP_MPMQ_STOPPING) {
                ap_log_error(APLOG_MARK, APLOG_ERR, 0, w->server,
                             "CSG0207: the policy watcher (pid %ld) ended (status %d); starting another",
                             static_cast<long>(w->proc.pid), static_cast<int>(status));
                launch(w);
            }
            break;
        }
        case APR_OC_REASON_RESTART:
            apr_proc_other_child_unregister(data);
            break;
        case APR_OC_REASON_UNREGISTER:
            kill(w->proc.pid, SIGTERM);
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
    launch(w);
}

}  // namespace cscguard::glue
