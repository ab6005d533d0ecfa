// The e2e benchmark's load client: HTTPS requests with a client certificate
// through libcurl (ab cannot send one), from P threads.
//
//   e2e_loadgen keepalive|newconn URL CERT KEY CACERT REQUESTS PARALLEL EXPECT
//       REQUESTS requests in all; keepalive: each thread keeps one connection,
//       newconn: a new connection and a full TLS handshake per request (no
//       session cache, so no resumption). Prints one line:
//       requests=N expected=N other=N connections=N seconds=S
//       and exits 1 when any answer was not EXPECT (an HTTP status).
//   e2e_loadgen watch URL CERT KEY CACERT ROUND PARALLEL EXPECT SINCE_NS TIMEOUT_S PERIOD_S
//       Every PERIOD_S seconds a round of ROUND new connections, PARALLEL at
//       a time, until every answer of a round is EXPECT. Prints
//       enforced_after=S (seconds from SINCE_NS, a CLOCK_REALTIME time in ns,
//       to the end of that round) round_started=S last_other_after=S rounds=N
//       requests=N; exits 3 after TIMEOUT_S seconds without such a round.
//   e2e_loadgen children URL CERT KEY CACERT N BEFORE EXPECT TIMEOUT_S COMMAND
//       Opens N keep-alive connections at once, each answered BEFORE; with
//       prefork and MaxRequestWorkers N they are held by N different
//       children. Then runs COMMAND (sh -c: the change) and asks on every
//       connection every 20 ms until it answers EXPECT. Prints
//       every_child_after=S first_child_after=S (seconds from just before
//       COMMAND) connections=N reconnected=N; exits 3 when a connection did
//       not answer EXPECT within TIMEOUT_S seconds.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include <curl/curl.h>

namespace {

struct Target {
    std::string url, cert, key, cacert;
};

size_t discard(char*, size_t size, size_t n, void*) { return size * n; }

CURL* make_handle(const Target& t, bool new_connection_each_time) {
    CURL* h = curl_easy_init();
    if (!h) std::abort();
    curl_easy_setopt(h, CURLOPT_URL, t.url.c_str());
    curl_easy_setopt(h, CURLOPT_SSLCERT, t.cert.c_str());
    curl_easy_setopt(h, CURLOPT_SSLKEY, t.key.c_str());
    curl_easy_setopt(h, CURLOPT_CAINFO, t.cacert.c_str());
    curl_easy_setopt(h, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_1_1);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, 30L);
    if (new_connection_each_time) {
        curl_easy_setopt(h, CURLOPT_FRESH_CONNECT, 1L);
        curl_easy_setopt(h, CURLOPT_FORBID_REUSE, 1L);
        curl_easy_setopt(h, CURLOPT_SSL_SESSIONID_CACHE, 0L);  // a full handshake every time
    }
    return h;
}

// One request: the HTTP status, or 0 when there was none (TLS or connection failure).
long request(CURL* h, long* connects) {
    long status = 0, n = 0;
    if (curl_easy_perform(h) == CURLE_OK) curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_getinfo(h, CURLINFO_NUM_CONNECTS, &n);
    *connects += n;
    return status;
}

double now_since(long long since_ns) {
    const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                        std::chrono::system_clock::now().time_since_epoch())
                        .count();
    return static_cast<double>(ns - since_ns) / 1e9;
}

int load(bool keepalive, const Target& t, long requests, int parallel, long expect) {
    std::atomic<long> next{0}, good{0}, other{0}, connections{0};
    const auto start = std::chrono::steady_clock::now();
    std::vector<std::thread> threads;
    for (int i = 0; i < parallel; ++i) {
        threads.emplace_back([&] {
            CURL* h = make_handle(t, !keepalive);
            long connects = 0;
            while (next.fetch_add(1) < requests) (request(h, &connects) == expect ? good : other)++;
            connections += connects;
            curl_easy_cleanup(h);
        });
    }
    for (auto& th : threads) th.join();
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::printf("requests=%ld expected=%ld other=%ld connections=%ld seconds=%.3f\n", requests, good.load(),
                other.load(), connections.load(), seconds);
    return other == 0 ? 0 : 1;
}

