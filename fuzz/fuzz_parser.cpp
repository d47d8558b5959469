// The packet parser on fuzzed frames of every link type it reads: it must
// stay within the bytes it was given and leave offsets that lie within them.
#include <pcap/dlt.h>

#include <cstddef>
#include <cstdint>
#include <algorithm>
#include <cstdlib>

#include "packet/flow_hash.hpp"
#include "packet/parser.hpp"

namespace {

constexpr int kLinkTypes[] = {DLT_EN10MB, DLT_RAW, DLT_LINUX_SLL, DLT_LINUX_SLL2, DLT_NULL, DLT_LOOP,
                              DLT_IEEE802_11, DLT_IEEE802_11_RADIO, DLT_PPP, DLT_IPV4, DLT_IPV6};

void check_within(uint32_t offset, uint32_t captured) {
    if (offset != sl::kNoOffset && offset > captured) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 2) return 0;
    // The first byte picks the link type and whether only the headers were
    // copied (as the hybrid shadow gives the parser the first line).
    const int dlt = kLinkTypes[data[0] % (sizeof(kLinkTypes) / sizeof(kLinkTypes[0]))];
    const bool headers_only = data[0] & 0x80;
    const bool capture_truncated = data[0] & 0x40;
    data++;
    size--;
    auto captured = static_cast<uint32_t>(size);
    uint32_t length = headers_only ? std::min<uint32_t>(captured, 64) : captured;
    sl::packet::Parsed parsed;
    sl::packet::parse_bytes(data, length, captured, capture_truncated, dlt, parsed);
    const sl::PacketMeta& m = parsed.meta;
    check_within(m.l3_offset, captured);
    check_within(m.l4_offset, captured);
    check_within(m.payload_offset, captured);
    volatile uint32_t hash = sl::packet::flow_hash(data, length, captured, dlt);
    (void)hash;
    return 0;
}
