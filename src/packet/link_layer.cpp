#include "packet/link_layer.hpp"

#include <pcap/dlt.h>

namespace sl::packet {
namespace {

constexpr uint16_t kEtherIpv4 = 0x0800;
constexpr uint16_t kEtherIpv6 = 0x86dd;

uint16_t be16(const uint8_t* p) noexcept { return static_cast<uint16_t>(p[0] << 8 | p[1]); }
uint16_t le16(const uint8_t* p) noexcept { return static_cast<uint16_t>(p[1] << 8 | p[0]); }
uint32_t le32(const uint8_t* p) noexcept {
    return uint32_t{p[0]} | uint32_t{p[1]} << 8 | uint32_t{p[2]} << 16 | uint32_t{p[3]} << 24;
}

LinkStatus at(LinkLayer& out, uint32_t offset, uint16_t ethertype) noexcept {
    out.offset = offset;
    out.ethertype = ethertype;
    return ethertype == kEtherIpv4 || ethertype == kEtherIpv6 ? LinkStatus::ok : LinkStatus::other;
}

// BSD's address families for IPv6 differ by system; tcpdump knows them all.
uint16_t ethertype_of_family(uint32_t family) noexcept {
    switch (family) {
    case 2: return kEtherIpv4;                          // AF_INET everywhere
    case 10: case 24: case 28: case 30: return kEtherIpv6;  // Linux, NetBSD/OpenBSD, FreeBSD, Darwin
    default: return 0;
    }
}

// An 802.11 frame from offset `off`: data frames carry an LLC/SNAP header
// with the ethertype. `pad`: the radiotap header says the 802.11 header is
// padded to a multiple of 4 bytes.
LinkStatus ieee802_11(const uint8_t* data, uint32_t length, uint32_t off, bool pad, LinkLayer& out) noexcept {
    if (off + 2 > length) return LinkStatus::truncated;
    const uint8_t fc0 = data[off], flags = data[off + 1];
    const unsigned type = (fc0 >> 2) & 3, subtype = fc0 >> 4;
    if (type != 2 || (subtype & 0x4)) return at(out, off, 0);  // not data, or data without a body
    uint32_t header = 24;
    if ((flags & 0x03) == 0x03) header += 6;                // to and from the distribution system: 4 addresses
    if (subtype & 0x8) header += (flags & 0x80) ? 6 : 2;    // QoS control, and HT control with the order bit
    if (pad) header = (header + 3) & ~3u;
    if (off + header > length) return LinkStatus::truncated;
    if (flags & 0x40) return at(out, off + header, 0);      // protected: the body is encrypted
    const uint8_t* llc = data + off + header;
    if (off + header + 8 > length) return at(out, off + header, 0);  // too short for LLC/SNAP and IP
    if (llc[0] != 0xaa || llc[1] != 0xaa || llc[2] != 0x03) return at(out, off + header, 0);
    return at(out, off + header + 8, be16(llc + 6));
}

// A radiotap header, then 802.11. Its flags field (the second, after an
// 8-aligned time stamp) says whether the 802.11 header is padded.
LinkStatus radiotap(const uint8_t* data, uint32_t length, LinkLayer& out) noexcept {
    if (length < 8) return LinkStatus::truncated;
    const uint32_t len = le16(data + 2);
    if (data[0] != 0 || len < 8) return at(out, 0, 0);
    if (len > length) return LinkStatus::truncated;
    uint32_t present = le32(data + 4), field = 8;
    for (uint32_t word = present; word & 0x80000000u; field += 4) {  // further presence words
        if (field + 4 > len) return at(out, len, 0);
        word = le32(data + field);
    }
    bool pad = false;
    if (present & 0x1) field = ((field + 7) & ~7u) + 8;  // TSFT
    if ((present & 0x2) && field < len) pad = data[field] & 0x20;
    return ieee802_11(data, length, len, pad, out);
}

}  // namespace

bool link_type_supported(int dlt) noexcept {
    switch (dlt) {
    case DLT_EN10MB: case DLT_RAW: case DLT_IPV4: case DLT_IPV6: case DLT_LINUX_SLL: case DLT_LINUX_SLL2:
    case DLT_NULL: case DLT_LOOP: case DLT_IEEE802_11: case DLT_IEEE802_11_RADIO: case DLT_PPP:
        return true;
    default:
        return false;
    }
}

LinkStatus link_layer(const uint8_t* data, uint32_t length, int dlt, LinkLayer& out) noexcept {
    switch (dlt) {
    case DLT_RAW:
    case DLT_IPV4:
    case DLT_IPV6:
        if (length < 1) return LinkStatus::truncated;
        return at(out, 0, (data[0] >> 4) == 4 ? kEtherIpv4 : (data[0] >> 4) == 6 ? kEtherIpv6 : 0);
    case DLT_LINUX_SLL:  // 16 bytes, the protocol last
        if (length < 16) return LinkStatus::truncated;
        return at(out, 16, be16(data + 14));
    case DLT_LINUX_SLL2:  // 20 bytes, the protocol first
        if (length < 20) return LinkStatus::truncated;
        return at(out, 20, be16(data));
    case DLT_NULL: {  // the address family in the capturing host's byte order
        if (length < 4) return LinkStatus::truncated;
        uint32_t family = le32(data);
        if (family & 0xffff0000u) family = __builtin_bswap32(family);
        return at(out, 4, ethertype_of_family(family));
    }
    case DLT_LOOP:  // the address family in network byte order
        if (length < 4) return LinkStatus::truncated;
        return at(out, 4, ethertype_of_family(__builtin_bswap32(le32(data))));
    case DLT_PPP: {  // HDLC-like framing: ff 03 may lead, then a 1- or 2-byte protocol
        uint32_t off = length >= 2 && data[0] == 0xff && data[1] == 0x03 ? 2 : 0;
        if (off + 1 > length) return LinkStatus::truncated;
        uint16_t protocol = data[off];
        if (!(protocol & 1)) {  // not compressed: two bytes
            if (off + 2 > length) return LinkStatus::truncated;
            protocol = be16(data + off);
            off++;
        }
        off++;
        return at(out, off, protocol == 0x21 ? kEtherIpv4 : protocol == 0x57 ? kEtherIpv6 : 0);
    }
    case DLT_IEEE802_11: return ieee802_11(data, length, 0, false, out);
    case DLT_IEEE802_11_RADIO: return radiotap(data, length, out);
    default: return at(out, 0, 0);
    }
}

}  // namespace sl::packet
