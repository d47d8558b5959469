// The packet parser on crafted frames: what it finds, and that it stops at
// the first malformed header without reading past the data.
#include <gtest/gtest.h>

#include <netinet/in.h>
#include <pcap/dlt.h>
#include <rte_mbuf_ptype.h>

#include <algorithm>
#include <vector>

#include "packet/flow_hash.hpp"
#include "packet/parser.hpp"

using namespace sl;
using Bytes = std::vector<uint8_t>;

namespace {

void put16(Bytes& b, uint16_t v) {
    b.push_back(uint8_t(v >> 8));
    b.push_back(uint8_t(v));
}

Bytes ethernet(uint16_t type, std::vector<uint16_t> vlans = {}) {
    Bytes b(12, 0x02);
    for (size_t i = 0; i < vlans.size(); i++) {
        put16(b, i == 0 && vlans.size() == 2 ? 0x88a8 : 0x8100);
        put16(b, vlans[i]);
    }
    put16(b, type);
    return b;
}

Bytes ipv4(uint8_t proto, size_t payload, uint8_t ihl_words = 5, uint16_t frag = 0) {
    Bytes b = {uint8_t(0x40 | ihl_words), 0};
    put16(b, uint16_t(ihl_words * 4 + payload));
    put16(b, 1);
    put16(b, frag);
    b.insert(b.end(), {64, proto, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2});
    b.resize(ihl_words * 4u, 1);  // options
    return b;
}

Bytes ipv6(uint8_t next, size_t payload) {
    Bytes b = {0x60, 0, 0, 0};
    put16(b, uint16_t(payload));
    b.push_back(next);
    b.push_back(64);
    b.resize(40, 0x20);
    return b;
}

Bytes tcp(uint16_t sport, uint16_t dport, uint8_t offset_words = 5) {
    Bytes b;
    put16(b, sport);
    put16(b, dport);
    b.resize(12, 0);
    b.push_back(uint8_t(offset_words << 4));
    b.resize(offset_words * 4u, 0);
    return b;
}

Bytes udp(uint16_t sport, uint16_t dport, uint16_t length) {
    Bytes b;
    put16(b, sport);
    put16(b, dport);
    put16(b, length);
    put16(b, 0);
    return b;
}

Bytes cat(std::initializer_list<Bytes> parts) {
    Bytes out;
    for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
    return out;
}

packet::Parsed parse(const Bytes& b, int dlt = DLT_EN10MB, bool truncated = false) {
    packet::Parsed p;
    packet::parse_bytes(b.data(), uint32_t(b.size()), uint32_t(b.size()), truncated, dlt, p);
    return p;
}

}  // namespace

TEST(Parser, Ipv4Tcp) {
    auto p = parse(cat({ethernet(0x0800), ipv4(IPPROTO_TCP, 20 + 5), tcp(1234, 80), Bytes(5, 'x')}));
    EXPECT_EQ(p.meta.parse_error, ParseError::none);
    EXPECT_EQ(p.l2_len, 14);
    EXPECT_EQ(p.l3_len, 20);
    EXPECT_EQ(p.l4_len, 20);
    EXPECT_EQ(p.meta.l3_offset, 14);
    EXPECT_EQ(p.meta.l4_offset, 34);
    EXPECT_EQ(p.meta.payload_offset, 54);
    EXPECT_EQ(p.meta.ip_proto, IPPROTO_TCP);
    EXPECT_EQ(p.meta.sport, 1234);
    EXPECT_EQ(p.meta.dport, 80);
    EXPECT_EQ(p.packet_type, RTE_PTYPE_L2_ETHER | RTE_PTYPE_L3_IPV4 | RTE_PTYPE_L4_TCP);
}

TEST(Parser, Ipv4OptionsAndEthernetPadding) {
    Bytes frame = cat({ethernet(0x0800), ipv4(IPPROTO_UDP, 8, 6), udp(1, 53, 8)});
    frame.resize(64, 0);  // padded to the Ethernet minimum
    auto p = parse(frame);
    EXPECT_EQ(p.meta.parse_error, ParseError::none);
    EXPECT_EQ(p.l3_len, 24);
    EXPECT_EQ(p.packet_type & RTE_PTYPE_L3_MASK, RTE_PTYPE_L3_IPV4_EXT);
    EXPECT_EQ(p.meta.dport, 53);
    EXPECT_EQ(p.meta.payload_offset, 14 + 24 + 8);
}

