// Byte streams: a TCP connection's bytes in order, each direction its own
// stream, as IO-Lite's buffer aggregates: ordered references into packet
// buffers. Bytes that arrive in order are never copied; bytes that arrive
// before the ones they follow are copied once into memory the reassembler
// owns (a bounded block pool), so that their mbufs go back to the pool.
//
// A stream maker (`reassemble`, or a plugin built on sl::TcpStreams) gives
// each packet the chunk of its stream that became contiguous when the packet
// arrived: its own payload, and held bytes that it made contiguous. Filters
// after it read the chunks:
//
//   for (uint16_t i = 0; i < burst.size(); i++)
//       if (const sl::StreamChunk* c = sl::stream_chunk(burst, i))
//           c->for_each_span([&](const uint8_t* p, uint32_t n) { scan(c->offset, p, n); return true; });
//
// A chunk and the bytes it points to are valid until the graph walk ends.
// A filter type that reads chunks sets sl::kReadsStreams, and the plan
// refuses it where some path from rx reaches it without passing a filter
// that makes streams (sl::kMakesStreams).
#pragma once

#include <cstdint>
#include <memory>

#include <sl/burst.hpp>
#include <sl/flow.hpp>

namespace sl {

struct StreamSpan {
    const uint8_t* data;
    uint32_t length;
};

enum StreamFlag : uint8_t {
    kStreamStart = 1 << 0,  // the direction's first bytes
    kStreamGap = 1 << 1,    // bytes before `offset` were never seen (counted as stream_gap)
    kStreamEnd = 1 << 2,    // the direction ends here (FIN or RST)
    kStreamCut = 1 << 3,    // the direction reached the maker's depth: its bytes past it are not delivered
};

struct StreamChunk {
    const FlowTable* flows;  // the maker's table: endpoints(flow)
    uint64_t flow_serial;    // counts the maker's flows: tells a flow from a later one in its place
    uint64_t offset;         // the stream offset of the first byte (0: the first byte after the SYN)
    uint32_t flow;           // the flow's id in `flows`
    uint32_t length;         // bytes in all spans
    const StreamSpan* spans;
    uint16_t span_count;
    uint8_t direction;       // as sl::Flow
    uint8_t flags;           // StreamFlag bits
    uint8_t b_sent_first;    // FlowTable::b_sent_first when the chunk was made

    // The flow's endpoints, [0] the one that sent first ([direction] sent
    // these bytes), as they were when the chunk was made.
    FlowEndpoints endpoints() const noexcept { return flows->endpoints(flow, b_sent_first); }

    // Calls f(const uint8_t* bytes, uint32_t length) for each piece of the
    // chunk's `length` bytes in order; stops early and returns false when f
    // returns false. The spans may hold more than `length` bytes (a maker
    // cuts a chunk at its depth by its length).
    template <class F>
    bool for_each_span(F&& f) const {
        uint32_t left = length;
        for (uint16_t s = 0; s < span_count && left; s++) {
            uint32_t n = spans[s].length < left ? spans[s].length : left;
            left -= n;
            if (!f(spans[s].data, n)) return false;
        }
        return true;
    }
};

// The chunk packet i brought, or null for a packet of no TCP stream. Every
// TCP packet of a flow gets one: a packet that brought no new bytes (a pure
// ACK, a retransmission, a segment held until the bytes before it come) gets
// a chunk of length 0, which still names its flow and direction.
const StreamChunk* stream_chunk(const Burst& burst, uint16_t i) noexcept;

// For stream makers: gives packet i `chunk` (null: none). Every packet a
// maker sees must get a call, so that no stale chunk rides on a reused mbuf.
void attach_stream_chunk(const Burst& burst, uint16_t i, const StreamChunk* chunk) noexcept;

// tcpflow's name for the bytes one endpoint of a flow sent (direction 0:
// the flow's first sender): SRCIP.SRCPORT-DSTIP.DSTPORT, IPv4 addresses as
// four zero-padded octets, IPv6 ones as text, ports as five digits, and
// "--VLAN" after a tagged flow's name. Writes at most `size` bytes with the
// NUL; returns the name's length.
size_t stream_name(char* out, size_t size, const FlowEndpoints& endpoints, unsigned direction) noexcept;

struct TcpStreamsConfig {
    FlowTableConfig flows;
    // Out-of-order bytes held per direction, and segments; past either
    // bound the gap is given up (stream_gap) and the stream goes on.
    uint32_t held_bytes = 256 * 1024;
    uint32_t held_segments = 256;
    // All held bytes of the worker: the block pool's size.
    uint64_t held_total = 64ull << 20;
    // Bytes of each direction delivered, from its start; the rest are
    // neither held nor delivered (counted as stream_depth_bytes). 0: all.
    uint64_t depth = 0;
    // Where held bytes live. copy: copied into the block pool at once.
    // reference: the packet's mbuf is held (a reference of its own) and
    // nothing is copied; past `held_mbufs` a segment is not held
    // (stream_held_full). reference_then_copy: held so, and copied into
    // the pool (the mbuf released) once held longer than `hold_ns`, or
    // while the mbufs' pool has fewer free than the next walks may take
    // (twice the largest burst, at least a sixteenth of the pool), oldest
    // first.
    enum class Hold : uint8_t { copy, reference, reference_then_copy };
    Hold hold = Hold::copy;
    uint32_t held_mbufs = 1024;           // per worker, when holding references
    uint64_t hold_ns = 1'000'000'000;     // packet time
};

// TCP reassembly on a flow table, for filters that make streams. Overlaps
// are settled by first arrival: a byte already delivered or held keeps its
// value, as the Linux and BSD stacks keep what they queued first.
// Counters (on the owning filter): stream_gap, stream_gap_bytes,
// stream_overlap_bytes, stream_held_full, stream_copied_bytes (held bytes
// copied into the pool), stream_held_mbufs (references held now) and
// stream_held_mbufs_peak, besides
// the flow table's. With a Hold that references, the constructor tells the
// runtime (FilterContext::keeps_packets).
class TcpStreams {
public:
    TcpStreams(FilterContext& ctx, const TcpStreamsConfig& config);
    ~TcpStreams();
    TcpStreams(const TcpStreams&) = delete;
    TcpStreams& operator=(const TcpStreams&) = delete;

    // Gives every packet of the burst its chunk (sl::stream_chunk).
    void process(const Burst& burst) noexcept;
    // Ends every flow: off the hot path, from finish().
    void end_all() noexcept;
    const FlowTable& flows() const noexcept;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace sl
