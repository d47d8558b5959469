// Parses a packet's headers once, where it enters the graph, and stores the
// result in the mbuf (l2/l3/l4 lengths, packet type) and in sl::PacketMeta.
#pragma once

#include <cstdint>

#include <rte_mbuf.h>

#include <sl/packet.hpp>

#include "packet/link_layer.hpp"

namespace sl::packet {

// The link types the parser understands are link_layer.hpp's
// link_type_supported(); others are passed through with only the wire
// length known, and filters that read headers refuse them.

// Parses `m` as a frame of link type `dlt` (DLT_EN10MB, DLT_RAW, ...) from its
// first `length` bytes at `data` (in place, the packet's shadow, or a linear
// copy of a chain: the parse node reads them through its PacketView). Resets
// every parse field of the metadata first; keeps timestamp and wire length.
// Never reads beyond `length` and never fails: a malformed header sets
// meta(m).parse_error and parsing stops there.
void parse(rte_mbuf* m, const uint8_t* data, uint32_t length, int dlt) noexcept;

// Headers beyond this many bytes are not parsed (a pathological IPv6 chain).
inline constexpr uint32_t kMaxHeaderBytes = 512;

// The same on plain bytes, for the tests and for callers without an mbuf.
struct Parsed {
    PacketMeta meta{};
    uint8_t l2_len = 0;
    uint16_t l3_len = 0;
    uint8_t l4_len = 0;
    uint32_t packet_type = 0;
};
// `length` bytes of `data` are readable; the packet holds `captured` bytes in
// all (length may be less when only the headers were copied).
void parse_bytes(const uint8_t* data, uint32_t length, uint32_t captured, bool capture_truncated, int dlt,
                 Parsed& out) noexcept;

}  // namespace sl::packet