TEST(Parser, VlanAndQinQ) {
    auto one = parse(cat({ethernet(0x0800, {100}), ipv4(IPPROTO_UDP, 8), udp(1, 2, 8)}));
    EXPECT_EQ(one.l2_len, 18);
    EXPECT_TRUE(one.meta.flags & kHasVlan);
    EXPECT_EQ(one.meta.vlan_outer, 100);
    EXPECT_EQ(one.packet_type & RTE_PTYPE_L2_MASK, RTE_PTYPE_L2_ETHER_VLAN);
    auto two = parse(cat({ethernet(0x86dd, {100, 20}), ipv6(IPPROTO_TCP, 20), tcp(5, 6)}));
    EXPECT_EQ(two.l2_len, 22);
    EXPECT_EQ(two.meta.vlan_outer, 100);
    EXPECT_EQ(two.meta.vlan_inner, 20);
    EXPECT_TRUE(two.meta.flags & kHasQinQ);
    EXPECT_EQ(two.meta.dport, 6);
    EXPECT_EQ(two.packet_type & RTE_PTYPE_L2_MASK, RTE_PTYPE_L2_ETHER_QINQ);
}

TEST(Parser, ThreeVlanTagsAreTooDeep) {
    Bytes frame = ethernet(0x8100, {1, 2});
    frame.resize(frame.size() - 2);
    put16(frame, 0x8100);
    put16(frame, 3);
    put16(frame, 0x0800);
    auto p = parse(cat({frame, ipv4(IPPROTO_UDP, 8), udp(1, 2, 8)}));
    EXPECT_EQ(p.meta.parse_error, ParseError::vlan_depth);
    EXPECT_EQ(p.meta.l3_offset, kNoOffset);
}

TEST(Parser, Ipv6ExtensionHeadersAndFragments) {
    Bytes hop = {IPPROTO_ROUTING, 0, 1, 4, 0, 0, 0, 0};
    Bytes routing = {IPPROTO_FRAGMENT, 0, 0, 0, 0, 0, 0, 0};
    Bytes first_fragment = {IPPROTO_UDP, 0, 0, 1, 0, 0, 0, 7};  // offset 0, more fragments
    auto p = parse(cat({ethernet(0x86dd), ipv6(IPPROTO_HOPOPTS, 24 + 8), hop, routing, first_fragment, udp(7, 9, 8)}));
    EXPECT_EQ(p.meta.parse_error, ParseError::none);
    EXPECT_EQ(p.meta.ip_proto, IPPROTO_UDP);
    EXPECT_EQ(p.meta.l4_offset, 14 + 40 + 24);
    EXPECT_EQ(p.meta.dport, 9);
    EXPECT_TRUE(p.meta.flags & kIsFragment);
    EXPECT_FALSE(p.meta.flags & kIsLaterFragment);
    EXPECT_EQ(p.packet_type & RTE_PTYPE_L3_MASK, RTE_PTYPE_L3_IPV6_EXT);

    Bytes later = {IPPROTO_UDP, 0, 0x01, 0x00, 0, 0, 0, 7};  // offset 32
    auto q = parse(cat({ethernet(0x86dd), ipv6(IPPROTO_FRAGMENT, 8 + 8), later, Bytes(8, 0)}));
    EXPECT_TRUE(q.meta.flags & kIsLaterFragment);
    EXPECT_FALSE(q.meta.flags & kHasPorts);
    EXPECT_EQ(q.meta.l4_offset, kNoOffset);
    EXPECT_EQ(q.meta.payload_offset, 14 + 40 + 8);

    // A later piece whose fragment header names a destination-options
    // header (it sits in the first piece): what follows here is payload,
    // not a header to walk.
    Bytes later_dstopts = {IPPROTO_DSTOPTS, 0, 0x01, 0x00, 0, 0, 0, 7};
    auto r = parse(cat({ethernet(0x86dd), ipv6(IPPROTO_FRAGMENT, 8 + 4), later_dstopts, Bytes(4, 0xff)}));
    EXPECT_EQ(r.meta.parse_error, ParseError::none);
    EXPECT_TRUE(r.meta.flags & kIsLaterFragment);
    EXPECT_EQ(r.meta.payload_offset, 14 + 40 + 8);
}

TEST(Parser, Ipv6ChainLongerThanTheWalkStops) {
    Bytes chain;
    for (int i = 0; i < 9; i++) chain.insert(chain.end(), {IPPROTO_HOPOPTS, 0, 1, 4, 0, 0, 0, 0});
    auto p = parse(cat({ethernet(0x86dd), ipv6(IPPROTO_HOPOPTS, chain.size()), chain}));
    EXPECT_EQ(p.meta.parse_error, ParseError::ipv6_ext_limit);
}

