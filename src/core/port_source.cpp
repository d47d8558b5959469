#include "core/port_source.hpp"

#include <time.h>

#include <algorithm>

#include <rte_ethdev.h>
#include <rte_prefetch.h>

#include "sdk/packet_state.hpp"

namespace sl::core {

PortSource::PortSource(std::vector<RxQueue> queues, uint16_t burst, uint16_t gather, const std::atomic<bool>* stop,
                       io::PacketNeeds needs)
    : queues_(std::move(queues)), burst_(burst), gather_(gather == 0 ? std::max(kDefaultGather, burst) : gather),
      stop_(stop), needs_(needs) {
    polled_.set();
}

void PortSource::read_only(const std::vector<bool>& ports) noexcept {
    // Plain `rx` reads every port, whatever its id (an owned sub-device can
    // leave gaps in the ids of the ports the EAL shows).
    if (std::all_of(ports.begin(), ports.end(), [](bool read) { return read; })) {
        polled_.set();
        return;
    }
    for (size_t p = 0; p < polled_.size(); p++) polled_[p] = p < ports.size() && ports[p];
}

uint16_t PortSource::read(rte_mbuf** packets, uint16_t max, uint16_t& input) noexcept {
    input = kMixedInputs;
    if (queues_.empty() || stop_->load(std::memory_order_relaxed)) return 0;
    uint16_t n = 0;
    uint64_t now = 0;
    max = std::min(max, gather_);
    for (size_t polled = 0; polled < queues_.size() && n < max; polled++) {
        const RxQueue& q = queues_[next_];
        next_ = next_ + 1 == queues_.size() ? 0 : next_ + 1;
        if (!polled_[q.port]) continue;  // no `rx` reads it: its ring fills, the device counts the misses
        // A queue that fills the burst it was asked for has more waiting:
        // read on, up to the gather. Under load one walk and one transmit
        // (a doorbell, or net_pcap's file flush) then serve several receive
        // calls; when the queue runs dry, nothing waits.
        for (uint16_t asked = 0; n < max;) {
            asked = std::min<uint16_t>(burst_, max - n);
            uint16_t got = rte_eth_rx_burst(q.port, q.queue, packets + n, asked);
            if (got == 0) break;
            n = prepare(q, packets, n, got, input, now);
            if (got < asked) break;
        }
    }
    return n;
}

uint16_t PortSource::prepare(const RxQueue& q, rte_mbuf** packets, uint16_t n, uint16_t got, uint16_t& input,
                             uint64_t& now) noexcept {
    // One clock read per walk: pcap sinks need wall-clock times, and the
    // packets of one walk arrived within microseconds of each other.
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
    return n + got;
}

}  // namespace sl::core
