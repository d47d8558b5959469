// The per-packet metadata that the parser writes once, and that every filter
// reads instead of parsing again.
//
// A packet is parsed at the first node that reads what the parser finds, and
// only there: a graph in which no filter reads headers never touches packet
// bytes. A filter's type says whether it needs the parse (sl::kNoParse
// says it does not); one that does always gets parsed packets. wire_len is
// the source's and always valid; every other field is valid once the flags
// say kParsed.
//
// The layer lengths and packet type live in the mbuf's own fields (l2_len,
// l3_len, l4_len, packet_type) so that DPDK libraries understand them too; what
// has no home in rte_mbuf lives in a dynamic field registered by the runtime.
// Filters read it (sl::meta); only the parser and the sources write it.
#pragma once

#include <cstdint>

#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>

namespace sl {

// Why a packet's headers could not be parsed completely. The parser stops at
// the first problem, keeps what it learnt so far and never reads past the data.
enum class ParseError : uint8_t {
    none = 0,
    truncated_ethernet,
    truncated_vlan,
    vlan_depth,           // more than two stacked VLAN tags
    truncated_ipv4,
    bad_ipv4_version,
    bad_ipv4_ihl,         // IHL below 5 or header longer than the data
    bad_ipv4_length,      // total length below the header or beyond the data
    truncated_ipv6,
    bad_ipv6_length,
    ipv6_ext_limit,       // extension header chain longer than the bounded walk
    truncated_ipv6_ext,
    truncated_tcp,
    bad_tcp_offset,
    truncated_udp,
    bad_udp_length,
    truncated_icmp,
    truncated_sctp,
    unknown_ip_version,   // raw-IP link type whose first nibble is neither 4 nor 6
    truncated_link,       // a link header other than Ethernet's cut short (SLL, 802.11, radiotap, PPP, ...)
    count_
};

// Human-readable reason names, indexed by ParseError; used for counters.
const char* parse_error_name(ParseError e) noexcept;

inline constexpr uint16_t kNoOffset = 0xffff;

class Burst;

namespace detail {
struct PacketBookkeeping;
// What the runtime keeps of each packet while it is in the graph: its entry
// in the walk's shadow table, the graph's references to it and its fate so
// far. None of it is a filter's to read or write; sinks report what they did
// through sl::Burst.
class RuntimeFields {
    friend struct PacketBookkeeping;
    friend class sl::Burst;  // a filter's view finds the packet's shadow
    uint8_t shadow_slot_ = 0;
    uint8_t fate_ = 0;
    uint8_t graph_refs_ = 0;
};
}  // namespace detail

struct PacketMeta {
    uint32_t wire_len;       // length on the wire (may exceed the captured bytes)
    uint16_t l3_offset;      // kNoOffset when there is no IP header
    uint16_t l4_offset;      // kNoOffset when no transport header was parsed
    uint16_t payload_offset; // first byte after the last parsed header
    uint16_t vlan_outer;     // VLAN ids; valid when the flags say so
    uint16_t vlan_inner;
    uint16_t sport;          // host byte order; valid when has_ports
    uint16_t dport;
    uint8_t ip_proto;        // final protocol after IPv6 extension headers
    uint8_t flags;           // PacketFlag bits
    ParseError parse_error;
    detail::RuntimeFields runtime;
};
// DPDK's mbuf has 36 bytes for dynamic fields, shared with PMDs (the receive
// timestamp takes 8 of them): PacketMeta must not grow.
static_assert(sizeof(PacketMeta) == 24);

enum PacketFlag : uint8_t {
    kHasVlan = 1 << 0,
    kHasQinQ = 1 << 1,
    kIsIpv4 = 1 << 2,
    kIsIpv6 = 1 << 3,
    kHasPorts = 1 << 4,
    kIsFragment = 1 << 5,       // any fragment, first or later
    kIsLaterFragment = 1 << 6,  // offset > 0: no transport header here
    // The parser ran on this packet. Before, the offsets and the other flags
    // say nothing: no IP, no ports, no payload offset.
    kParsed = 1 << 7,
};

namespace detail {
// Offsets of PacketMeta and of DPDK's receive timestamp in the mbuf, set once
// by the runtime at start-up.
extern int packet_meta_offset;
extern int timestamp_offset;
}  // namespace detail

// The capture or receive time in nanoseconds since the epoch. It lives in
// DPDK's own receive-timestamp field (rte_mbuf_dyn_rx_timestamp_register),
// which PMDs with timestamp offload fill and other libraries read.
inline uint64_t timestamp_ns(const rte_mbuf* m) noexcept {
    return *RTE_MBUF_DYNFIELD(m, detail::timestamp_offset, const uint64_t*);
}

inline const PacketMeta& meta(const rte_mbuf* m) noexcept {
    return *RTE_MBUF_DYNFIELD(m, detail::packet_meta_offset, const PacketMeta*);
}

inline bool has_ip(const rte_mbuf* m) noexcept { return meta(m).flags & (kIsIpv4 | kIsIpv6); }
inline bool has_ports(const rte_mbuf* m) noexcept { return meta(m).flags & kHasPorts; }
inline bool has_vlan(const rte_mbuf* m) noexcept { return meta(m).flags & kHasVlan; }

}  // namespace sl
