/*
 * zmqpeer: the ZeroMQ epgm (OpenPGM, NAK-based reliable multicast) peer that issue #20's multicast is measured
 * against. Built by benchmarks/multicast/epgm.sh:  cc -O2 -o zmqpeer zmqpeer.c -lzmq
 *
 *   zmqpeer pub  --endpoint EP --count N [--size 70] [--rate KBIT] [--recovery-ms MS] [--linger-ms MS] [--buf B]
 *   zmqpeer sub  --endpoint EP --count N [--size 70] [--rate KBIT] [--recovery-ms MS] [--timeout S]
 *   zmqpeer ping --endpoint EP --back EP2 --count N [--size 70] [--rate KBIT]   (RTT p50/p99/p99.9)
 *   zmqpeer pong --endpoint EP --back EP2 --count N [--size 70] [--rate KBIT]
 *
 * EP is "epgm://<interface>;<group>:<port>". Each message is an 8-byte little-endian sequence number followed
 * by bytes derived from it, so the subscriber checks content without a copy of the stream. The last line printed
 * is JSON in the shape `kcpkestrel multicast pub|sub` prints, plus cpu_s (user + system, all of the process's
 * threads: ZeroMQ's I/O thread and OpenPGM's timers included), so the two can be compared side by side.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

typedef struct {
    const char *mode, *endpoint, *back;
    long count, size, rate_kbit, recovery_ms, linger_ms, timeout_s, buf;
} options;

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static double cpu_s(void) {
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return (double)(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + (double)(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

static void die(const char *what) {
    fprintf(stderr, "zmqpeer: %s: %s\n", what, zmq_strerror(zmq_errno()));
    exit(2);
}

/* The payload byte at offset i of message seq: cheap, and differs between neighbouring messages and offsets. */
static uint8_t payload_byte(uint64_t seq, long i) { return (uint8_t)(seq * 31u + (uint64_t)i * 7u + (seq >> 8)); }

static void fill(uint8_t *buf, long size, uint64_t seq) {
    for (int i = 0; i < 8 && i < size; i++) buf[i] = (uint8_t)(seq >> (8 * i));
    for (long i = 8; i < size; i++) buf[i] = payload_byte(seq, i);
}

/* Returns the sequence number, or UINT64_MAX when the length or content does not match it. */
static uint64_t check(const uint8_t *buf, long len, long size) {
    if (len != size || len < 8) return UINT64_MAX;
    uint64_t seq = 0;
    for (int i = 0; i < 8; i++) seq |= (uint64_t)buf[i] << (8 * i);
    for (long i = 8; i < len; i++)
        if (buf[i] != payload_byte(seq, i)) return UINT64_MAX;
    return seq;
}

/* ZMQ_RATE is in kbit/s and defaults to 100 (a crawl); ZMQ_RECOVERY_IVL is how long, in ms, the publisher keeps
 * data for repair (the history window) and defaults to 10 s. */
static void *open_socket(void *ctx, int type, const options *o, const char *endpoint) {
    void *s = zmq_socket(ctx, type);
    if (!s) die("zmq_socket");
    int rate = (int)o->rate_kbit, recovery = (int)o->recovery_ms, hwm = 0, linger = (int)o->linger_ms;
    if (zmq_setsockopt(s, ZMQ_RATE, &rate, sizeof rate)) die("ZMQ_RATE");
    if (zmq_setsockopt(s, ZMQ_RECOVERY_IVL, &recovery, sizeof recovery)) die("ZMQ_RECOVERY_IVL");
    /* No high-water mark: a publisher must not drop messages locally, only the network may lose them. */
    if (zmq_setsockopt(s, type == ZMQ_PUB ? ZMQ_SNDHWM : ZMQ_RCVHWM, &hwm, sizeof hwm)) die("HWM");
    if (zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof linger)) die("ZMQ_LINGER");
    /* OpenPGM's socket buffers (capped by net.core.rmem_max/wmem_max): the default 208 KiB overflows at a burst */
    int buf = (int)o->buf;
    if (buf > 0 && zmq_setsockopt(s, type == ZMQ_PUB ? ZMQ_SNDBUF : ZMQ_RCVBUF, &buf, sizeof buf)) die("buffer size");
    if (type == ZMQ_SUB && zmq_setsockopt(s, ZMQ_SUBSCRIBE, "", 0)) die("ZMQ_SUBSCRIBE");
    if (zmq_connect(s, endpoint)) die(endpoint);
    return s;
}

