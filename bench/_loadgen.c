/* Load generator for the stream echo benchmarks (bench/tcp_echo.py, bench/unix_echo.py).
 *
 * Built and run by bench/_loadgen.py (with -pthread); Linux only (epoll). Three modes:
 *
 *   loadgen echo TARGET CONNECTIONS SIZE SECONDS [--sync]
 *       Closed-loop echo: every connection sends one SIZE-byte message, reads the whole
 *       echo, then sends the next. All connections share one epoll loop on one thread,
 *       so the client side costs a few microseconds per round trip, and a connection's
 *       next message leaves as soon as that loop gets to its echo. The first fifth of
 *       SECONDS warms up and is not counted. Prints "TRIPS BYTES ELAPSED": complete round
 *       trips, bytes echoed back (one direction) and measured seconds. Bulk throughput is
 *       the same loop with large messages: BYTES / ELAPSED.
 *
 *   loadgen threads TARGET CONNECTIONS SIZE SECONDS [--sync]
 *       The same closed loop, messages and output, paced differently: one thread per
 *       connection with a blocking socket, each doing one send, then recv until the
 *       whole echo is back. Every connection sleeps in its own recv, and the kernel wakes
 *       its thread when its echo arrives: the way a simple client (or many independent
 *       clients) drives a server. Messages above 64 KiB are sent and received as poll
 *       allows instead (a blocking send of all of it could deadlock with a byte echo that
 *       blocks sending back, and a message server echoes nothing before it has it all).
 *
 *     --sync: print "start" when the measured part begins; after the result line, keep
 *       the connections open until a line or end of file arrives on standard input. The
 *       harness reads the server's counters at both points, while all its connection
 *       threads are alive.
 *
 *   loadgen hold TARGET COUNT
 *       Opens COUNT connections, completes one small echo on each (so every server has
 *       accepted and served it), prints "ready", and holds them open until a line or
 *       end of file arrives on standard input.
 *
 * TARGET is HOST:PORT with a numeric IPv4 host, [IPv6]:PORT, or unix:PATH.
 *
 * Every message is length-prefixed (4-byte big-endian body length, then the body), the
 * format of netbasics' LengthPrefixFramer, so a message-mode server decodes and
 * re-encodes exactly the bytes a byte-echo server returns.
 *
 * Exit status: 0 on success, 1 on an I/O failure, 2 on bad arguments; every failure
 * prints one line on standard error.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define CHUNK 65536
#define WINDOW 65536 /* threads mode: larger messages are sent and received as poll allows */

static void fail(int status, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("loadgen: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(status);
}

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static long parse_count(const char *text, const char *what, long low, long high) {
    char *end;
    errno = 0;
    long value = strtol(text, &end, 10);
    if (errno || end == text || *end || value < low || value > high)
        fail(2, "%s must be an integer from %ld to %ld, not '%s'", what, low, high, text);
    return value;
}

/* The resolved TARGET: one socket address, connected to again for every connection. */
struct target {
    struct sockaddr_storage addr;
    socklen_t len;
    int family;
};

static void parse_target(const char *text, struct target *t) {
    memset(t, 0, sizeof *t);
    if (strncmp(text, "unix:", 5) == 0) {
        struct sockaddr_un *sun = (struct sockaddr_un *)&t->addr;
        const char *path = text + 5;
        if (!*path || strlen(path) >= sizeof sun->sun_path) fail(2, "bad Unix socket path in '%s'", text);
        sun->sun_family = AF_UNIX;
        strcpy(sun->sun_path, path);
        t->len = sizeof *sun;
        t->family = AF_UNIX;
        return;
    }
    char host[256];
    const char *port;
    if (text[0] == '[') {
        const char *close = strchr(text, ']');
        if (!close || close[1] != ':' || (size_t)(close - text - 1) >= sizeof host)
            fail(2, "bad target '%s' (want [IPv6]:PORT)", text);
        snprintf(host, sizeof host, "%.*s", (int)(close - text - 1), text + 1);
        port = close + 2;
    } else {
        const char *colon = strrchr(text, ':');
        if (!colon || (size_t)(colon - text) >= sizeof host) fail(2, "bad target '%s' (want HOST:PORT or unix:PATH)", text);
        snprintf(host, sizeof host, "%.*s", (int)(colon - text), text);
        port = colon + 1;
    }
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV}, *ai;
    if (getaddrinfo(host, port, &hints, &ai)) fail(2, "bad target '%s' (numeric host and port only)", text);
    memcpy(&t->addr, ai->ai_addr, ai->ai_addrlen);
    t->len = ai->ai_addrlen;
    t->family = ai->ai_family;
    freeaddrinfo(ai);
}

