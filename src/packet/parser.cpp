#include "packet/parser.hpp"

#include <algorithm>
#include <cstring>

#include <netinet/in.h>
#include <pcap/dlt.h>
#include <rte_mbuf_ptype.h>

#include "packet/link_layer.hpp"
#include "sdk/packet_state.hpp"

namespace sl::packet {
namespace {

constexpr uint16_t kEtherIpv4 = 0x0800;
constexpr uint16_t kEtherIpv6 = 0x86dd;
constexpr uint16_t kEtherVlan = 0x8100;
constexpr uint16_t kEtherQinQ = 0x88a8;
constexpr uint16_t kEtherQinQOld = 0x9100;
constexpr int kMaxVlanTags = 2;
// Enough extension headers for any real packet; a longer chain is an attack
// or garbage and is not walked further.
constexpr int kMaxIpv6ExtHeaders = 8;

inline uint16_t be16(const uint8_t* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }

// The layer lengths and packet type, which end up in the mbuf's own fields.
struct Layers {
    uint8_t l2_len = 0;
    uint16_t l3_len = 0;
    uint8_t l4_len = 0;
    uint32_t packet_type = 0;
};

// The parser writes PacketMeta in place (in the mbuf's dynfield): copying a
// struct that was just written field by field stalls on store forwarding.
struct Cursor {
    const uint8_t* data;
    uint32_t length;      // bytes available to read here (at most kMaxHeaderBytes)
    uint32_t captured;    // bytes the packet holds in all
    bool truncated;       // the capture holds fewer bytes than the wire carried
    PacketMeta& meta;
    Layers& out;

