#include "shadow/shadows.hpp"

#include <algorithm>
#include <atomic>

#include <fmt/format.h>
#include <rte_malloc.h>
#include <rte_memzone.h>

#include <sl/error.hpp>

#include "sdk/packet_state.hpp"

namespace sl::shadow {
namespace {

// Shadows never need more than a jumbo frame per packet to be useful; a burst
// of larger records (a 256 KiB snap length) is served in place once the
// arena is full, and counted as shadow_full.
constexpr uint32_t kTypicalPacketCap = 9216;

std::atomic<unsigned> g_zones{0};

}  // namespace

Shadows::Shadows(const PolicyConfig& entry, bool copies, uint32_t largest_packet, int socket, CopyEngine* engine)
    : entry_(entry), copies_(copies), engine_(engine) {
    if (!engine_) {
        own_engine_ = make_cpu_engine();
        engine_ = own_engine_.get();
    }
    for (auto& e : table_) e = {};
    if (!copies_) return;
    largest_packet = std::max<uint32_t>(largest_packet, 64);
    capacity_ = size_t{RTE_GRAPH_BURST_SIZE} * std::min(largest_packet, kTypicalPacketCap) + largest_packet;
    // One IOVA-contiguous zone, so that a DMA engine can address any shadow
    // by the zone's IOVA plus an offset.
    std::string name = fmt::format("sl_shadow_{}", g_zones.fetch_add(1));
    zone_ = rte_memzone_reserve_aligned(name.c_str(), capacity_, socket, RTE_MEMZONE_IOVA_CONTIG, 64);
    if (zone_) {
        arena_ = static_cast<uint8_t*>(zone_->addr);
        arena_iova_ = zone_->iova;
    } else {
        // Memory that is not IOVA-contiguous: only the CPU copies into it.
        arena_ = static_cast<uint8_t*>(rte_malloc_socket("sl_shadow", capacity_, 64, socket));
        if (!arena_)
            throw RuntimeError(fmt::format("cannot allocate {} KiB of shadow memory on socket {}", capacity_ / 1024, socket));
    }
}

Shadows::~Shadows() {
    if (zone_) rte_memzone_free(zone_);
    else rte_free(arena_);
}

void Shadows::begin_walk(rte_mbuf** packets, uint16_t count, Counters& c) noexcept {
    // Copies still in flight (prefetch pulls that no reader waited for) land
    // before their memory is reused.
    if (waiting_) {
        flush(c);
        failed_ = {};
    }
    used_ = 0;
    // When nothing copies the table stays empty, so any slot reads as "in place".
    if (!copies_) return;
    for (unsigned w = 0; w < filled_.size(); w++)
        for (uint64_t bits = filled_[w]; bits; bits &= bits - 1) table_[w * 64 + __builtin_ctzll(bits)] = {};
    filled_ = {};
    for (uint16_t i = 0; i < count; i++) detail::PacketBookkeeping::set_shadow_slot(packets[i], static_cast<uint8_t>(i));
    if (entry_.policy != Policy::prefetch) return;
    // Prefetch pulls the whole burst as it enters, before any filter asks,
    // and lets the engine work while the source finishes its burst; the
    // first filter that reads waits for it.
    for (uint16_t i = 0; i < count; i++) add_pull(packets[i], i, 0, c);
    if (request_count_) {
        engine_->submit(requests_.data(), request_count_, c);
        waiting_ = true;
    }
}

uint32_t Shadows::wanted_from(const rte_mbuf* m, Access access, const PolicyConfig& policy) noexcept {
    if (!reads_bytes(access)) return UINT32_MAX;
    switch (policy.policy) {
    case Policy::zero_copy: return UINT32_MAX;
    case Policy::copy_once:
    case Policy::prefetch: return 0;
    case Policy::hybrid: break;
    }
    if (access == Access::headers) return UINT32_MAX;
    if (policy.fixed_threshold) return policy.fixed_threshold;
    // The runtime parses before a payload reader under hybrid; a packet it
    // could not is pulled whole.
    return detail::PacketBookkeeping::parsed(m) ? meta(m).payload_offset : 0;
}

bool Shadows::add_pull(rte_mbuf* m, uint16_t slot, uint32_t from, Counters& c) noexcept {
    uint32_t length = rte_pktmbuf_pkt_len(m);
    if (from >= length) return true;
    uint32_t bytes = length - from;
    if (used_ + bytes > capacity_) {
        c.shadow_full++;
        return false;
    }
    uint8_t* dst = arena_ + used_;
    rte_iova_t dst_iova = arena_iova_ == RTE_BAD_IOVA ? RTE_BAD_IOVA : arena_iova_ + used_;
    // One copy per segment piece: a chain is gathered into one linear shadow.
    uint32_t seg_start = 0;
    for (const rte_mbuf* seg = m; seg && seg_start < length; seg = seg->next) {
        uint32_t seg_end = seg_start + seg->data_len;
        if (seg_end > from) {
            uint32_t lo = std::max(from, seg_start);
            uint32_t hi = std::min(seg_end, length);
            if (request_count_ == kMaxRequests) flush(c);
            rte_iova_t src_iova = seg->buf_iova == RTE_BAD_IOVA ? RTE_BAD_IOVA : rte_pktmbuf_iova_offset(seg, lo - seg_start);
            requests_[request_count_++] = {dst + (lo - from), dst_iova == RTE_BAD_IOVA ? RTE_BAD_IOVA : dst_iova + (lo - from),
                                           rte_pktmbuf_mtod_offset(seg, const uint8_t*, lo - seg_start), src_iova, hi - lo,
                                           slot};
        }
        seg_start = seg_end;
    }
    used_ += (bytes + 63) & ~size_t{63};
    used_ = std::min(used_, capacity_);
    mark(filled_, slot);
    table_[slot] = {dst, from, length};
    c.bytes_pulled += bytes;
    return true;
}

void Shadows::flush(Counters& c) noexcept {
    // Prefetch submitted its requests as the burst entered; they are only
    // waited for here.
    if (request_count_ && !waiting_) engine_->submit(requests_.data(), request_count_, c);
    engine_->wait(failed_, c);
    request_count_ = 0;
    waiting_ = false;
}

uint16_t Shadows::prepare(rte_mbuf** packets, uint16_t count, Access access, const PolicyConfig& policy,
                          Counters& c) noexcept {
    if (waiting_) flush(c);  // prefetch's pulls must be in before anyone reads
    for (uint16_t i = 0; i < count; i++) {
        rte_mbuf* m = packets[i];
        uint8_t slot = detail::PacketBookkeeping::shadow_slot(m);
        uint32_t from = wanted_from(m, access, policy);
        if (from == UINT32_MAX) continue;
        const detail::Shadow& have = table_[slot];
        if (have.data && have.from <= from) continue;
        add_pull(m, slot, from, c);
    }
    if (request_count_) flush(c);

    uint64_t any = failed_[0] | failed_[1] | failed_[2] | failed_[3];
    if (!any) return count;
    // A failed pull drops its packet here, before the filter could read
    // bytes that never arrived: the failed ones go to the end.
    uint16_t kept = 0;
    for (uint16_t i = 0; i < count; i++) {
        uint8_t slot = detail::PacketBookkeeping::shadow_slot(packets[i]);
        bool failed = marked(failed_, slot);
        if (failed) table_[slot] = {};
        else std::swap(packets[kept++], packets[i]);
    }
    failed_ = {};
    return kept;
}

void Shadows::account_in_place(rte_mbuf* const* packets, uint16_t count, Access access, Counters& c) const noexcept {
    if (!reads_bytes(access)) return;
    uint64_t bytes = 0;
    for (uint16_t i = 0; i < count; i++) {
        const rte_mbuf* m = packets[i];
        uint32_t length = rte_pktmbuf_pkt_len(m);
        // A header reader sees up to the payload offset, or all of a packet
        // nothing parsed (sl::kNoParse filters).
        bool headers = access == Access::headers && detail::PacketBookkeeping::parsed(m);
        uint32_t end = headers ? std::min<uint32_t>(meta(m).payload_offset, length) : length;
        const detail::Shadow& local = table_[detail::PacketBookkeeping::shadow_slot(m)];
        uint32_t local_from = local.data ? local.from : UINT32_MAX;
        bytes += std::min(end, local_from);
    }
    c.bytes_zero_copy += bytes;
}

void Shadows::forget(rte_mbuf* const* packets, uint16_t count) noexcept {
    for (uint16_t i = 0; i < count; i++) {
        table_[detail::PacketBookkeeping::shadow_slot(packets[i])] = {};
    }
}

}  // namespace sl::shadow