/* A blocking, connected socket; TCP_NODELAY on TCP, since every message waits for its echo. */
static int open_conn(const struct target *t) {
    int fd = socket(t->family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) fail(1, "socket: %s", strerror(errno));
    if (connect(fd, (const struct sockaddr *)&t->addr, t->len)) fail(1, "connect: %s", strerror(errno));
    if (t->family != AF_UNIX) {
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    return fd;
}

/* Many connections need more descriptors than the usual soft limit of 1024. */
static void raise_fd_limit(long wanted) {
    struct rlimit r;
    if (getrlimit(RLIMIT_NOFILE, &r) == 0 && r.rlim_cur != RLIM_INFINITY && (rlim_t)wanted > r.rlim_cur) {
        r.rlim_cur = r.rlim_max;
        setrlimit(RLIMIT_NOFILE, &r);
    }
}

static char *message(size_t size) {
    char *msg = malloc(size);
    if (!msg) fail(1, "out of memory");
    memset(msg, 'x', size);
    size_t body = size - 4;
    msg[0] = (char)(body >> 24);
    msg[1] = (char)(body >> 16);
    msg[2] = (char)(body >> 8);
    msg[3] = (char)body;
    return msg;
}

struct conn {
    int fd;
    unsigned watching; /* the epoll events asked for, changed only when they must */
    size_t sent, rcvd;
};

static void watch(int ep, struct conn *c, int i, unsigned events) {
    if (events == c->watching) return;
    struct epoll_event ev = {.events = events, .data.u32 = (unsigned)i};
    epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
    c->watching = events;
}

/* Send what is left of the current message; watch for writability only while some is left. */
static void push(int ep, struct conn *c, int i, const char *msg, size_t size) {
    ssize_t r = send(c->fd, msg + c->sent, size - c->sent, MSG_NOSIGNAL);
    if (r < 0 && errno != EAGAIN) fail(1, "send: %s", strerror(errno));
    if (r > 0) c->sent += (size_t)r;
    watch(ep, c, i, c->sent < size ? EPOLLIN | EPOLLOUT : EPOLLIN);
}

/* --sync: the measured part begins. */
static void mark_start(int sync) {
    if (!sync) return;
    puts("start");
    fflush(stdout);
}

/* Print the result; with --sync, wait for the harness before the connections close. */
static void report(long long trips, size_t size, double elapsed, int sync) {
    if (elapsed < 0) elapsed = 0; /* stopped during the warm-up: nothing was counted */
    printf("%lld %lld %.6f\n", trips, trips * (long long)size, elapsed);
    fflush(stdout);
    if (!sync) return;
    int ch;
    while ((ch = getchar()) != EOF && ch != '\n') {
    }
}

static int echo(const struct target *t, long n, size_t size, double seconds, int sync) {
    raise_fd_limit(n + 16);
    char *msg = message(size), *sink = malloc(CHUNK);
    struct conn *c = calloc((size_t)n, sizeof *c);
    int ep = epoll_create1(EPOLL_CLOEXEC);
    if (!sink || !c || ep < 0) fail(1, "setup failed: %s", strerror(errno));
    for (int i = 0; i < n; i++) {
        c[i].fd = open_conn(t);
        fcntl(c[i].fd, F_SETFL, O_NONBLOCK);
        c[i].watching = EPOLLIN | EPOLLOUT;
        struct epoll_event ev = {.events = c[i].watching, .data.u32 = (unsigned)i};
        epoll_ctl(ep, EPOLL_CTL_ADD, c[i].fd, &ev);
    }
    double start = now() + seconds * 0.2, stop = start + seconds;
    long long trips = 0;
    int counting = 0;
    struct epoll_event evs[256];
    for (;;) {
        double t_now = now();
        if (!counting && t_now >= start) {
            counting = 1;
            trips = 0;
            mark_start(sync);
        }
        if (t_now >= stop) break;
        int k = epoll_wait(ep, evs, 256, 100);
        if (k < 0) {
            if (errno == EINTR) continue;
            fail(1, "epoll_wait: %s", strerror(errno));
        }
        for (int j = 0; j < k; j++) {
            int i = (int)evs[j].data.u32;
            struct conn *x = &c[i];
            if (evs[j].events & (EPOLLERR | EPOLLHUP)) fail(1, "connection %d failed (server closed or reset it)", i);
            if ((evs[j].events & EPOLLOUT) && x->sent < size) push(ep, x, i, msg, size);
            if (!(evs[j].events & EPOLLIN)) continue;
            for (;;) {
                size_t left = size - x->rcvd;
                ssize_t r = recv(x->fd, sink, left < CHUNK ? left : CHUNK, 0);
                if (r == 0) fail(1, "connection %d: server closed it", i);
                if (r < 0) {
                    if (errno == EAGAIN) break;
                    fail(1, "recv: %s", strerror(errno));
                }
                x->rcvd += (size_t)r;
                if (x->rcvd == size) {
                    /* Echo complete: send the next message at once, saving an epoll round. */
                    trips++;
                    x->rcvd = x->sent = 0;
                    push(ep, x, i, msg, size);
                    break;
                }
            }
        }
    }
    if (!counting) mark_start(sync); /* the harness waits for it */
    report(trips, size, now() - start, sync);
    for (int i = 0; i < n; i++) close(c[i].fd);
    return 0;
}

/* Threads mode: one blocking connection per thread; the main thread only keeps time. */
struct worker {
    int fd, index;
    pthread_t thread;
    const char *msg;
    size_t size;
    long long trips; /* written by its thread, read by the main thread (relaxed atomics) */
    char pad[64];    /* keep the workers' counters on separate cache lines */
};

static int stopping; /* set by the main thread when the run is over */

/* Fail on a send or recv error; EINTR is retried by the caller. */
static void check_io(ssize_t r, const struct worker *w, const char *what) {
    if (r == 0 && what[0] == 'r') fail(1, "connection %d: server closed it", w->index);
    if (r >= 0 || errno == EINTR) return;
    if (errno == EAGAIN || errno == EWOULDBLOCK) fail(1, "connection %d: no progress within 30 s", w->index);
    fail(1, "%s: %s", what, strerror(errno));
}

/* A message that fits the window: one blocking send, then blocking recvs until the echo is whole. */
static void small_trip(struct worker *w, char *sink) {
    size_t sent = 0, rcvd = 0;
    while (sent < w->size) {
        ssize_t r = send(w->fd, w->msg + sent, w->size - sent, MSG_NOSIGNAL);
        check_io(r, w, "send");
        if (r > 0) sent += (size_t)r;
    }
    while (rcvd < w->size) {
        size_t left = w->size - rcvd;
        ssize_t r = recv(w->fd, sink, left < CHUNK ? left : CHUNK, 0);
        check_io(r, w, "recv");
        if (r > 0) rcvd += (size_t)r;
    }
}

/* A larger message: send and receive as poll allows, since a message-mode server echoes
 * nothing before the whole message is in, and a byte echo blocks once nobody reads. */
static void large_trip(struct worker *w, char *sink) {
    size_t sent = 0, rcvd = 0;
    while (rcvd < w->size) {
        struct pollfd p = {.fd = w->fd, .events = POLLIN | (sent < w->size ? POLLOUT : 0)};
        int k = poll(&p, 1, 30000);
        if (k == 0) fail(1, "connection %d: no progress within 30 s", w->index);
        if (k < 0) {
            if (errno == EINTR) continue;
            fail(1, "poll: %s", strerror(errno));
        }
        if ((p.revents & POLLOUT) && sent < w->size) {
            ssize_t r = send(w->fd, w->msg + sent, w->size - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
            if (r > 0)
                sent += (size_t)r;
            else if (r < 0 && errno != EAGAIN)
                check_io(r, w, "send");
        }
        if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
            size_t left = w->size - rcvd;
            ssize_t r = recv(w->fd, sink, left < CHUNK ? left : CHUNK, MSG_DONTWAIT);
            if (r > 0)
                rcvd += (size_t)r;
            else if (r == 0 || errno != EAGAIN)
                check_io(r, w, "recv");
        }
    }
}

static void *worker_main(void *arg) {
    struct worker *w = arg;
    char *sink = malloc(CHUNK);
    if (!sink) fail(1, "out of memory");
    while (!__atomic_load_n(&stopping, __ATOMIC_RELAXED)) {
        if (w->size <= WINDOW)
            small_trip(w, sink);
        else
            large_trip(w, sink);
        __atomic_store_n(&w->trips, w->trips + 1, __ATOMIC_RELAXED);
    }
    free(sink);
    return NULL;
}

static long long total_trips(const struct worker *w, long n) {
    long long sum = 0;
    for (long i = 0; i < n; i++) sum += __atomic_load_n(&w[i].trips, __ATOMIC_RELAXED);
    return sum;
}

static void sleep_until(double when) {
    for (double left; (left = when - now()) > 0;) {
        struct timespec t = {.tv_sec = (time_t)left, .tv_nsec = (long)((left - (double)(time_t)left) * 1e9)};
        nanosleep(&t, NULL);
    }
}

static int echo_threads(const struct target *t, long n, size_t size, double seconds, int sync) {
    raise_fd_limit(n + 16);
    char *msg = message(size);
    struct worker *w = calloc((size_t)n, sizeof *w);
    if (!w) fail(1, "out of memory");
    struct timeval limit = {.tv_sec = 30};
    for (long i = 0; i < n; i++) {
        w[i].fd = open_conn(t);
        setsockopt(w[i].fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
        setsockopt(w[i].fd, SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof limit);
        w[i].index = (int)i;
        w[i].msg = msg;
        w[i].size = size;
    }
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 256 * 1024);
    for (long i = 0; i < n; i++) {
        int err = pthread_create(&w[i].thread, &attr, worker_main, &w[i]);
        if (err) fail(1, "pthread_create: %s", strerror(err));
    }
    sleep_until(now() + seconds * 0.2);
    double start = now();
    long long first = total_trips(w, n);
    mark_start(sync);
    sleep_until(start + seconds);
    long long trips = total_trips(w, n) - first;
    double elapsed = now() - start;
    __atomic_store_n(&stopping, 1, __ATOMIC_RELAXED);
    for (long i = 0; i < n; i++) pthread_join(w[i].thread, NULL); /* each ends after its round trip */
    report(trips, size, elapsed, sync);
    for (long i = 0; i < n; i++) close(w[i].fd);
    return 0;
}

static void exactly(int fd, char *buf, size_t len, int writing) {
    size_t done = 0;
    while (done < len) {
        ssize_t r = writing ? send(fd, buf + done, len - done, MSG_NOSIGNAL) : recv(fd, buf + done, len - done, 0);
        if (r > 0) {
            done += (size_t)r;
        } else if (r < 0 && errno == EINTR) {
            continue;
        } else if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            fail(1, "no echo within 30 s (is the server's connection limit below the count?)");
        } else {
            fail(1, "%s: %s", writing ? "send" : "recv", r == 0 ? "server closed the connection" : strerror(errno));
        }
    }
}