static int run_pub(void *ctx, const options *o) {
    void *s = open_socket(ctx, ZMQ_PUB, o, o->endpoint);
    uint8_t *buf = malloc((size_t)o->size);
    usleep(200 * 1000); /* lets the PGM transport come up before the first message */
    double t0 = now_s(), c0 = cpu_s();
    for (long seq = 0; seq < o->count; seq++) {
        fill(buf, o->size, (uint64_t)seq);
        while (zmq_send(s, buf, (size_t)o->size, 0) < 0)
            if (zmq_errno() != EINTR) die("zmq_send");
    }
    /* zmq_send only queues; zmq_close with ZMQ_LINGER -1 would wait for the queue to reach the wire, but closing
     * also ends repair service, so the elapsed time is taken when the last message is queued and the socket stays
     * open linger_ms longer to answer NAKs. With HWM 0 that queue is unbounded: sub's msg_per_s is the figure that
     * counts; pub's is how fast ZeroMQ takes messages. */
    double t1 = now_s(), c1 = cpu_s();
    usleep((useconds_t)(o->linger_ms * 1000));
    zmq_close(s);
    double secs = t1 - t0;
    printf("{\"messages\":%ld,\"bytes\":%ld,\"seconds\":%.6f,\"msg_per_s\":%.0f,\"retransmits\":null,\"naks_served\":null,"
           "\"cpu_s\":%.3f,\"cpu_s_total\":%.3f}\n",
           o->count, o->count * o->size, secs, (double)o->count / secs, c1 - c0, cpu_s());
    free(buf);
    return 0;
}

static int run_sub(void *ctx, const options *o) {
    void *s = open_socket(ctx, ZMQ_SUB, o, o->endpoint);
    int timeout_ms = 1000;
    zmq_setsockopt(s, ZMQ_RCVTIMEO, &timeout_ms, sizeof timeout_ms);
    uint8_t *buf = malloc((size_t)o->size + 64);
    long received = 0, in_order = 0, duplicates = 0, unrecovered = 0, bad = 0;
    uint64_t next = 0, last = 0;
    double t0 = 0, t1 = 0, c0 = cpu_s(), deadline = now_s() + (double)o->timeout_s, idle_since = 0;
    int started = 0;
    while (now_s() < deadline) {
        int n = zmq_recv(s, buf, (size_t)o->size + 64, 0);
        if (n < 0) {
            if (zmq_errno() == EAGAIN) {
                /* once traffic has started, 3 s of silence means the stream ended early (lost tail) */
                if (started && now_s() - idle_since > 3.0) break;
                continue;
            }
            if (zmq_errno() == EINTR) continue;
            die("zmq_recv");
        }
        double t = now_s();
        if (!started) { started = 1; t0 = t; c0 = cpu_s(); }
        idle_since = t;
        t1 = t;
        received++;
        uint64_t seq = check(buf, n, o->size);
        if (seq == UINT64_MAX) { bad++; continue; }
        if (seq == next) in_order++;
        else if (seq > next) unrecovered += (long)(seq - next); /* a gap ZeroMQ gave up on (data loss resets the session) */
        else { duplicates++; continue; }
        next = seq + 1;
        last = seq;
        if (last + 1 >= (uint64_t)o->count) break;
    }
    double c1 = cpu_s();
    /* messages never seen at the tail count as unrecovered too */
    if (started && next < (uint64_t)o->count) unrecovered += (long)((uint64_t)o->count - next);
    if (!started) unrecovered = o->count;
    double secs = t1 > t0 ? t1 - t0 : 0;
    printf("{\"received\":%ld,\"in_order\":%ld,\"duplicates\":%ld,\"unrecovered\":%ld,\"checksum_ok\":%s,"
           "\"msg_per_s\":%.0f,\"naks_sent\":null,\"seconds\":%.6f,\"cpu_s\":%.3f}\n",
           received, in_order, duplicates, unrecovered, bad == 0 && received > 0 ? "true" : "false",
           secs > 0 ? (double)received / secs : 0.0, secs, c1 - c0);
    int linger = 0;
    zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof linger);
    zmq_close(s);
    free(buf);
    return bad == 0 && unrecovered == 0 && in_order == o->count ? 0 : 1;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* ping sends on endpoint and waits for the echo on back; pong echoes endpoint onto back. One message in flight. */
static int run_pingpong_on(void *out, void *in, const options *o, int ping);

