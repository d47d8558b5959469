// TCP reassembly into buffer aggregates (sl::TcpStreams).
//
// Each direction of a flow knows the next stream offset it expects. A
// segment that reaches it is delivered in place: the chunk points into the
// packet. A segment beyond it is held, sorted, until the bytes before it
// come; the packet that brings them delivers the held bytes too, as further
// spans of its chunk. Held bytes stay in their packet's mbuf, which the
// piece holds a reference to (Hold::reference), or are copied once into
// blocks of a pool this worker owns (Hold::copy); Hold::reference_then_copy
// copies a piece, and gives its mbuf back, only once it has waited long or
// the mbufs' pool runs low: the shadow buffer, where it pays. Delivered
// pieces are let go once the walk that read them is over.
#include <sl/stream.hpp>

#include <algorithm>
#include <cstring>
#include <netinet/in.h>
#include <vector>

#include <fmt/format.h>
#include <rte_malloc.h>
#include <rte_prefetch.h>

#include <sl/error.hpp>
#include <sl/filter.hpp>

#include "sdk/packet_state.hpp"

namespace sl {
namespace {

constexpr uint32_t kBlockBytes = 2048;

// A held piece of a stream: its bytes are in its packet's mbuf (m) or in
// a block of the pool.
struct Held {
    Held* next;  // the direction's pieces, by offset; the free list
    uint64_t offset;
    uint32_t length;
    uint32_t unused;
    const uint8_t* bytes;
    rte_mbuf* m;     // the reference this piece holds, or null
    uint8_t* block;  // the block its bytes were copied to, or null
    // Pieces that hold references, oldest first.
    Held* older;
    Held* newer;
    uint64_t since_ns;
};

// A direction's held pieces, sorted by offset, none overlapping. Few
// directions hold anything at a time, so their queues are not in the flow
// state: a direction names one only while it holds pieces.
struct Queue {
    Held* head;
    uint32_t bytes;
    uint32_t count;
};

// Packed to 4 bytes, with the flow's serial 44 bytes a flow: the table's
// memory per flow is what bounds how many flows a worker follows.
struct __attribute__((packed, aligned(4))) Direction {
    uint64_t next;            // the stream offset expected next
    uint32_t base;            // the sequence number of stream offset 0
    uint32_t queue : 30;      // 1 + the index of its Queue; 0 while it holds nothing
    uint32_t started : 1;
    uint32_t gap : 1;         // the next chunk follows bytes never seen
    uint32_t past_depth;      // how far past the depth segments reached (counted in stream_depth_bytes)
};
static_assert(sizeof(Direction) == 20);

struct FlowState {
    Direction dir[2];
    uint32_t serial;  // tells a flow from a later one in its place; never 0
};
static_assert(sizeof(FlowState) == 44);

constexpr uint8_t kTcpFin = 0x01, kTcpSyn = 0x02, kTcpRst = 0x04;

}  // namespace

struct TcpStreams::Impl {
    using Hold = TcpStreamsConfig::Hold;
    TcpStreamsConfig config;
    std::unique_ptr<FlowTable> table;
    uint8_t* pool = nullptr;
    std::vector<Held> headers;
    Held* free_headers = nullptr;
    std::vector<Queue> queues;          // as many as headers: a queue holds one at least
    std::vector<uint32_t> free_queues;  // a stack of indices
    uint32_t free_queue_count = 0;
    uint8_t* free_blocks = nullptr;  // each free block starts with the next one's address
    Held* released = nullptr;  // delivered in this walk: let go after it
    // Pieces that hold references: how many, oldest and newest, and the
    // pool their mbufs come from (for its pressure).
    uint32_t references = 0;
    Held* oldest = nullptr;
    Held* newest = nullptr;
    rte_mempool* mbuf_pool = nullptr;
    uint64_t now = 0;
    uint16_t largest_burst = 0;
    uint32_t serial = 0;
    std::vector<StreamChunk> chunks;
    std::vector<StreamSpan> spans;
    uint32_t chunk_count = 0;
    uint32_t span_count = 0;
    uint64_t walk = UINT64_MAX;
    uint64_t& gaps;
    uint64_t& gap_bytes;
    uint64_t& overlap_bytes;
    uint64_t& held_full;
    uint64_t& depth_bytes;
    uint64_t& copied_bytes;
    uint64_t& held_mbufs;
    uint64_t& held_mbufs_peak;
    uint64_t depth;  // config.depth, or no limit