// Rounds of ROUND new connections, PARALLEL at a time, one round every
// PERIOD seconds, until a whole round answers EXPECT. PARALLEL connections in
// flight at once are served by PARALLEL different prefork children, so with
// PARALLEL = the number of children every child answers in every round. The
// pause between rounds keeps the poll from slowing down the reload it times.
int watch(const Target& t, long round, int parallel, long expect, long long since_ns, double timeout, double period) {
    long total = 0, rounds = 0;
    double last_other = -1;
    for (;;) {
        const double round_start = now_since(since_ns);
        std::atomic<long> next{0}, good{0};
        std::vector<std::thread> threads;
        for (int i = 0; i < parallel; ++i) {
            threads.emplace_back([&] {
                CURL* h = make_handle(t, true);
                long connects = 0;
                while (next.fetch_add(1) < round) {
                    if (request(h, &connects) == expect) good++;
                }
                curl_easy_cleanup(h);
            });
        }
        for (auto& th : threads) th.join();
        const double round_end = now_since(since_ns);
        total += round;
        ++rounds;
        if (good == round) {
            std::printf("enforced_after=%.2f round_started=%.2f last_other_after=%.2f rounds=%ld requests=%ld\n",
                        round_end, round_start, last_other, rounds, total);
            return 0;
        }
        last_other = round_end;
        if (round_end > timeout) break;
        const double wait = round_start + period - now_since(since_ns);
        if (wait > 0) std::this_thread::sleep_for(std::chrono::duration<double>(wait));
    }
    std::printf("enforced_after=timeout last_other_after=%.2f rounds=%ld requests=%ld\n", last_other, rounds, total);
    return 3;
}


// Every child, each on a connection of its own, asked every 20 ms: the time
// the last one enforces a change, to 20 ms, with a load light enough not to
// slow down the reload it times.
int children(const Target& t, int n, long before, long expect, double timeout, const std::string& command) {
    std::mutex mutex;
    std::condition_variable changed;
    int ready = 0, failed = 0;
    bool started = false;
    std::chrono::steady_clock::time_point t0;
    std::vector<double> after(static_cast<std::size_t>(n), -1);
    std::atomic<int> reconnected{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < n; ++i) {
        threads.emplace_back([&, i] {
            CURL* h = make_handle(t, false);
            long connects = 0;
            const bool ok = request(h, &connects) == before;
            {
                std::unique_lock<std::mutex> lock(mutex);
                ++ready;
                failed += !ok;
                changed.notify_all();
                changed.wait(lock, [&] { return started; });
            }
            if (ok) {
                for (;;) {
                    long again = 0;
                    const long status = request(h, &again);
                    if (again > 0) reconnected++;  // another connection: maybe another child
                    const double at = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
                    if (status == expect) {
                        after[static_cast<std::size_t>(i)] = at;
                        break;
                    }
                    if (at > timeout) break;
                    std::this_thread::sleep_for(std::chrono::milliseconds(20));
                }
            }
            curl_easy_cleanup(h);
        });
    }
    {
        std::unique_lock<std::mutex> lock(mutex);
        changed.wait(lock, [&] { return ready == n; });
    }
    t0 = std::chrono::steady_clock::now();
    const int command_status = failed ? 0 : std::system(command.c_str());
    {
        std::lock_guard<std::mutex> lock(mutex);
        started = true;
    }
    changed.notify_all();
    for (auto& th : threads) th.join();
    if (failed || command_status != 0) {
        std::printf("every_child_after=failed connections_not_answering_%ld=%d command_status=%d\n", before, failed,
                    command_status);
        return 3;
    }
    const double last = *std::max_element(after.begin(), after.end());
    const double first = *std::min_element(after.begin(), after.end());
    const auto late = std::count_if(after.begin(), after.end(), [](double a) { return a < 0; });
    if (late > 0) {
        std::printf("every_child_after=timeout not_enforcing=%ld of %d connections\n", static_cast<long>(late), n);
        return 3;
    }
    std::printf("every_child_after=%.2f first_child_after=%.2f connections=%d reconnected=%d\n", last, first, n,
                reconnected.load());
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    const std::string mode = argc > 1 ? argv[1] : "";
    if (!((mode == "keepalive" || mode == "newconn") && argc == 9) && !(mode == "watch" && argc == 12) &&
        !(mode == "children" && argc == 11)) {
        std::fprintf(stderr, "usage: see the comment at the top of bench/e2e/loadgen.cpp\n");
        return 2;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const Target t{argv[2], argv[3], argv[4], argv[5]};
    const long count = std::atol(argv[6]);
    const int parallel = std::atoi(argv[7]);
    const long expect = std::atol(argv[8]);
    if (mode == "children") {
        const int rc = children(t, std::atoi(argv[6]), std::atol(argv[7]), std::atol(argv[8]), std::atof(argv[9]), argv[10]);
        curl_global_cleanup();
        return rc;
    }
    const int rc = mode == "watch" ? watch(t, count, parallel, expect, std::atoll(argv[9]), std::atof(argv[10]),
                                           std::atof(argv[11]))
                                   : load(mode == "keepalive", t, count, parallel, expect);
    curl_global_cleanup();
    return rc;
}
