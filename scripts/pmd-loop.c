/*
 * The least a forwarding program can do: receive a burst on port 0, send it
 * on port 1, free what the port refused. scripts/bench-forward.sh runs it
 * beside l2fwd and sl-forward so that what each program adds per packet can
 * be told from what the poll-mode drivers themselves cost.
 *
 *   pmd-loop EAL-ARGS -- SECONDS [GATHER]
 *
 * With GATHER (32 to 256, default 32), port 0 is read on while it fills
 * bursts of 32, up to GATHER packets, and those are sent in one call, as
 * sl-forward's --gather does: the drivers' cost at the same call sizes.
 *
 * Prints one line: "<Mpps received on port 0> <TSC Hz>".
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>

#define BURST 32
#define MAX_GATHER 256
#define RING_SIZE 1024

static int setup_port(uint16_t port, struct rte_mempool* pool) {
    struct rte_eth_conf conf = {0};
    if (rte_eth_dev_configure(port, 1, 1, &conf) < 0) return -1;
    if (rte_eth_rx_queue_setup(port, 0, RING_SIZE, rte_eth_dev_socket_id(port), NULL, pool) < 0) return -1;
    if (rte_eth_tx_queue_setup(port, 0, RING_SIZE, rte_eth_dev_socket_id(port), NULL) < 0) return -1;
    return rte_eth_dev_start(port);
}

int main(int argc, char** argv) {
    int used = rte_eal_init(argc, argv);
    if (used < 0) {
        fprintf(stderr, "pmd-loop: EAL initialisation failed\n");
        return 1;
    }
    argc -= used;
    argv += used;
    double seconds = argc > 1 ? atof(argv[1]) : 3;
    int gather = argc > 2 ? atoi(argv[2]) : BURST;
    if (gather < BURST || gather > MAX_GATHER) {
        fprintf(stderr, "pmd-loop: GATHER is %d to %d\n", BURST, MAX_GATHER);
        return 1;
    }
    if (rte_eth_dev_count_avail() < 2) {
        fprintf(stderr, "pmd-loop: needs two ports\n");
        return 1;
    }
    struct rte_mempool* pool =
        rte_pktmbuf_pool_create("pmd_loop", 16383, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE, (int)rte_socket_id());
    if (!pool || setup_port(0, pool) < 0 || setup_port(1, pool) < 0) {
        fprintf(stderr, "pmd-loop: port set-up failed\n");
        return 1;
    }
    struct rte_mbuf* bufs[MAX_GATHER];
    uint64_t received = 0;
    uint64_t hz = rte_get_tsc_hz();
    uint64_t start = rte_rdtsc();
    uint64_t end = start + (uint64_t)(seconds * (double)hz);
    uint64_t now = start;
    for (unsigned loops = 0; now < end; loops++) {
        uint16_t n = 0;
        for (uint16_t got = BURST; got == BURST && n + BURST <= gather; n += got)
            got = rte_eth_rx_burst(0, 0, bufs + n, BURST);
        received += n;
        uint16_t sent = rte_eth_tx_burst(1, 0, bufs, n);
        for (uint16_t i = sent; i < n; i++) rte_pktmbuf_free(bufs[i]);
        if ((loops & 1023) == 0) now = rte_rdtsc();
    }
    double elapsed = (double)(rte_rdtsc() - start) / (double)hz;
    printf("%.4f %lu\n", (double)received / elapsed / 1e6, (unsigned long)hz);
    rte_eth_dev_stop(0);
    rte_eth_dev_stop(1);
    rte_eal_cleanup();
    return 0;
}
