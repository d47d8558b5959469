// Flows: which connection a packet belongs to, and state a filter keeps per
// connection.
//
// A flow is the traffic between two endpoints: IP addresses, the transport
// protocol, the ports where it has them (TCP, UDP, SCTP) and the VLAN ids.
// Both directions of a connection are one flow; a packet's direction is 0
// when it goes the way the flow's first packet went (client to server, for
// a connection whose SYN was seen) and 1 when it goes back.
//
// A filter that reads across packets keeps a table of its own on each worker
// (workers see disjoint flows: RSS on NICs, the same symmetric hash in
// sl-replay):
//
//   struct Seen { uint64_t bytes[2]; };
//   Bytes(sl::FilterContext& ctx)
//       : flows_(ctx, {.slot_bytes = sizeof(Seen), .on_end = &Bytes::ended, .user = this}) {}
//   void process(sl::Burst& burst) noexcept override {
//       sl::Flow flow[sl::kMaxBurst];
//       for (uint16_t i = 0, end; i < burst.size();)
//           for (end = flows_.lookup(burst, flow, i); i < end; i++)
//               if (flow[i].id != sl::kNoFlow)
//                   flows_.slot<Seen>(flow[i].id)->bytes[flow[i].direction] += sl::meta(burst[i]).wire_len;
//   }
//
// The table is bounded: a flow ends when it was idle for idle_timeout, some
// time after TCP closed it (FIN both ways, or RST), when a new SYN reuses its
// addresses and ports after it closed, when the table is full and it is the
// oldest one not seen in the current burst, and when the run ends
// (end_all(), in finish()). Each end calls on_end with the flow's slot, then
// the slot is zeroed for the next flow. Every end is counted by reason in
// the owning filter's counters (flows, flow_idle, flow_closed, flow_reused,
// flow_evicted, flow_table_full).
//
// The table reads packets through the owner's Burst::view(): the owner
// declares at least Access::headers.
#pragma once

#include <cstdint>
#include <memory>

#include <sl/burst.hpp>

namespace sl {

class FilterContext;

inline constexpr uint32_t kNoFlow = UINT32_MAX;

struct Flow {
    uint32_t id = kNoFlow;  // below the table's capacity; kNoFlow: no flow (not IP, or no room)
    uint8_t direction = 0;  // 0: as the flow's first packet went; 1: back
    bool is_new = false;    // this packet started the flow
};

// Why a flow ended.
enum class FlowEnd : uint8_t {
    idle,     // nothing seen for idle_timeout
    closed,   // closed_timeout after TCP closed it
    reused,   // a new connection (SYN) with the same endpoints after it closed
    evicted,  // the table was full and a new flow needed its place
    finish,   // the run ended
};

// The two endpoints of a flow: [0] sent the flow's first packet.
struct FlowEndpoints {
    uint8_t addr[2][16];  // IPv4 addresses in the first 4 bytes, network byte order
    uint16_t port[2];     // host byte order; 0 for protocols without ports
    uint16_t vlan_outer;  // 0 when untagged
    uint16_t vlan_inner;
    uint8_t proto;        // IP protocol
    bool ipv6;
};

using FlowEndHook = void (*)(void* user, uint32_t id, void* slot, FlowEnd why);

struct FlowTableConfig {
    uint32_t capacity = 65536;                     // flows at once
    uint64_t idle_timeout_ns = 120'000'000'000;    // 2 minutes without a packet
    uint64_t closed_timeout_ns = 10'000'000'000;   // after FIN both ways or RST
    // (Timeouts are kept in ticks of 2^20 ns, about a millisecond, and at
    // most 26 days.)
    uint32_t slot_bytes = 0;                       // the owner's state per flow (its sizeof), zeroed at its start
    FlowEndHook on_end = nullptr;                  // called before a flow's slot is reused
    void* user = nullptr;                          // on_end's first argument
    bool ports_only = false;                       // packets without ports (ICMP, later fragments) get no flow
};

class FlowTable {
public:
    // Throws sl::ConfigError for a capacity it cannot hold, sl::RuntimeError
    // when there is no memory for it.
    FlowTable(FilterContext& ctx, const FlowTableConfig& config);
    ~FlowTable();
    FlowTable(const FlowTable&) = delete;
    FlowTable& operator=(const FlowTable&) = delete;

    // The flow of packets [from, end) of the burst (flows[i] for burst[i]),
    // creating flows for new ones; packets without IP, and IPv6 packets
    // between IPv4-mapped addresses (::ffff:a.b.c.d, which RFC 4291 keeps
    // off the wire; their key would be an IPv4 flow's), get kNoFlow. Returns
    // `end`: the burst's size, or the packet before which it stopped because
    // that packet starts a new connection in the place of one that packets
    // before it in this call belong to. Handle [from, end), then call again
    // from `end`:
    //
    //   for (uint16_t from = 0, end; from < burst.size(); from = end)
    //       for (end = flows_.lookup(burst, flow, from); from < end; from++) use(from, flow[from]);
    //
    // Time is the packets' timestamps: flows idle for longer than their
    // timeout end first. Bulk hash lookups; no allocation.
    uint16_t lookup(const Burst& burst, Flow* flows, uint16_t from = 0) noexcept;

    void* slot(uint32_t id) noexcept;
    template <typename T>
    T* slot(uint32_t id) noexcept {
        return static_cast<T*>(slot(id));
    }
    // The endpoints of flow `id`, [0] being the one that sent its first packet.
    FlowEndpoints endpoints(uint32_t id) const noexcept;
    // Which of the key's endpoints sent first, and the endpoints as they
    // were when it did: a connection that takes a closed one's place in
    // the same burst may have the other endpoint send first.
    bool b_sent_first(uint32_t id) const noexcept;
    FlowEndpoints endpoints(uint32_t id, bool b_sent_first) const noexcept;
    // Flows alive now, and the most there can be (ids are below it).
    uint32_t size() const noexcept;
    uint32_t capacity() const noexcept;
    // Ends every flow (FlowEnd::finish). Off the hot path: call it from finish().
    void end_all() noexcept;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace sl
