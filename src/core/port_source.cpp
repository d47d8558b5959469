#include "core/port_source.hpp"

#include <time.h>

#include <algorithm>

#include <rte_ethdev.h>
#include <rte_prefetch.h>

#include "sdk/packet_state.hpp"

namespace sl::core {

PortSource::PortSource(std::vector<RxQueue> queues, uint16_t burst, const std::atomic<bool>* stop)
    : queues_(std::move(queues)), burst_(burst), stop_(stop) {}

uint16_t PortSource::read(rte_mbuf** packets, uint16_t max) noexcept {
    if (queues_.empty() || stop_->load(std::memory_order_relaxed)) return 0;
    uint16_t n = 0;
    for (size_t polled = 0; polled < queues_.size() && n < max; polled++) {
        const RxQueue& q = queues_[next_];
        next_ = next_ + 1 == queues_.size() ? 0 : next_ + 1;
        uint16_t got = rte_eth_rx_burst(q.port, q.queue, packets + n, std::min<uint16_t>(burst_, max - n));
        // `rx N` routes by the port; not every PMD sets it (net_ring passes
        // mbufs through as they were sent, port and all).
        for (uint16_t i = n; i < n + got; i++) packets[i]->port = q.port;
        n += got;
    }
    if (n == 0) return 0;
    // The parse node reads every packet's first bytes next: ask for them now,
    // so that the misses of the whole burst overlap instead of queueing.
    for (uint16_t i = 0; i < n; i++) rte_prefetch0(rte_pktmbuf_mtod(packets[i], void*));
    // One clock read per burst: pcap sinks need wall-clock times, and the
    // packets of one burst arrived within microseconds of each other.
    timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t now = uint64_t(ts.tv_sec) * 1000000000u + uint64_t(ts.tv_nsec);
    for (uint16_t i = 0; i < n; i++) {
        detail::set_timestamp_ns(packets[i], now);
        detail::mutable_meta(packets[i]).wire_len = rte_pktmbuf_pkt_len(packets[i]);
    }
    return n;
}

}  // namespace sl::core
