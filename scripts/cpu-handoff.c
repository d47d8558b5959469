/*
 * What this machine charges for handing capture bytes from the CPU that read
 * them to the CPU that owns their flow: the floor under sl-replay --workers.
 * scripts/bench-workers.sh runs it on the same capture as the workers.
 *
 *   cpu-handoff FILE [RUNS]
 *
 * Four ways through FILE in 512 KiB chunks, each the best of RUNS (default 3):
 *   one     one thread reads every chunk (pread) and touches every line;
 *   two     two threads on two CPUs take turns reading chunks, and each
 *           touches the lines of its half of the records (here: alternate
 *           512-byte blocks), half of them read by the other CPU: what
 *           sl-replay's two workers do before any filter runs;
 *   split   the same reads by turns without touching: the reading alone;
 *   both    each thread reads every chunk into buffers of its own and
 *           touches its half: no handing over, twice the reading.
 * Prints the seconds of each and one/two: the most two workers can gain on
 * a graph that does nothing but read its records once.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define CHUNK (512u << 10)
#define BUFFERS 32 /* as io/capture_reader.hpp */
#define BLOCK 512

enum mode { ONE, TWO, SPLIT, BOTH };

static int fd;
static size_t file_size, chunks;
static enum mode mode;
static uint8_t* buffers[BUFFERS];
static uint8_t* own_buffers[2];
static _Atomic size_t ready[BUFFERS];  /* chunk number + 1 read into the buffer */
static _Atomic int finished[BUFFERS];  /* threads done with the buffer's chunk */
static volatile uint64_t sink;

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static size_t read_chunk(size_t k, uint8_t* into) {
    size_t got = 0, want = k + 1 == chunks ? file_size - k * CHUNK : CHUNK;
    while (got < want) {
        ssize_t n = pread(fd, into + got, want - got, (off_t)(k * CHUNK + got));
        if (n <= 0) break;
        got += (size_t)n;
    }
    return got;
}

static void pin(int cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    pthread_setaffinity_np(pthread_self(), sizeof set, &set);
}

static void* worker(void* arg) {
    int me = (int)(intptr_t)arg;
    pin(me);
    uint64_t sum = 0;
    if (mode == BOTH) {
        uint8_t* own = own_buffers[me];
        for (size_t k = 0; k < chunks; k++) {
            size_t bytes = read_chunk(k, own + (k % BUFFERS) * CHUNK);
            for (size_t at = (size_t)me * BLOCK; at + BLOCK <= bytes; at += 2 * BLOCK)
                for (size_t line = 0; line < BLOCK; line += 64) sum += own[(k % BUFFERS) * CHUNK + at + line];
        }
        sink += sum;
        return NULL;
    }
    for (size_t k = 0; k < chunks; k++) {
        int b = (int)(k % BUFFERS);
        if ((int)(k % 2) == me) {
            /* The buffer is free once both threads are through its last chunk. */
            while (mode == TWO && k >= BUFFERS && atomic_load(&finished[b]) < 2) sched_yield();
            atomic_store(&finished[b], 0);
            read_chunk(k, buffers[b]);
            atomic_store(&ready[b], k + 1);
        }
        if (mode == SPLIT) continue;
        while (atomic_load(&ready[b]) != k + 1) sched_yield();
        size_t bytes = k + 1 == chunks ? file_size - k * CHUNK : CHUNK;
        for (size_t at = (size_t)me * BLOCK; at + BLOCK <= bytes; at += 2 * BLOCK)
            for (size_t line = 0; line < BLOCK; line += 64) sum += buffers[b][at + line];
        atomic_fetch_add(&finished[b], 1);
    }
    sink += sum;
    return NULL;
}

static double once(enum mode m) {
    mode = m;
    for (int b = 0; b < BUFFERS; b++) {
        atomic_store(&ready[b], 0);
        atomic_store(&finished[b], 0);
    }
    double start = now();
    if (m == ONE) {
        pin(0);
        uint64_t sum = 0;
        for (size_t k = 0; k < chunks; k++) {
            uint8_t* b = buffers[k % BUFFERS];
            size_t n = read_chunk(k, b);
            for (size_t at = 0; at < n; at += 64) sum += b[at];
        }
        sink += sum;
    } else {
        pthread_t threads[2];
        for (intptr_t t = 0; t < 2; t++) pthread_create(&threads[t], NULL, worker, (void*)t);
        for (int t = 0; t < 2; t++) pthread_join(threads[t], NULL);
    }
    return now() - start;
}

int main(int argc, char** argv) {
    if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
        fprintf(stderr, "usage: cpu-handoff FILE [RUNS]\n");
        return argc < 2;
    }
    int runs = argc > 2 ? atoi(argv[2]) : 3;
    struct stat st;
    fd = open(argv[1], O_RDONLY);
    if (fd < 0 || fstat(fd, &st) != 0 || st.st_size == 0) {
        perror(argv[1]);
        return 1;
    }
    if (sysconf(_SC_NPROCESSORS_ONLN) < 2) {
        fprintf(stderr, "cpu-handoff: needs two CPUs\n");
        return 1;
    }
    file_size = (size_t)st.st_size;
    chunks = (file_size + CHUNK - 1) / CHUNK;
    for (int b = 0; b < BUFFERS; b++) {
        buffers[b] = aligned_alloc(4096, CHUNK);
        if (!buffers[b]) return 1;
        memset(buffers[b], 0, CHUNK);
    }
    for (int t = 0; t < 2; t++) {
        own_buffers[t] = aligned_alloc(4096, (size_t)BUFFERS * CHUNK);
        if (!own_buffers[t]) return 1;
        memset(own_buffers[t], 0, (size_t)BUFFERS * CHUNK);
    }
    double best[4] = {1e9, 1e9, 1e9, 1e9};
    for (int r = 0; r < runs; r++)
        for (int m = ONE; m <= BOTH; m++) {
            double s = once((enum mode)m);
            if (s < best[m]) best[m] = s;
        }
    printf("one %.3f two %.3f split %.3f both %.3f ratio %.2f\n", best[ONE], best[TWO], best[SPLIT], best[BOTH],
           best[ONE] / best[TWO]);
    return 0;
}
