// Where a frame's network layer starts, for the link types whose headers
// streamline reads besides Ethernet: Linux cooked captures (SLL, SLL2), raw
// IP, BSD loopback (null, loop), 802.11 with a radiotap header or none, and
// PPP. The parser and the flow hash that deals records to workers both
// start here; Ethernet, with its VLAN tags, each walks itself (the parser
// records the tags, the hash only steps over them).
#pragma once

#include <cstdint>

namespace sl::packet {

// The link types link_layer() reads.
bool link_type_supported(int dlt) noexcept;

struct LinkLayer {
    uint32_t offset = 0;     // where the network layer starts
    uint16_t ethertype = 0;  // what it is, as an ethertype (0x0800 IPv4, 0x86dd IPv6); 0 when unknown
};

enum class LinkStatus : uint8_t {
    ok,         // offset and ethertype are set
    truncated,  // the frame ends inside the link header
    other,      // no network layer this parser reads (not IP, encrypted 802.11, management frames)
};

// Any link type but Ethernet (which gives LinkStatus::other).
LinkStatus link_layer(const uint8_t* data, uint32_t length, int dlt, LinkLayer& out) noexcept;

}  // namespace sl::packet
