#include "core/port_source.hpp"

#include <time.h>

#include <algorithm>

#include <rte_ethdev.h>
#include <rte_prefetch.h>

#include "sdk/packet_state.hpp"

namespace sl::core {

PortSource::PortSource(std::vector<RxQueue> queues, uint16_t burst, const std::atomic<bool>* stop,
                       io::PacketNeeds needs)
    : queues_(std::move(queues)), burst_(burst), stop_(stop), needs_(needs) {}

uint16_t PortSource::read(rte_mbuf** packets, uint16_t max, uint16_t& input) noexcept {
    input = kMixedInputs;
    if (queues_.empty() || stop_->load(std::memory_order_relaxed)) return 0;
    uint16_t n = 0;
    uint64_t now = 0;
    for (size_t polled = 0; polled < queues_.size() && n < max; polled++) {
        const RxQueue& q = queues_[next_];
        next_ = next_ + 1 == queues_.size() ? 0 : next_ + 1;
        uint16_t got = rte_eth_rx_burst(q.port, q.queue, packets + n, std::min<uint16_t>(burst_, max - n));
        if (got == 0) continue;
        // One clock read per burst: pcap sinks need wall-clock times, and the
        // packets of one burst arrived within microseconds of each other.
        if (now == 0 && needs_.meta) {
            timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            now = uint64_t(ts.tv_sec) * 1000000000u + uint64_t(ts.tv_nsec);
        }
        // Everything the graph needs of a packet, in one pass over the burst:
        // each pass costs a trip to every mbuf. `rx N` routes by the port,
        // which not every PMD sets (net_ring passes mbufs through as they
        // were sent, port and all).
        input = n == 0 || input == q.port ? q.port : kMixedInputs;
        for (uint16_t i = n; i < n + got; i++) {
            rte_mbuf* m = packets[i];
            m->port = q.port;
            if (needs_.meta) {
                detail::set_timestamp_ns(m, now);
                detail::mutable_meta(m).wire_len = rte_pktmbuf_pkt_len(m);
            }
            if (needs_.unparsed) detail::PacketBookkeeping::mark_unparsed(m);
            if (needs_.references) detail::PacketBookkeeping::first_reference(m);
            // Where filters read the packets' first bytes, ask for them now,
            // so that the misses of the whole burst overlap.
            if (needs_.bytes) rte_prefetch0(rte_pktmbuf_mtod(m, void*));
        }
        n += got;
    }
    return n;
}

}  // namespace sl::core