static int run_pingpong(void *ctx, const options *o, int ping) {
    void *out = open_socket(ctx, ZMQ_PUB, o, ping ? o->endpoint : o->back);
    void *in = open_socket(ctx, ZMQ_SUB, o, ping ? o->back : o->endpoint);
    int rc = run_pingpong_on(out, in, o, ping), linger = 0;
    /* zmq_ctx_term waits for every socket to be closed */
    zmq_setsockopt(out, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(in, ZMQ_LINGER, &linger, sizeof linger);
    zmq_close(out);
    zmq_close(in);
    return rc;
}

static int run_pingpong_on(void *out, void *in, const options *o, int ping) {
    int timeout_ms = 200;
    zmq_setsockopt(in, ZMQ_RCVTIMEO, &timeout_ms, sizeof timeout_ms);
    uint8_t *buf = malloc((size_t)o->size + 64);
    double deadline = now_s() + (double)o->timeout_s;
    if (!ping) {
        long echoed = 0;
        int last = 0;
        /* echoes the warm-up probes too, so it stops at the last sequence number, not at a count */
        while (!last && now_s() < deadline) {
            int n = zmq_recv(in, buf, (size_t)o->size + 64, 0);
            if (n < 0) continue;
            last = check(buf, n, o->size) == (uint64_t)o->count - 1;
            zmq_send(out, buf, (size_t)n, 0);
            echoed++;
        }
        usleep(200 * 1000); /* the last echo must leave before the socket closes */
        printf("{\"echoed\":%ld}\n", echoed);
        return last ? 0 : 1;
    }
    /* warm-up: PGM drops what arrives before the receiver has seen the stream's start, so repeat the first probe
     * until an echo comes back */
    long warm = 0;
    for (;; warm++) {
        if (now_s() > deadline) { fprintf(stderr, "zmqpeer: no echo\n"); return 1; }
        fill(buf, o->size, UINT64_MAX - 1);
        zmq_send(out, buf, (size_t)o->size, 0);
        int n = zmq_recv(in, buf, (size_t)o->size + 64, 0);
        if (n > 0) break;
    }
    double *rtt = malloc(sizeof(double) * (size_t)o->count);
    long done = 0, lost = 0;
    timeout_ms = 1000;
    zmq_setsockopt(in, ZMQ_RCVTIMEO, &timeout_ms, sizeof timeout_ms);
    double c0 = cpu_s();
    for (long seq = 0; seq < o->count && now_s() < deadline; seq++) {
        fill(buf, o->size, (uint64_t)seq);
        double t = now_s();
        zmq_send(out, buf, (size_t)o->size, 0);
        for (;;) {
            int n = zmq_recv(in, buf, (size_t)o->size + 64, 0);
            if (n < 0) { lost++; break; }
            if (check(buf, n, o->size) == (uint64_t)seq) { rtt[done++] = (now_s() - t) * 1e6; break; }
        }
    }
    qsort(rtt, (size_t)done, sizeof(double), cmp_double);
    double sum = 0;
    for (long i = 0; i < done; i++) sum += rtt[i];
#define PCT(p) (done ? rtt[(long)((double)(done - 1) * (p))] : 0.0)
    printf("{\"round_trips\":%ld,\"lost\":%ld,\"warmup\":%ld,\"rtt_mean_us\":%.1f,\"rtt_p50_us\":%.1f,\"rtt_p99_us\":%.1f,"
           "\"rtt_p999_us\":%.1f,\"rtt_max_us\":%.1f,\"cpu_s\":%.3f}\n",
           done, lost, warm, done ? sum / (double)done : 0.0, PCT(0.5), PCT(0.99), PCT(0.999), PCT(1.0), cpu_s() - c0);
    return lost == 0 ? 0 : 1;
}

static void usage(void) {
    fprintf(stderr, "usage: zmqpeer pub|sub|ping|pong --endpoint epgm://IF;GROUP:PORT [--back EP] --count N [--size 70]\n"
                    "       [--rate KBIT/S] [--recovery-ms MS] [--linger-ms MS] [--timeout S] [--buf BYTES]\n");
    exit(2);
}

int main(int argc, char **argv) {
    options o = {.count = 100000, .size = 70, .rate_kbit = 1000000, .recovery_ms = 2000, .linger_ms = 2000, .timeout_s = 60, .buf = 4 << 20};
    if (argc < 2) usage();
    o.mode = argv[1];
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v) usage();
        if (!strcmp(a, "--endpoint")) o.endpoint = v;
        else if (!strcmp(a, "--back")) o.back = v;
        else if (!strcmp(a, "--count")) o.count = atol(v);
        else if (!strcmp(a, "--size")) o.size = atol(v);
        else if (!strcmp(a, "--rate")) o.rate_kbit = atol(v);
        else if (!strcmp(a, "--recovery-ms")) o.recovery_ms = atol(v);
        else if (!strcmp(a, "--linger-ms")) o.linger_ms = atol(v);
        else if (!strcmp(a, "--timeout")) o.timeout_s = atol(v);
        else if (!strcmp(a, "--buf")) o.buf = atol(v);
        else usage();
        i++;
    }
    if (!o.endpoint || o.count <= 0 || o.size < 8) usage();
    /* libzmq 4.3 turns ZMQ_RATE into bytes/s as int (rate * 1000 / 8): above this it overflows */
    if (o.rate_kbit <= 0 || o.rate_kbit > 2147483) { fprintf(stderr, "zmqpeer: --rate must be 1..2147483 kbit/s\n"); return 2; }
    if (!zmq_has("pgm")) { fprintf(stderr, "zmqpeer: this libzmq is built without PGM\n"); return 2; }
    void *ctx = zmq_ctx_new();
    int rc;
    if (!strcmp(o.mode, "pub")) rc = run_pub(ctx, &o);
    else if (!strcmp(o.mode, "sub")) rc = run_sub(ctx, &o);
    else if (!strcmp(o.mode, "ping") || !strcmp(o.mode, "pong")) {
        if (!o.back) usage();
        rc = run_pingpong(ctx, &o, !strcmp(o.mode, "ping"));
    } else usage();
    fflush(stdout);
    zmq_ctx_term(ctx);
    return rc;
}
