#include "packet/flow_hash.hpp"

#include <netinet/in.h>
#include <pcap/dlt.h>

#include <cstring>

#include <rte_hash_crc.h>

#include "packet/link_layer.hpp"

namespace sl::packet {
namespace {

constexpr uint16_t kEtherIpv4 = 0x0800;
constexpr uint16_t kEtherIpv6 = 0x86dd;
constexpr int kMaxTags = 2;
constexpr int kMaxIpv6Extensions = 8;

uint16_t be16(const uint8_t* p) noexcept { return static_cast<uint16_t>(p[0] << 8 | p[1]); }

// rte_hash_crc() loads words straight from the pointer, and addresses in a
// frame are 2-byte aligned at best: load them with memcpy.
uint32_t crc_of_address(const uint8_t* p, uint32_t size, uint32_t seed) noexcept {
    if (size == 4) {
        uint32_t v4;
        std::memcpy(&v4, p, sizeof(v4));
        return rte_hash_crc_4byte(v4, seed);
    }
    uint64_t v6[2];
    std::memcpy(v6, p, sizeof(v6));
    return rte_hash_crc_8byte(v6[1], rte_hash_crc_8byte(v6[0], seed));
}

// Where the IP header starts and its version, or false.
bool find_ip(const uint8_t* data, uint32_t length, int dlt, uint32_t& at, uint8_t& version) noexcept {
    uint16_t type;
    if (dlt == DLT_EN10MB) {
        at = 12;
        if (length < 14) return false;
        type = be16(data + 12);
        for (int tags = 0; (type == 0x8100 || type == 0x88a8 || type == 0x9100) && tags < kMaxTags; tags++) {
            at += 4;
            if (at + 2 > length) return false;
            type = be16(data + at);
        }
        at += 2;
    } else {
        LinkLayer link;
        if (link_layer(data, length, dlt, link) != LinkStatus::ok) return false;
        at = link.offset;
        type = link.ethertype;
    }
    if (type == kEtherIpv4) version = 4;
    else if (type == kEtherIpv6) version = 6;
    else return false;
    return true;
}

}  // namespace

// Its own short walk to the ports rather than the parser's: dealing a record
// costs this walk for every record of the capture, the parser's checks are
// for filters, and a malformed packet only needs to hash the same way each
// time it is seen.
uint32_t flow_hash(const uint8_t* data, uint32_t length, uint32_t captured, int dlt, bool by_ports) noexcept {
    if (length > captured) length = captured;
    uint32_t at = 0;
    uint8_t version = 0;
    if (!find_ip(data, length, dlt, at, version)) return 0;
    const uint8_t* ip = data + at;
    uint32_t size, addresses, transport;
    uint8_t proto;
    bool fragment;
    if (version == 4) {
        if (at + 20 > length || (ip[0] >> 4) != 4) return 0;
        size = 4;
        addresses = at + 12;
        transport = at + (ip[0] & 0x0f) * 4u;
        proto = ip[9];
        fragment = be16(ip + 6) & 0x3fff;
    } else {
        if (at + 40 > length || (ip[0] >> 4) != 6) return 0;
        size = 16;
        addresses = at + 8;
        transport = at + 40;
        proto = ip[6];
        fragment = false;
        for (int k = 0; k < kMaxIpv6Extensions; k++) {
            if (proto != IPPROTO_HOPOPTS && proto != IPPROTO_ROUTING && proto != IPPROTO_DSTOPTS &&
                proto != IPPROTO_FRAGMENT && proto != IPPROTO_AH)
                break;
            if (transport + 8 > length) break;
            const uint8_t* e = data + transport;
            if (proto == IPPROTO_FRAGMENT) {
                // What follows is the same for every piece only up to here:
                // a later piece carries payload where the first has headers.
                fragment = true;
                proto = e[0];
                break;
            }
            transport += proto == IPPROTO_AH ? (e[1] + 2u) * 4u : (e[1] + 1u) * 8u;
            proto = e[0];
        }
    }
    // Each end hashed on its own, address then port, and the two added: the
    // same whichever way the packet goes. Fragments hash by their
    // addresses alone, so that a datagram's pieces meet; with `by_ports`
    // false every packet does, so that the datagram they make meets the
    // rest of its flow.
    bool ports = by_ports && !fragment && (proto == IPPROTO_TCP || proto == IPPROTO_UDP || proto == IPPROTO_SCTP) &&
                 transport + 4 <= length;
    uint32_t source = crc_of_address(data + addresses, size, proto);
    uint32_t destination = crc_of_address(data + addresses + size, size, proto);
    if (ports) {
        source = rte_hash_crc_2byte(be16(data + transport), source);
        destination = rte_hash_crc_2byte(be16(data + transport + 2), destination);
    }
    // A last round spreads the sum over every bit (the owner is taken from
    // the top bits).
    return rte_hash_crc_4byte(source + destination, proto);
}

}  // namespace sl::packet