    void fail(ParseError e) { meta.parse_error = e; }
};

void parse_transport(Cursor& c, uint32_t off, uint32_t end, uint8_t proto) {
    PacketMeta& m = c.meta;
    m.ip_proto = proto;
    m.l4_offset = static_cast<uint16_t>(off);
    m.payload_offset = static_cast<uint16_t>(off);
    if (m.flags & kIsLaterFragment) {
        m.l4_offset = kNoOffset;
        c.out.packet_type |= RTE_PTYPE_L4_FRAG;
        return;
    }
    uint32_t readable_end = std::min(end, c.length);
    uint32_t avail = readable_end > off ? readable_end - off : 0;
    const uint8_t* p = c.data + off;
    uint32_t l4 = 0;
    switch (proto) {
    case IPPROTO_TCP:
        if (avail < 20) return c.fail(ParseError::truncated_tcp);
        l4 = (p[12] >> 4) * 4u;
        if (l4 < 20 || l4 > avail) return c.fail(ParseError::bad_tcp_offset);
        c.out.packet_type |= RTE_PTYPE_L4_TCP;
        break;
    case IPPROTO_UDP:
        if (avail < 8) return c.fail(ParseError::truncated_udp);
        // A length below the header, or beyond the datagram that carries
        // it (a first fragment's covers the pieces still to come).
        if (uint16_t len = be16(p + 4);
            len != 0 && (len < 8 || (!(m.flags & kIsFragment) && len > (end > off ? end - off : 0))))
            return c.fail(ParseError::bad_udp_length);
        l4 = 8;
        c.out.packet_type |= RTE_PTYPE_L4_UDP;
        break;
    case IPPROTO_SCTP:
        if (avail < 12) return c.fail(ParseError::truncated_sctp);
        l4 = 12;
        c.out.packet_type |= RTE_PTYPE_L4_SCTP;
        break;
    case IPPROTO_ICMP:
    case IPPROTO_ICMPV6:
        if (avail < 8) return c.fail(ParseError::truncated_icmp);
        l4 = 8;
        c.out.packet_type |= RTE_PTYPE_L4_ICMP;
        break;
    default:
        // Another protocol: its payload starts right after the IP header.
        m.l4_offset = kNoOffset;
        return;
    }
    if (proto == IPPROTO_TCP || proto == IPPROTO_UDP || proto == IPPROTO_SCTP) {
        m.sport = be16(p);
        m.dport = be16(p + 2);
        m.flags |= kHasPorts;
    }
    c.out.l4_len = static_cast<uint8_t>(l4);
    m.payload_offset = static_cast<uint16_t>(off + l4);
}

void parse_ipv4(Cursor& c, uint32_t off) {
    PacketMeta& m = c.meta;
    m.l3_offset = static_cast<uint16_t>(off);
    m.payload_offset = static_cast<uint16_t>(off);
    uint32_t avail = c.length - off;
    const uint8_t* p = c.data + off;
    if (avail < 20) return c.fail(ParseError::truncated_ipv4);
    if ((p[0] >> 4) != 4) return c.fail(ParseError::bad_ipv4_version);
    uint32_t ihl = (p[0] & 0x0f) * 4u;
    if (ihl < 20 || ihl > avail) return c.fail(ParseError::bad_ipv4_ihl);
    uint32_t total = be16(p + 2);
    uint32_t held = c.captured - off;
    // A capture cut short by the snap length may hold less than total length.
    if (total < ihl || (total > held && !c.truncated)) return c.fail(ParseError::bad_ipv4_length);
    m.flags |= kIsIpv4;
    c.out.l3_len = static_cast<uint16_t>(ihl);
    c.out.packet_type |= ihl > 20 ? RTE_PTYPE_L3_IPV4_EXT : RTE_PTYPE_L3_IPV4;
    uint16_t frag = be16(p + 6);
    if (frag & 0x3fff) m.flags |= kIsFragment;
    if (frag & 0x1fff) m.flags |= kIsLaterFragment;
    // Ethernet pads short frames; the IP datagram ends at its total length.
    uint32_t end = off + std::min(total, held);
    parse_transport(c, off + ihl, end, p[9]);
}

void parse_ipv6(Cursor& c, uint32_t off) {
    PacketMeta& m = c.meta;
    m.l3_offset = static_cast<uint16_t>(off);
    m.payload_offset = static_cast<uint16_t>(off);
    uint32_t avail = c.length - off;
    const uint8_t* p = c.data + off;
    if (avail < 40) return c.fail(ParseError::truncated_ipv6);
    if ((p[0] >> 4) != 6) return c.fail(ParseError::unknown_ip_version);
    uint32_t total = 40u + be16(p + 4);
    uint32_t held = c.captured - off;
    if (total > held && !c.truncated) return c.fail(ParseError::bad_ipv6_length);
    m.flags |= kIsIpv6;
    uint32_t end = off + std::min(total, held);
    uint32_t readable_end = std::min(end, c.length);
    uint8_t next = p[6];
    uint32_t hdr = off + 40;
    bool has_ext = false;
    for (int walked = 0;; walked++) {
        bool is_ext = next == IPPROTO_HOPOPTS || next == IPPROTO_ROUTING || next == IPPROTO_FRAGMENT ||
                      next == IPPROTO_DSTOPTS || next == IPPROTO_AH;
        if (!is_ext) break;
        if (walked == kMaxIpv6ExtHeaders) {
            c.out.l3_len = static_cast<uint16_t>(std::min<uint32_t>(hdr - off, 511));
            return c.fail(ParseError::ipv6_ext_limit);
        }
        if (hdr + 8 > readable_end) return c.fail(ParseError::truncated_ipv6_ext);
        const uint8_t* e = c.data + hdr;
        uint32_t len = next == IPPROTO_FRAGMENT ? 8u : next == IPPROTO_AH ? (e[1] + 2u) * 4u : (e[1] + 1u) * 8u;
        if (hdr + len > readable_end) return c.fail(ParseError::truncated_ipv6_ext);
        bool later_piece = false;
        if (next == IPPROTO_FRAGMENT) {
            uint16_t frag = be16(e + 2);
            m.flags |= kIsFragment;
            later_piece = frag & 0xfff8;
            if (later_piece) m.flags |= kIsLaterFragment;
        }
        has_ext = true;
        next = e[0];
        hdr += len;
        // What follows a later piece's fragment header is payload, even
        // where the first piece has more extension headers there.
        if (later_piece) break;
    }
    // l3_len has 9 bits in rte_mbuf; the offsets in PacketMeta are exact.
    c.out.l3_len = static_cast<uint16_t>(std::min<uint32_t>(hdr - off, 511));
    c.out.packet_type |= has_ext ? RTE_PTYPE_L3_IPV6_EXT : RTE_PTYPE_L3_IPV6;
    parse_transport(c, hdr, end, next);
}

void parse_ethertype(Cursor& c, uint32_t off, uint16_t type) {
    if (type == kEtherIpv4) return parse_ipv4(c, off);
    if (type == kEtherIpv6) return parse_ipv6(c, off);
    c.meta.payload_offset = static_cast<uint16_t>(off);
}

void parse_ethernet(Cursor& c) {
    PacketMeta& m = c.meta;
    if (c.length < 14) return c.fail(ParseError::truncated_ethernet);
    uint32_t off = 12;
    uint16_t type = be16(c.data + off);
    int tags = 0;
    c.out.packet_type = RTE_PTYPE_L2_ETHER;
    while (type == kEtherVlan || type == kEtherQinQ || type == kEtherQinQOld) {
        if (tags == kMaxVlanTags) {
            c.out.l2_len = static_cast<uint8_t>(off);
            m.payload_offset = static_cast<uint16_t>(off);
            return c.fail(ParseError::vlan_depth);
        }
        if (off + 6 > c.length) {
            c.out.l2_len = static_cast<uint8_t>(off);
            m.payload_offset = static_cast<uint16_t>(off);
            return c.fail(ParseError::truncated_vlan);
        }
        uint16_t vid = be16(c.data + off + 2) & 0x0fff;
        if (tags == 0) {
            m.vlan_outer = vid;
            m.flags |= kHasVlan;
        } else {
            m.vlan_inner = vid;
            m.flags |= kHasQinQ;
        }
        tags++;
        off += 4;
        type = be16(c.data + off);
    }
    off += 2;
    c.out.l2_len = static_cast<uint8_t>(off);
    c.out.packet_type = tags == 0 ? RTE_PTYPE_L2_ETHER : tags == 1 ? RTE_PTYPE_L2_ETHER_VLAN : RTE_PTYPE_L2_ETHER_QINQ;
    parse_ethertype(c, off, type);
}

// Every other link type: its header says where IP starts (link_layer.hpp).
void parse_link(Cursor& c, int dlt) {
    LinkLayer link;
    switch (link_layer(c.data, c.length, dlt, link)) {
    case LinkStatus::truncated: return c.fail(ParseError::truncated_link);
    case LinkStatus::other:
        if (dlt == DLT_RAW || dlt == DLT_IPV4 || dlt == DLT_IPV6) return c.fail(ParseError::unknown_ip_version);
        c.meta.payload_offset = static_cast<uint16_t>(std::min(link.offset, c.captured));
        return;
    case LinkStatus::ok:
        // l2_len has 7 bits in rte_mbuf (for transmit offloads, which
        // these link types never use).
        c.out.l2_len = static_cast<uint8_t>(std::min<uint32_t>(link.offset, 127));
        return parse_ethertype(c, link.offset, link.ethertype);
    }
}

}  // namespace

namespace {

void parse_into(const uint8_t* data, uint32_t length, uint32_t captured, bool capture_truncated, int dlt,
                PacketMeta& m, Layers& layers) noexcept {
    m.l3_offset = m.l4_offset = kNoOffset;
    m.payload_offset = 0;
    m.vlan_outer = m.vlan_inner = 0;
    m.sport = m.dport = 0;
    m.ip_proto = 0;
    m.flags = 0;
    m.parse_error = ParseError::none;
    Cursor c{data, std::min(length, captured), captured, capture_truncated, m, layers};
    if (dlt == DLT_EN10MB) parse_ethernet(c);
    else if (link_type_supported(dlt)) parse_link(c, dlt);
}

}  // namespace

void parse_bytes(const uint8_t* data, uint32_t length, uint32_t captured, bool capture_truncated, int dlt,
                 Parsed& out) noexcept {
    Layers layers;
    parse_into(data, length, captured, capture_truncated, dlt, out.meta, layers);
    out.l2_len = layers.l2_len;
    out.l3_len = layers.l3_len;
    out.l4_len = layers.l4_len;
    out.packet_type = layers.packet_type;
}

void parse(rte_mbuf* m, const uint8_t* data, uint32_t length, int dlt) noexcept {
    PacketMeta& pm = detail::mutable_meta(m);
    Layers layers;
    parse_into(data, length, rte_pktmbuf_pkt_len(m), pm.wire_len > rte_pktmbuf_pkt_len(m), dlt, pm, layers);
    pm.flags |= kParsed;
    m->l2_len = layers.l2_len;
    m->l3_len = layers.l3_len;
    m->l4_len = layers.l4_len;
    m->packet_type = layers.packet_type;
}

}  // namespace sl::packet