TEST(Parser, Ipv4LaterFragmentHasNoTransportHeader) {
    auto p = parse(cat({ethernet(0x0800), ipv4(IPPROTO_UDP, 16, 5, 0x0010), Bytes(16, 0)}));
    EXPECT_TRUE(p.meta.flags & kIsLaterFragment);
    EXPECT_FALSE(p.meta.flags & kHasPorts);
    EXPECT_EQ(p.meta.ip_proto, IPPROTO_UDP);
    EXPECT_EQ(p.packet_type & RTE_PTYPE_L4_MASK, RTE_PTYPE_L4_FRAG);
}

TEST(Parser, MalformedHeadersAreNamed) {
    Bytes good = cat({ethernet(0x0800), ipv4(IPPROTO_TCP, 20), tcp(1, 2)});
    auto with = [&](size_t offset, uint8_t value) {
        Bytes b = good;
        b[offset] = value;
        return parse(b).meta.parse_error;
    };
    EXPECT_EQ(with(14, 0x43), ParseError::bad_ipv4_ihl);
    EXPECT_EQ(with(14, 0x4f), ParseError::bad_ipv4_ihl);
    EXPECT_EQ(with(14, 0x55), ParseError::bad_ipv4_version);
    EXPECT_EQ(with(16, 0xff), ParseError::bad_ipv4_length);
    EXPECT_EQ(with(46, 0x20), ParseError::bad_tcp_offset);
    EXPECT_EQ(with(46, 0xf0), ParseError::bad_tcp_offset);
    EXPECT_EQ(parse(Bytes(good.begin(), good.begin() + 20)).meta.parse_error, ParseError::truncated_ipv4);
    EXPECT_EQ(parse(Bytes(good.begin(), good.begin() + 40)).meta.parse_error, ParseError::bad_ipv4_length);
    EXPECT_EQ(parse(Bytes(good.begin(), good.begin() + 40), DLT_EN10MB, true).meta.parse_error,
              ParseError::truncated_tcp);
    EXPECT_EQ(parse(Bytes(good.begin(), good.begin() + 13)).meta.parse_error, ParseError::truncated_ethernet);
    Bytes short_udp = cat({ethernet(0x0800), ipv4(IPPROTO_UDP, 8), udp(1, 2, 4)});
    EXPECT_EQ(parse(short_udp).meta.parse_error, ParseError::bad_udp_length);
}

TEST(Parser, SnapLengthCutIsNotMalformed) {
    Bytes frame = cat({ethernet(0x0800), ipv4(IPPROTO_TCP, 20 + 1000), tcp(1, 80)});
    auto lying = parse(frame, DLT_EN10MB, false);
    EXPECT_EQ(lying.meta.parse_error, ParseError::bad_ipv4_length);
    auto cut = parse(frame, DLT_EN10MB, true);
    EXPECT_EQ(cut.meta.parse_error, ParseError::none);
    EXPECT_EQ(cut.meta.dport, 80);
}

TEST(Parser, RawIpLinkType) {
    auto v4 = parse(cat({ipv4(IPPROTO_UDP, 8), udp(5, 6, 8)}), DLT_RAW);
    EXPECT_EQ(v4.meta.l3_offset, 0);
    EXPECT_EQ(v4.meta.dport, 6);
    auto v6 = parse(cat({ipv6(IPPROTO_TCP, 20), tcp(7, 8)}), DLT_RAW);
    EXPECT_EQ(v6.meta.dport, 8);
    EXPECT_EQ(parse(Bytes{0x12, 0x34}, DLT_RAW).meta.parse_error, ParseError::unknown_ip_version);
}

TEST(Parser, AUdpLengthBeyondItsDatagramLies) {
    EXPECT_EQ(parse(cat({ethernet(0x0800), ipv4(IPPROTO_UDP, 38), udp(5, 53, 9000), Bytes(30, 0)})).meta.parse_error,
              ParseError::bad_udp_length);
    EXPECT_EQ(parse(cat({ethernet(0x0800), ipv4(IPPROTO_UDP, 38), udp(5, 53, 38), Bytes(30, 0)})).meta.parse_error,
              ParseError::none);
    // A first fragment's UDP length covers the pieces still to come.
    EXPECT_EQ(parse(cat({ethernet(0x0800), ipv4(IPPROTO_UDP, 38, 5, 0x2000), udp(5, 53, 3000), Bytes(30, 0)}))
                  .meta.parse_error,
              ParseError::none);
}

