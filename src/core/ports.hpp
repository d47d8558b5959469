// The DPDK ports a run forwards between: set up from what each device says it
// can do, started, and stopped and closed at the end.
//
// Queues: every port gets `rx_queues` receive queues (spread by RSS when there
// are several) and one transmit queue per worker (worker w owns queue w), so
// that workers never share one. Each port's receive queues are spread over
// the workers.
//
// Mempools: one per NUMA socket that has ports, sized by mbufs_needed().
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <rte_ethdev.h>
#include <rte_mempool.h>

#include "core/run_report.hpp"

namespace sl::core {

// Twice DPDK's usual burst: under load a walk and a transmit call cover two
// receive calls. Larger walks cost the poll-mode drivers' own loops more than
// they save (net_null's receive loop slows by 7% at 64 against 32 already),
// while a device whose transmit call is dear (net_pcap flushes a file per
// call) gains 5 to 10% up to 64, and little beyond.
inline constexpr uint16_t kDefaultGather = 64;

struct PortOptions {
    unsigned workers = 1;
    uint32_t kept_per_worker = 0;  // mbufs each worker's filters may keep past a walk
    // RSS on IP addresses alone (a filter joins fragments): a datagram's
    // pieces and its flow's other packets reach one queue.
    bool rss_by_addresses = false;
    uint16_t rx_queues = 1;       // per port
    uint16_t tx_queues = 0;       // per port; 0: one per worker (never fewer)
    uint16_t rx_descriptors = 1024;
    uint16_t tx_descriptors = 1024;
    uint16_t burst = 32;          // packets per rx_burst call
    uint16_t gather = 0;          // packets one graph walk reads from a queue that keeps
                                  // filling bursts; 0: kDefaultGather, at least a burst
    uint16_t mtu = 0;             // 0: leave the device's
    bool promiscuous = false;
    unsigned mbufs = 0;           // 0: mbufs_needed(); else exactly this many per socket
    unsigned link_wait_ms = 3000; // how long to wait for every link to come up
};

// A receive queue and the worker that polls it.
struct RxQueue {
    uint16_t port;
    uint16_t queue;
    unsigned worker;
};

struct PortStats {
    uint16_t port;
    std::string name;
    uint64_t rx_packets, tx_packets, rx_bytes, tx_bytes, rx_missed, rx_nombuf, tx_errors;
};

// The mbufs a socket's pool must hold so that no queue ever starves:
//
//   the descriptors of every ring of the socket's ports
//     (ports x (rx queues x rx descriptors + tx queues x tx descriptors),
//     as the devices adjusted them): every descriptor can own an mbuf at once;
// + workers x (RTE_GRAPH_BURST_SIZE + 1.5 x cache)
//     a burst inside each worker's graph, and what each lcore's mempool
//     cache may keep (it flushes above 1.5 times its size);
// + what each worker's filters keep past a walk (defrag's fragments,
//     reassemble's held mbufs), unless --mbufs says otherwise;
//
// rounded up to 2^n - 1, the size the ring under the pool uses best.
// Forgetting the transmit rings or the caches is the usual DPDK sizing
// mistake: the pool then runs dry under load and receive queues stall.
unsigned mbufs_needed(uint64_t ring_descriptors, unsigned workers, uint32_t kept = 0);

class Ports {
public:
    // Configures and starts every port the EAL found, and waits for links.
    // Throws sl::RuntimeError naming the port and what it cannot do.
    explicit Ports(const PortOptions& options);
    ~Ports();
    Ports(const Ports&) = delete;
    Ports& operator=(const Ports&) = delete;

    const std::vector<RxQueue>& rx_queues() const noexcept { return rx_queues_; }
    std::vector<PortStats> stats() const;
    // Every pool (packets, and headers where queues split them), for the
    // leak check at the end.
    std::vector<rte_mempool*> pools() const;
    // Stops every port, then closes them: the rings give back their mbufs,
    // so that the pools can be checked for leaks before they are freed.
    void stop() noexcept;
    void close() noexcept;

private:
    // What configure() decided for a port, for start().
    struct Setup {
        uint16_t port = 0;
        uint16_t rxq = 0, txq = 0, rxd = 0, txd = 0;
        int socket = 0;
        bool split = false;  // headers and payloads in two pools (RTE_ETH_RX_OFFLOAD_BUFFER_SPLIT)
        rte_eth_rxconf rxconf{};
        rte_eth_txconf txconf{};
    };
    Setup configure(uint16_t port);
    void start(const Setup& setup);

    PortOptions options_;
    std::vector<uint16_t> ids_;
    std::vector<RxQueue> rx_queues_;
    std::map<int, rte_mempool*> pools_;  // by socket
    std::map<int, rte_mempool*> header_pools_;  // by socket, when a port there splits
    std::vector<uint16_t> configured_;  // closed at the end, started or not
    std::vector<uint16_t> started_;
    bool stopped_ = false;
    bool closed_ = false;
};

// Ends a run's use of the ports: adds their counters to `report` (tx_dropped
// counts the graph's tx_full drops on that port and the device's errors),
// closes them so that their rings give back every mbuf, and adds their pools.
// Returns how many mbufs are still out, which must be 0.
unsigned close_and_report(Ports& ports, RunReport& report);

}  // namespace sl::core