static int hold(const struct target *t, long n) {
    raise_fd_limit(n + 16);
    int *fds = calloc((size_t)n > 0 ? (size_t)n : 1, sizeof *fds);
    if (!fds) fail(1, "out of memory");
    struct timeval limit = {.tv_sec = 30};
    for (long i = 0; i < n; i++) {
        fds[i] = open_conn(t);
        setsockopt(fds[i], SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
    }
    /* Send all first, then read all: the servers accept and answer in parallel. */
    char *msg = message(5), echoed[5];
    for (long i = 0; i < n; i++) exactly(fds[i], msg, 5, 1);
    for (long i = 0; i < n; i++) exactly(fds[i], echoed, 5, 0);
    puts("ready");
    fflush(stdout);
    int ch;
    while ((ch = getchar()) != EOF && ch != '\n') {
    }
    for (long i = 0; i < n; i++) close(fds[i]);
    return 0;
}

int main(int argc, char **argv) {
    struct target t;
    int echoing = argc >= 2 && (strcmp(argv[1], "echo") == 0 || strcmp(argv[1], "threads") == 0);
    int sync = argc == 7 && strcmp(argv[6], "--sync") == 0;
    if (echoing && (argc == 6 || sync)) {
        parse_target(argv[2], &t);
        long n = parse_count(argv[3], "CONNECTIONS", 1, 1000000);
        long size = parse_count(argv[4], "SIZE", 4, 1L << 30);
        char *end;
        double seconds = strtod(argv[5], &end);
        if (end == argv[5] || *end || !(seconds > 0 && seconds < 1e6)) fail(2, "SECONDS must be positive, not '%s'", argv[5]);
        if (argv[1][0] == 't') return echo_threads(&t, n, (size_t)size, seconds, sync);
        return echo(&t, n, (size_t)size, seconds, sync);
    }
    if (argc == 4 && strcmp(argv[1], "hold") == 0) {
        parse_target(argv[2], &t);
        return hold(&t, parse_count(argv[3], "COUNT", 0, 1000000));
    }
    fail(2, "usage: loadgen echo|threads TARGET CONNECTIONS SIZE SECONDS [--sync] | loadgen hold TARGET COUNT");
    return 2;
}