TEST(Parser, LinkHeadersParseWholeAndCutShortAreTruncatedLink) {
    // Whole frames of each link type with an IPv4/UDP datagram, then their
    // link headers cut to 0 and 1 bytes.
    const Bytes datagram = cat({ipv4(IPPROTO_UDP, 8), udp(5, 53, 8)});
    const Bytes llc = {0xaa, 0xaa, 3, 0, 0, 0, 8, 0};
    Bytes wifi = {0x08, 0x01, 0, 0};
    wifi.resize(24, 4);
    const std::pair<int, Bytes> links[] = {
        {DLT_LINUX_SLL, cat({Bytes(14, 1), Bytes{8, 0}})},
        {DLT_LINUX_SLL2, cat({Bytes{8, 0}, Bytes(18, 1)})},
        {DLT_NULL, Bytes{2, 0, 0, 0}},
        {DLT_LOOP, Bytes{0, 0, 0, 2}},
        {DLT_PPP, Bytes{0xff, 3, 0, 0x21}},
        {DLT_IEEE802_11, cat({wifi, llc})},
        {DLT_IEEE802_11_RADIO, cat({Bytes{0, 0, 8, 0, 0, 0, 0, 0}, wifi, llc})},
    };
    for (const auto& [dlt, header] : links) {
        auto whole = parse(cat({header, datagram}), dlt);
        EXPECT_EQ(whole.meta.parse_error, ParseError::none) << dlt;
        EXPECT_EQ(whole.meta.l3_offset, header.size()) << dlt;
        EXPECT_EQ(whole.meta.dport, 53) << dlt;
        for (size_t n = 0; n < 2 && n < header.size(); n++) {
            if (dlt == DLT_PPP && n == 1) continue;  // a lone 0xff reads as a 1-byte protocol field
            Bytes prefix(header.begin(), header.begin() + long(n));
            EXPECT_EQ(parse(prefix, dlt).meta.parse_error, ParseError::truncated_link) << dlt << " cut at " << n;
        }
    }
}

TEST(Parser, NonIpFramePassesWithPayloadAfterL2) {
    auto p = parse(cat({ethernet(0x0806), Bytes(28, 0)}));
    EXPECT_EQ(p.meta.parse_error, ParseError::none);
    EXPECT_EQ(p.meta.payload_offset, 14);
    EXPECT_FALSE(p.meta.flags & (kIsIpv4 | kIsIpv6));
}

TEST(Parser, EveryPrefixOfAFrameIsSafe) {
    // Each truncation of a QinQ IPv6 TCP frame parses without reading past
    // its end (ASan checks the reads in the sanitizer build).
    Bytes frame = cat({ethernet(0x86dd, {1, 2}), ipv6(IPPROTO_TCP, 20), tcp(1, 2)});
    for (size_t n = 0; n <= frame.size(); n++) {
        Bytes prefix(frame.begin(), frame.begin() + long(n));
        packet::Parsed p;
        packet::parse_bytes(prefix.data(), uint32_t(n), uint32_t(n), false, DLT_EN10MB, p);
        if (n < frame.size()) EXPECT_NE(p.meta.parse_error, ParseError::none) << n;
        else EXPECT_EQ(p.meta.parse_error, ParseError::none);
    }
}

// ---------------------------------------------------------------------------
// The flow hash that deals records to sl-replay's workers.

namespace {

// The same frame with source and destination swapped, addresses and ports.
Bytes reversed(Bytes frame, size_t l3, bool v6, bool ports) {
    size_t addresses = l3 + (v6 ? 8 : 12), size = v6 ? 16 : 4;
    std::swap_ranges(frame.begin() + long(addresses), frame.begin() + long(addresses + size),
                     frame.begin() + long(addresses + size));
    if (ports) {
        size_t transport = l3 + (v6 ? 40 : (frame[l3] & 0x0f) * 4u);
        std::swap_ranges(frame.begin() + long(transport), frame.begin() + long(transport + 2),
                         frame.begin() + long(transport + 2));
    }
    return frame;
}

uint32_t hash_of(const Bytes& b, int dlt = DLT_EN10MB) {
    return packet::flow_hash(b.data(), uint32_t(b.size()), uint32_t(b.size()), dlt);
}

Bytes ipv6_between(uint8_t next, size_t payload, uint8_t source, uint8_t destination) {
    Bytes b = ipv6(next, payload);
    std::fill(b.begin() + 8, b.begin() + 24, source);
    std::fill(b.begin() + 24, b.begin() + 40, destination);
    return b;
}

}  // namespace

