#include "core/ports.hpp"

#include <unistd.h>

#include <algorithm>

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_graph.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>

#include <sl/error.hpp>

namespace sl::core {
namespace {

constexpr unsigned kPoolCache = 256;
// Where split receive queues cut packets: past every header the parser reads
// (Ethernet 14, two VLAN tags 8, IPv6 40, TCP with options 60).
constexpr uint16_t kSplitHeaderBytes = 128;

std::string port_name(uint16_t port) {
    char name[RTE_ETH_NAME_MAX_LEN] = {};
    if (rte_eth_dev_get_name_by_port(port, name) != 0) return fmt::format("port {}", port);
    return name;
}

int port_socket(uint16_t port) {
    int socket = rte_eth_dev_socket_id(port);
    return socket < 0 ? static_cast<int>(rte_socket_id()) : socket;
}

[[noreturn]] void fail(uint16_t port, const std::string& what, int rc) {
    throw RuntimeError(fmt::format("port {} ({}): {}: {}", port, port_name(port), what, rte_strerror(-rc)));
}

}  // namespace

unsigned close_and_report(Ports& ports, RunReport& report) {
    std::map<uint16_t, uint64_t> tx_full;
    for (const auto& n : report.graph.nodes) {
        if (n.filter != "tx") continue;
        auto port = std::find_if(n.info.begin(), n.info.end(), [](const auto& c) { return c.first == "port"; });
        auto full = n.drops.find("tx_full");
        if (port != n.info.end() && full != n.drops.end())
            tx_full[static_cast<uint16_t>(port->second)] += full->second;
    }
    for (const auto& s : ports.stats())
        report.ports.push_back({.port = s.port,
                                .name = s.name,
                                .rx_packets = s.rx_packets,
                                .tx_packets = s.tx_packets,
                                .tx_dropped = s.tx_errors + tx_full[s.port],
                                .rx_missed = s.rx_missed,
                                .rx_no_mbuf = s.rx_nombuf});
    ports.close();
    unsigned out = 0;
    for (rte_mempool* pool : ports.pools()) {
        unsigned in_use = rte_mempool_in_use_count(pool);
        report.pools.push_back({pool->name, pool->size, in_use});
        out += in_use;
    }
    return out;
}

unsigned mbufs_needed(uint64_t ring_descriptors, unsigned workers, uint32_t kept) {
    uint64_t n = ring_descriptors + uint64_t{workers} * (RTE_GRAPH_BURST_SIZE + kPoolCache * 3 / 2 + kept);
    uint64_t size = 1;
    while (size - 1 < n) size <<= 1;
    return static_cast<unsigned>(std::min<uint64_t>(size - 1, UINT32_MAX));
}

Ports::Ports(const PortOptions& options) : options_(options) {
    uint16_t port;
    RTE_ETH_FOREACH_DEV(port) ids_.push_back(port);
    if (ids_.empty()) return;
    for (size_t i = 0; i < ids_.size(); i++)
        if (ids_[i] != i)
            throw RuntimeError(fmt::format("ports are numbered {}..., not from 0; rx N and tx N could not name them",
                                           ids_[0]));

    // Configure first: the devices may adjust the descriptor counts, and the
    // pools must cover the rings as they really are.
    std::vector<Setup> setups;
    for (uint16_t p : ids_) setups.push_back(configure(p));
    std::map<int, std::pair<unsigned, uint64_t>> on_socket;  // ports, descriptors
    for (const Setup& s : setups) {
        on_socket[s.socket].first++;
        on_socket[s.socket].second += uint64_t{s.rxq} * s.rxd + uint64_t{s.txq} * s.txd;
    }
    for (const auto& [socket, load] : on_socket) {
        auto [ports, descriptors] = load;
        // What filters keep is theirs to bound: a smaller --mbufs is the
        // user's to give (it is how a pool under pressure is tested).
        unsigned needed = mbufs_needed(descriptors, options_.workers);
        unsigned size = options_.mbufs ? options_.mbufs
                                       : mbufs_needed(descriptors, options_.workers, options_.kept_per_worker);
        if (size < needed)
            throw RuntimeError(fmt::format(
                "a pool of {} mbufs is too small for {} port{} on socket {}: the rings and workers can hold {} "
                "({} ring descriptors + {} workers x (burst {} + 1.5 x cache {}))",
                size, ports, ports == 1 ? "" : "s", socket, needed, descriptors, options_.workers,
                RTE_GRAPH_BURST_SIZE, kPoolCache));
        std::string name = fmt::format("sl_ports_s{}", socket);
        rte_mempool* pool =
            rte_pktmbuf_pool_create(name.c_str(), size, kPoolCache, 0, RTE_MBUF_DEFAULT_BUF_SIZE, socket);
        if (!pool)
            throw RuntimeError(fmt::format("cannot create the mempool of {} mbufs on socket {}: {}", size, socket,
                                           rte_strerror(rte_errno)));
        pools_[socket] = pool;
        bool splits = false;
        for (const Setup& s : setups) splits |= s.socket == socket && s.split;
        if (!splits) continue;
        // The header half of every split packet: as many mbufs as the
        // packet pool, each with room for kSplitHeaderBytes.
        name = fmt::format("sl_headers_s{}", socket);
        rte_mempool* headers = rte_pktmbuf_pool_create(name.c_str(), size, kPoolCache, 0,
                                                       RTE_PKTMBUF_HEADROOM + kSplitHeaderBytes, socket);
        if (!headers)
            throw RuntimeError(fmt::format("cannot create the header mempool of {} mbufs on socket {}: {}", size,
                                           socket, rte_strerror(rte_errno)));
        header_pools_[socket] = headers;
    }
    for (const Setup& s : setups) start(s);

    // Wait for every link, bounded: a cable may be missing, and forwarding
    // starts anyway (the link may come up later).
    unsigned waited = 0;
    for (uint16_t p : ids_) {
        rte_eth_link link{};
        while (true) {
            if (rte_eth_link_get_nowait(p, &link) != 0 || link.link_status == RTE_ETH_LINK_UP ||
                waited >= options_.link_wait_ms)
                break;
            usleep(100 * 1000);
            waited += 100;
        }
        char text[RTE_ETH_LINK_MAX_STR_LEN] = {};
        rte_eth_link_to_str(text, sizeof(text), &link);
        spdlog::info("port {} ({}): {}", p, port_name(p), text);
    }

    // Queue q of port p goes to worker (p + q) mod workers: a port's queues
    // spread over the workers, and with one queue a port, the ports do.
    for (uint16_t q = 0; q < options_.rx_queues; q++)
        for (uint16_t p : ids_) rx_queues_.push_back({p, q, (unsigned{p} + q) % options_.workers});
}

Ports::Setup Ports::configure(uint16_t port) {
    rte_eth_dev_info info{};
    int rc = rte_eth_dev_info_get(port, &info);
    if (rc != 0) fail(port, "cannot read its capabilities", rc);
    std::string name = port_name(port);
    Setup s;
    s.port = port;
    s.rxq = options_.rx_queues;
    s.txq = static_cast<uint16_t>(std::max<unsigned>(options_.tx_queues, options_.workers));
    if (s.rxq > info.max_rx_queues)
        throw RuntimeError(fmt::format("port {} ({}) has {} receive queue{}; --rxq {} asks for more", port, name,
                                       info.max_rx_queues, info.max_rx_queues == 1 ? "" : "s", s.rxq));
    if (s.txq > info.max_tx_queues)
        throw RuntimeError(fmt::format("port {} ({}) has {} transmit queue{}, and each of the {} workers needs "
                                       "its own; use fewer lcores",
                                       port, name, info.max_tx_queues, info.max_tx_queues == 1 ? "" : "s", s.txq));

    rte_eth_conf conf{};
    if (s.rxq > 1) {
        uint64_t wanted = options_.rss_by_addresses ? RTE_ETH_RSS_IP : RTE_ETH_RSS_IP | RTE_ETH_RSS_TCP | RTE_ETH_RSS_UDP;
        uint64_t rss = wanted & info.flow_type_rss_offloads;
        if (rss == 0) {
            // net_af_packet, for one, spreads by the kernel's fanout instead.
            spdlog::warn("port {} ({}): no RSS over IP, TCP or UDP; {} decides how packets spread over its {} queues",
                         port, name, info.driver_name, s.rxq);
        } else {
            if (rss != wanted)
                spdlog::debug("port {} ({}): RSS covers only some of IP/TCP/UDP ({:#x} of {:#x})", port, name, rss,
                              wanted);
            conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
            conf.rx_adv_conf.rss_conf.rss_hf = rss;
        }
    }
    // Records larger than one mbuf arrive as chains when the device can
    // scatter, and leave as chains when it can gather.
    if (info.rx_offload_capa & RTE_ETH_RX_OFFLOAD_SCATTER) conf.rxmode.offloads |= RTE_ETH_RX_OFFLOAD_SCATTER;
    // A device that can split headers from payloads into two pools writes
    // the headers where the filters read them in place (hybrid serves them
    // zero copy) and the payload into mbufs of their own: the imported
    // segment that payload filters pull from.
    if ((info.rx_offload_capa & RTE_ETH_RX_OFFLOAD_BUFFER_SPLIT) && info.rx_seg_capa.multi_pools &&
        info.rx_seg_capa.max_nseg >= 2) {
        conf.rxmode.offloads |= RTE_ETH_RX_OFFLOAD_BUFFER_SPLIT | RTE_ETH_RX_OFFLOAD_SCATTER;
        s.split = true;
    }
    if (info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_MULTI_SEGS) conf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_MULTI_SEGS;
    else
        spdlog::debug("port {} ({}): cannot send chained mbufs", port, name);

    rc = rte_eth_dev_configure(port, s.rxq, s.txq, &conf);
    if (rc != 0) fail(port, "configure", rc);
    configured_.push_back(port);
    if (options_.mtu) {
        rc = rte_eth_dev_set_mtu(port, options_.mtu);
        if (rc != 0)
            throw RuntimeError(fmt::format("port {} ({}): cannot set MTU {} (the device allows {} to {}): {}", port,
                                           name, options_.mtu, info.min_mtu, info.max_mtu, rte_strerror(-rc)));
    }
    s.rxd = options_.rx_descriptors;
    s.txd = options_.tx_descriptors;
    rc = rte_eth_dev_adjust_nb_rx_tx_desc(port, &s.rxd, &s.txd);
    if (rc != 0) fail(port, "descriptor counts", rc);
    s.socket = port_socket(port);
    s.rxconf = info.default_rxconf;
    s.rxconf.offloads = conf.rxmode.offloads;
    s.txconf = info.default_txconf;
    s.txconf.offloads = conf.txmode.offloads;
    spdlog::debug("port {} ({}): driver {}, socket {}, {} rx x {}, {} tx x {} descriptors{}", port, name,
                  info.driver_name, s.socket, s.rxq, s.rxd, s.txq, s.txd,
                  s.split ? fmt::format(", headers split at {} bytes", kSplitHeaderBytes) : "");
    return s;
}

void Ports::start(const Setup& s) {
    uint16_t port = s.port;
    auto socket = static_cast<unsigned>(s.socket);
    rte_eth_rxconf rxconf = s.rxconf;
    rte_mempool* pool = pools_.at(s.socket);
    union rte_eth_rxseg segments[2] = {};
    if (s.split) {
        // Length-based: every header the parser knows (Ethernet, two VLAN
        // tags, IPv6, TCP with options) fits in the first segment; the
        // payload pool's buffers take the rest.
        segments[0].split.mp = header_pools_.at(s.socket);
        segments[0].split.length = kSplitHeaderBytes;
        segments[1].split.mp = pool;
        rxconf.rx_seg = segments;
        rxconf.rx_nseg = 2;
        pool = nullptr;
    }
    for (uint16_t q = 0; q < s.rxq; q++) {
        int rc = rte_eth_rx_queue_setup(port, q, s.rxd, socket, &rxconf, pool);
        if (rc != 0) fail(port, fmt::format("receive queue {}", q), rc);
    }
    for (uint16_t q = 0; q < s.txq; q++) {
        int rc = rte_eth_tx_queue_setup(port, q, s.txd, socket, &s.txconf);
        if (rc != 0) fail(port, fmt::format("transmit queue {}", q), rc);
    }
    int rc = rte_eth_dev_start(port);
    if (rc != 0) fail(port, "start", rc);
    started_.push_back(port);
    if (options_.promiscuous) {
        rc = rte_eth_promiscuous_enable(port);
        if (rc != 0 && rc != -ENOTSUP) fail(port, "promiscuous mode", rc);
        if (rc == -ENOTSUP) spdlog::warn("port {} ({}): no promiscuous mode", port, port_name(port));
    }
}

std::vector<PortStats> Ports::stats() const {
    std::vector<PortStats> out;
    for (uint16_t p : ids_) {
        rte_eth_stats s{};
        rte_eth_stats_get(p, &s);
        out.push_back({p, port_name(p), s.ipackets, s.opackets, s.ibytes, s.obytes, s.imissed, s.rx_nombuf,
                       s.oerrors});
    }
    return out;
}

void Ports::stop() noexcept {
    if (stopped_) return;
    stopped_ = true;
    // What arrived after the last poll is freed, not left in the devices:
    // not every PMD frees its queues when it closes (net_ring's ring
    // outlives the port). Bounded, for sources that never run dry.
    for (const RxQueue& q : rx_queues_) {
        rte_mbuf* burst[64];
        for (unsigned left = 4u * options_.rx_descriptors + 4096; left > 0;) {
            uint16_t n = rte_eth_rx_burst(q.port, q.queue, burst, 64);
            if (n == 0) break;
            rte_pktmbuf_free_bulk(burst, n);
            left = n > left ? 0 : left - n;
        }
    }
    for (uint16_t p : started_) rte_eth_dev_stop(p);
}

void Ports::close() noexcept {
    stop();
    if (closed_) return;
    closed_ = true;
    for (uint16_t p : configured_) rte_eth_dev_close(p);
}

std::vector<rte_mempool*> Ports::pools() const {
    std::vector<rte_mempool*> all;
    for (const auto& [socket, pool] : pools_) all.push_back(pool);
    for (const auto& [socket, pool] : header_pools_) all.push_back(pool);
    return all;
}

Ports::~Ports() {
    close();
    for (auto* pool : pools()) rte_mempool_free(pool);
}

}  // namespace sl::core