    Impl(FilterContext& ctx, const TcpStreamsConfig& c)
        : config(c), gaps(ctx.counter("stream_gap")), gap_bytes(ctx.counter("stream_gap_bytes")),
          overlap_bytes(ctx.counter("stream_overlap_bytes")), held_full(ctx.counter("stream_held_full")),
          depth_bytes(ctx.counter("stream_depth_bytes")), copied_bytes(ctx.counter("stream_copied_bytes")),
          held_mbufs(ctx.counter("stream_held_mbufs")), held_mbufs_peak(ctx.counter("stream_held_mbufs_peak")), depth(c.depth ? c.depth : UINT64_MAX) {}
    ~Impl() {
        // The flows' pieces were let go when they ended (end_all); what a
        // run that stopped early left is let go here, before the pools go.
        let_go_released();
        for (Held& h : headers)
            if (h.m) rte_pktmbuf_free(h.m);
        rte_free(pool);
    }

    uint8_t* take_block() noexcept {
        uint8_t* b = free_blocks;
        if (b) std::memcpy(&free_blocks, b, sizeof(uint8_t*));  // a free block holds the next one's address
        return b;
    }
    void give_block(uint8_t* b) noexcept {
        std::memcpy(b, &free_blocks, sizeof(uint8_t*));
        free_blocks = b;
    }
    Held* take_header() noexcept {
        Held* h = free_headers;
        if (h) free_headers = h->next;
        return h;
    }

    void unlink_age(Held* h) noexcept {
        if (!h->older && !h->newer && oldest != h) return;  // not in the list (delivered)
        (h->older ? h->older->newer : oldest) = h->newer;
        (h->newer ? h->newer->older : newest) = h->older;
        h->older = h->newer = nullptr;
    }
    // The piece's bytes, reference and header go back.
    void let_go(Held* h) noexcept {
        if (h->m) {
            unlink_age(h);
            rte_pktmbuf_free(h->m);
            h->m = nullptr;
            references--;
        }
        if (h->block) give_block(h->block);
        h->block = nullptr;
        h->next = free_headers;
        free_headers = h;
    }
    void let_go_released() noexcept {
        while (Held* h = released) {
            released = h->next;
            let_go(h);
        }
    }

    // A new walk: the chunks of the last one are read, their pieces free.
    void begin_walk() noexcept {
        if (walk == detail::walk_serial) return;
        walk = detail::walk_serial;
        chunk_count = 0;
        span_count = 0;
        let_go_released();
    }

    // Copies a referenced piece into a block and gives its mbuf back: the
    // shadow buffer. False when the pool has no block.
    bool copy_out(Held* h) noexcept {
        uint8_t* b = take_block();
        if (!b) return false;
        std::memcpy(b, h->bytes, h->length);
        copied_bytes += h->length;
        h->bytes = h->block = b;
        unlink_age(h);
        rte_pktmbuf_free(h->m);
        h->m = nullptr;
        references--;
        return true;
    }

    // Under reference_then_copy, once per burst: pieces held longer than
    // hold_ns are copied, and while the mbufs' pool has fewer free than
    // the next walks may take (twice the largest burst seen, and at least
    // a sixteenth of the pool), the oldest pieces are copied until it has.
    void relieve(uint64_t burst_now, uint16_t burst_size) noexcept {
        now = std::max(now, burst_now);
        largest_burst = std::max(largest_burst, burst_size);
        while (oldest && oldest->since_ns + config.hold_ns < now)
            if (!copy_out(oldest)) break;
        if (oldest && mbuf_pool) {
            unsigned mark = std::max(mbuf_pool->size / 16, 2u * largest_burst);
            unsigned avail = rte_mempool_avail_count(mbuf_pool);
            // A copied piece's mbuf goes back only when it was the last
            // reference; a segment's pieces share one.
            for (unsigned want = avail < mark ? mark - avail : 0; want && oldest; want--)
                if (!copy_out(oldest)) break;
        }
        held_mbufs = references;
    }