TEST(FlowHash, BothDirectionsOfAConnectionHashAlike) {
    Bytes v4 = cat({ethernet(0x0800), ipv4(IPPROTO_TCP, 20), tcp(40000, 80)});
    EXPECT_EQ(hash_of(v4), hash_of(reversed(v4, 14, false, true)));
    EXPECT_NE(hash_of(v4), 0u);
    Bytes v6 = cat({ethernet(0x86dd), ipv6_between(IPPROTO_UDP, 8, 0x20, 0x30), udp(53, 5353, 8)});
    EXPECT_EQ(hash_of(v6), hash_of(reversed(v6, 14, true, true)));
    // Another port is another flow (almost always another hash).
    EXPECT_NE(hash_of(v4), hash_of(cat({ethernet(0x0800), ipv4(IPPROTO_TCP, 20), tcp(40001, 80)})));
    EXPECT_NE(hash_of(v6), hash_of(cat({ethernet(0x86dd), ipv6_between(IPPROTO_UDP, 8, 0x20, 0x31),
                                        udp(53, 5353, 8)})));
}

TEST(FlowHash, VlanTagsAndLinkTypesDoNotChangeTheFlow) {
    Bytes ip = cat({ipv4(IPPROTO_UDP, 8), udp(1, 2, 8)});
    uint32_t plain = hash_of(cat({ethernet(0x0800), ip}));
    EXPECT_EQ(hash_of(cat({ethernet(0x0800, {7}), ip})), plain);
    EXPECT_EQ(hash_of(cat({ethernet(0x0800, {7, 8}), ip})), plain);
    EXPECT_EQ(hash_of(ip, DLT_RAW), plain);
    Bytes sll(14, 0);
    put16(sll, 0x0800);
    EXPECT_EQ(hash_of(cat({sll, ip}), DLT_LINUX_SLL), plain);
}

TEST(FlowHash, FragmentsOfADatagramMeetWhateverTheyCarry) {
    // The first piece has the ports, a later one only payload: both hash by
    // the addresses, as the unfragmented datagram's other packets may not.
    Bytes first = cat({ethernet(0x0800), ipv4(IPPROTO_UDP, 16, 5, 0x2000), udp(1, 2, 40), Bytes(8, 0)});
    Bytes later = cat({ethernet(0x0800), ipv4(IPPROTO_UDP, 16, 5, 0x0002), Bytes(16, 0xee)});
    EXPECT_EQ(hash_of(first), hash_of(later));
    EXPECT_EQ(hash_of(first), hash_of(reversed(later, 14, false, false)));
    // IPv6: a fragment header, then a destination-options header in the
    // first piece only.
    Bytes fragment_header = {IPPROTO_DSTOPTS, 0, 0, 1, 0, 0, 0, 9};
    Bytes options = {IPPROTO_TCP, 0, 1, 4, 0, 0, 0, 0};
    Bytes first6 = cat({ethernet(0x86dd), ipv6_between(IPPROTO_FRAGMENT, 36, 1, 2), fragment_header, options,
                        tcp(1, 2)});
    Bytes later_header = {IPPROTO_DSTOPTS, 0, 0, 0x18, 0, 0, 0, 9};
    Bytes later6 = cat({ethernet(0x86dd), ipv6_between(IPPROTO_FRAGMENT, 24, 1, 2), later_header, Bytes(16, 0x77)});
    EXPECT_EQ(hash_of(first6), hash_of(later6));
}

TEST(FlowHash, FramesWithoutIpHashToZeroAndShortOnesAreSafe) {
    EXPECT_EQ(hash_of(cat({ethernet(0x0806), Bytes(28, 0)})), 0u);
    EXPECT_EQ(hash_of(Bytes{0x12, 0x34}, DLT_RAW), 0u);
    Bytes frame = cat({ethernet(0x86dd, {1, 2}), ipv6(IPPROTO_HOPOPTS, 28), Bytes{IPPROTO_TCP, 0, 0, 0, 0, 0, 0, 0},
                       tcp(1, 2)});
    for (size_t n = 0; n <= frame.size(); n++) {
        Bytes prefix(frame.begin(), frame.begin() + long(n));
        (void)hash_of(prefix);  // ASan checks the reads in the sanitizer build
    }
    // A record cut by the snap length hashes what was captured.
    Bytes tcp_frame = cat({ethernet(0x0800), ipv4(IPPROTO_TCP, 20), tcp(9, 10)});
    EXPECT_EQ(packet::flow_hash(tcp_frame.data(), 1000, uint32_t(tcp_frame.size()), DLT_EN10MB), hash_of(tcp_frame));
}