    Queue* queue_of(const Direction& d) noexcept { return d.queue ? &queues[d.queue - 1] : nullptr; }
    // The direction's queue, taken for it if it has none. Null when none is
    // free, and then no header is free either.
    Queue* open_queue(Direction& d) noexcept {
        if (!d.queue) {
            if (free_queue_count == 0) return nullptr;
            uint32_t q = free_queues[--free_queue_count];
            queues[q] = {};
            d.queue = q + 1;
        }
        return &queues[d.queue - 1];
    }
    void close_queue_if_empty(Direction& d) noexcept {
        if (d.queue && !queues[d.queue - 1].head) {
            free_queues[free_queue_count++] = d.queue - 1;
            d.queue = 0;
        }
    }

    // Whether another piece can be held anywhere.
    bool room() const noexcept {
        bool reference = config.hold != Hold::copy && references < config.held_mbufs;
        return free_headers && (reference || (config.hold != Hold::reference && free_blocks));
    }

    void drop_held(Direction& d) noexcept {
        if (Queue* q = queue_of(d)) {
            while (Held* h = q->head) {
                q->head = h->next;
                let_go(h);
            }
            close_queue_if_empty(d);
        }
    }

    static void flow_ended(void* user, uint32_t, void* slot, FlowEnd) {
        auto* self = static_cast<Impl*>(user);
        auto* state = static_cast<FlowState*>(slot);
        for (Direction& d : state->dir) {
            // Held bytes no packet made contiguous: lost with the flow.
            if (Queue* q = self->queue_of(d)) {
                self->gaps++;
                for (Held* h = q->head; h; h = h->next) self->gap_bytes += h->length;
            }
            self->drop_held(d);
        }
    }

    // Holds [from, to) of the stream, which packet m holds from packet
    // offset `at` on, leaving out what is held already: by reference or
    // copied, as config.hold says.
    void hold(Direction& d, rte_mbuf* m, uint32_t at, uint64_t from, uint64_t to) noexcept {
        // Bytes past the depth are never delivered: not worth holding.
        to = std::min(to, std::max(from, depth));
        if (from >= to) return;
        Queue* q = open_queue(d);
        if (!q) {
            held_full++;
            return;
        }
        hold_into(*q, m, at, from, to);
        close_queue_if_empty(d);
    }
    void hold_into(Queue& q, rte_mbuf* m, uint32_t at, uint64_t from, uint64_t to) noexcept {
        PacketView whole(m, UINT32_MAX, nullptr);
        Held** link = &q.head;
        uint64_t cur = from;
        while (cur < to) {
            // Skip what the held pieces cover; stop before the next one.
            while (*link && (*link)->offset + (*link)->length <= cur) link = &(*link)->next;
            uint64_t stop = to;
            if (*link) {
                if ((*link)->offset <= cur) {
                    uint64_t covered = std::min(to, (*link)->offset + (*link)->length);
                    overlap_bytes += covered - cur;
                    cur = covered;
                    continue;
                }
                stop = std::min(stop, (*link)->offset);
            }
            if (q.bytes >= config.held_bytes || q.count >= config.held_segments) return;
            bool by_reference = config.hold != Hold::copy && references < config.held_mbufs;
            if (!by_reference && (config.hold == Hold::reference || !free_blocks)) {
                held_full++;
                return;
            }
            Held* h = take_header();
            if (!h) {
                held_full++;
                return;
            }
            auto n = static_cast<uint32_t>(std::min<uint64_t>(stop - cur, kBlockBytes));
            h->offset = cur;
            h->length = 0;
            uint32_t from_byte = at + static_cast<uint32_t>(cur - from);
            if (by_reference) {
                // One piece per contiguous run of the packet: the first
                // segment's bytes here, the rest on the next turn.
                whole.for_each_span(from_byte, n, [&](const uint8_t* p, uint32_t len) {
                    h->bytes = p;
                    h->length = len;
                    return false;
                });
                h->m = m;
                h->block = nullptr;
                rte_pktmbuf_refcnt_update(m, 1);
                references++;
                h->since_ns = now;
                h->newer = nullptr;
                h->older = newest;
                (newest ? newest->newer : oldest) = h;
                newest = h;
                if (!mbuf_pool) mbuf_pool = m->pool;
            } else {
                uint8_t* b = take_block();
                whole.for_each_span(from_byte, n, [&](const uint8_t* p, uint32_t len) {
                    std::memcpy(b + h->length, p, len);
                    h->length += len;
                    return true;
                });
                h->m = nullptr;
                h->bytes = h->block = b;
                copied_bytes += h->length;
            }
            h->next = *link;
            *link = h;
            link = &h->next;
            q.bytes += h->length;
            q.count++;
            cur += h->length;
        }
    }

    // Adds the held pieces that start at or before d.next to the chunk.
    void drain(Direction& d, StreamChunk& c) noexcept {
        Queue* q = queue_of(d);
        if (!q) return;
        while (Held* h = q->head) {
            if (h->offset > d.next) break;
            q->head = h->next;
            q->bytes -= h->length;
            q->count--;
            uint64_t end = h->offset + h->length;
            if (end > d.next) {
                auto skip = static_cast<uint32_t>(d.next - h->offset);
                add_span(c, h->bytes + skip, h->length - skip);
                d.next = end;
            }
            // Read during this walk, let go after it; no longer the oldest.
            if (h->m) unlink_age(h);
            h->next = released;
            released = h;
        }
        close_queue_if_empty(d);
    }

    void add_span(StreamChunk& c, const uint8_t* p, uint32_t n) noexcept {
        if (n == 0 || span_count == spans.size()) return;
        spans[span_count++] = {p, n};
        c.span_count++;
        c.length += n;
    }

    // One TCP segment of flow `flow`; returns the chunk it made (of length 0
    // when it brought nothing new), or null when it is no TCP segment.
    const StreamChunk* segment(const Burst& burst, uint16_t i, const Flow& flow) noexcept;
};

const StreamChunk* TcpStreams::Impl::segment(const Burst& burst, uint16_t i, const Flow& flow) noexcept {
    rte_mbuf* m = burst[i];
    const PacketMeta& pm = meta(m);
    if (pm.ip_proto != IPPROTO_TCP || !(pm.flags & kHasPorts) || pm.l4_offset == kNoOffset) return nullptr;
    PacketView view = burst.view(i);
    uint8_t header[14];
    const uint8_t* tcp = view.read(pm.l4_offset, 14, header);
    uint8_t ip_scratch[4];
    const uint8_t* ip = view.read(pm.l3_offset + ((pm.flags & kIsIpv6) ? 4u : 2u), 2, ip_scratch);
    if (!tcp || !ip) return nullptr;
    uint32_t seq = uint32_t{tcp[4]} << 24 | uint32_t{tcp[5]} << 16 | uint32_t{tcp[6]} << 8 | tcp[7];
    uint8_t flags = tcp[13];
    // The segment's length comes from the IP header: what follows it in the
    // frame is padding. What the capture cut off is a gap.
    uint32_t ip_len = uint32_t{ip[0]} << 8 | ip[1];
    uint32_t ip_end = (pm.flags & kIsIpv6) ? pm.l3_offset + 40u + ip_len : pm.l3_offset + ip_len;
    uint32_t seg_len = ip_end > pm.payload_offset ? ip_end - pm.payload_offset : 0;
    uint32_t have = std::min(seg_len, rte_pktmbuf_pkt_len(m) > pm.payload_offset
                                          ? rte_pktmbuf_pkt_len(m) - pm.payload_offset : 0u);

    auto* state = table->slot<FlowState>(flow.id);
    if (flow.is_new) {
        if (++serial == 0) serial = 1;  // 0 reads as "no flow yet" to stream readers
        state->serial = serial;
    }
    Direction& d = state->dir[flow.direction];
    uint32_t data_seq = seq + ((flags & kTcpSyn) ? 1 : 0);
    if (!d.started) {
        d.started = 1;
        d.base = data_seq;
    }
    // Sequence numbers wrap; the distance from the expected one does not.
    int64_t rel = static_cast<int64_t>(d.next) +
                  static_cast<int32_t>(data_seq - static_cast<uint32_t>(d.base + d.next));
    int64_t seg_end = rel + seg_len;
    if (chunk_count == chunks.size()) return nullptr;
    StreamChunk& c = chunks[chunk_count];
    c = {table.get(), state->serial,      d.next, flow.id, 0, spans.data() + span_count, 0, flow.direction, 0,
         table->b_sent_first(flow.id)};
    // Bytes past the depth are counted once each, by how far the segments
    // reached (as tcpflow's files would hold them), whatever their order:
    // past_depth says how far out-of-order segments reached before the
    // stream got to the depth, d.next how far it reached since.
    const bool past = d.next >= depth;
    if (past) {
        // Nothing more to deliver: the chunk only names the flow.
        uint64_t counted = std::max(uint64_t{d.next}, depth + d.past_depth);  // (no reference into a packed field)
        if (seg_len && seg_end > 0 && static_cast<uint64_t>(seg_end) > counted)
            depth_bytes += static_cast<uint64_t>(seg_end) - counted;
        if (seg_end > static_cast<int64_t>(d.next)) c.offset = d.next = static_cast<uint64_t>(seg_end);
    } else if (seg_len && seg_end > 0 && static_cast<uint64_t>(seg_end) > depth) {
        // Below the depth a direction's reach is bounded by what it may
        // hold: 32 bits are plenty.
        auto reach = static_cast<uint32_t>(std::min<uint64_t>(static_cast<uint64_t>(seg_end) - depth, UINT32_MAX));
        if (reach > d.past_depth) {
            depth_bytes += reach - d.past_depth;
            d.past_depth = reach;
        }
    }
    if (past) {
        c.flags |= kStreamCut;
    } else if (seg_end <= static_cast<int64_t>(d.next)) {
        // Nothing new: a retransmission, a keep-alive, a pure ACK.
        overlap_bytes += seg_len;
    } else if (rel <= static_cast<int64_t>(d.next)) {
        auto skip = static_cast<uint32_t>(static_cast<int64_t>(d.next) - rel);
        overlap_bytes += skip;
        if (d.gap) c.flags |= kStreamGap;
        d.gap = 0;
        if (d.next == 0) c.flags |= kStreamStart;
        PacketView whole(m, UINT32_MAX, nullptr);
        if (have > skip)
            whole.for_each_span(pm.payload_offset + skip, have - skip, [&](const uint8_t* p, uint32_t n) {
                add_span(c, p, n);
                return true;
            });
        d.next = static_cast<uint64_t>(seg_end);
        if (have < seg_len) {  // cut by the capture's snap length
            gaps++;
            gap_bytes += seg_len - have;
            d.gap = 1;
        }
        drain(d, c);
    } else {
        hold(d, m, pm.payload_offset, static_cast<uint64_t>(rel), static_cast<uint64_t>(rel) + have);
        // Past the bounds the oldest gap is given up: the stream goes on
        // from the first held byte. Bytes past the depth are not held, so
        // with a depth the bound is also how far the stream reached past
        // the gap; with nothing held, it goes on from the depth.
        const Queue* q = queue_of(d);
        bool full = (q && (q->bytes >= config.held_bytes || q->count >= config.held_segments)) || !room();
        bool reached = depth != UINT64_MAX && static_cast<uint64_t>(seg_end) - d.next >= config.held_bytes;
        if ((q && full) || reached) {
            uint64_t resume = q ? q->head->offset : depth;
            gaps++;
            gap_bytes += resume - d.next;
            c.offset = d.next = resume;
            c.flags |= kStreamGap;
            drain(d, c);
        }
    }
    // A FIN ends the direction once every byte before it is here: a held
    // FIN does not (its direction ends with its flow).
    bool ends = (flags & kTcpRst) || ((flags & kTcpFin) && seg_end <= static_cast<int64_t>(d.next));
    // Past the depth the chunk still names its flow, with the bytes before
    // the depth only (the spans keep what is cut; readers stop at length).
    if (c.offset + c.length > depth) {
        c.length = static_cast<uint32_t>(c.offset < depth ? depth - c.offset : 0);
        c.flags |= kStreamCut;
    }
    if (ends) c.flags |= kStreamEnd;
    chunk_count++;
    return &c;
}

TcpStreams::TcpStreams(FilterContext& ctx, const TcpStreamsConfig& config)
    : impl_(std::make_unique<Impl>(ctx, config)) {
    detail::register_stream_field();
    FlowTableConfig flows = config.flows;
    flows.slot_bytes = sizeof(FlowState);
    flows.on_end = &Impl::flow_ended;
    flows.user = impl_.get();
    impl_->table = std::make_unique<FlowTable>(ctx, flows);
    uint64_t blocks = std::max<uint64_t>(config.held_total / kBlockBytes, 1);
    if (blocks + config.held_mbufs >= (1u << 30))  // Direction::queue has 30 bits
        throw ConfigError(fmt::format("{} held pieces are more than a direction can name", blocks + config.held_mbufs));
    impl_->pool = static_cast<uint8_t*>(rte_malloc_socket("sl_stream_held", blocks * kBlockBytes, 64, ctx.socket_id()));
    if (!impl_->pool)
        throw RuntimeError(fmt::format("cannot allocate {} KiB for held stream bytes", blocks * kBlockBytes / 1024));
    for (uint64_t b = blocks; b-- > 0;) impl_->give_block(impl_->pool + b * kBlockBytes);
    uint64_t references = config.hold == TcpStreamsConfig::Hold::copy ? 0 : config.held_mbufs;
    impl_->headers.resize(blocks + references);
    impl_->queues.resize(impl_->headers.size());
    impl_->free_queues.resize(impl_->headers.size());
    for (uint32_t q = 0; q < impl_->queues.size(); q++) impl_->free_queues[impl_->free_queue_count++] = q;
    for (size_t h = impl_->headers.size(); h-- > 0;) {
        impl_->headers[h].next = impl_->free_headers;
        impl_->free_headers = &impl_->headers[h];
    }
    if (references) ctx.keeps_packets(static_cast<uint32_t>(references));
    impl_->chunks.resize(kMaxBurst * 4);
    // A walk's chunks: each packet's own pieces, and every piece drained.
    impl_->spans.resize(kMaxBurst * 8 + impl_->headers.size());
}

TcpStreams::~TcpStreams() = default;

void TcpStreams::process(const Burst& burst) noexcept {
    Impl& s = *impl_;
    s.begin_walk();
    if (s.config.hold != TcpStreamsConfig::Hold::copy) {
        uint64_t latest = 0;
        for (uint16_t i = 0; i < burst.size(); i++) latest = std::max(latest, timestamp_ns(burst[i]));
        if (s.config.hold == TcpStreamsConfig::Hold::reference_then_copy) s.relieve(latest, burst.size());
        else s.now = std::max(s.now, latest);
    }
    Flow flows[kMaxBurst];
    for (uint16_t i = 0, end; i < burst.size();) {
        end = s.table->lookup(burst, flows, i);
        // The flows' state is scattered over the table: ask for all of it
        // before the first segment needs its own.
        for (uint16_t k = i; k < end; k++)
            if (flows[k].id != kNoFlow) rte_prefetch0(s.table->slot(flows[k].id));
        for (; i < end; i++)
            attach_stream_chunk(burst, i, flows[i].id == kNoFlow ? nullptr : s.segment(burst, i, flows[i]));
    }
    s.held_mbufs = s.references;
    s.held_mbufs_peak = std::max<uint64_t>(s.held_mbufs_peak, s.references);
}

void TcpStreams::end_all() noexcept {
    impl_->table->end_all();
    impl_->let_go_released();
    impl_->held_mbufs = impl_->references;
}

const FlowTable& TcpStreams::flows() const noexcept { return *impl_->table; }

}  // namespace sl
