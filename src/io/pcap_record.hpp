// What a nanosecond pcap record is made of, for the writers that build
// records in memory of their own (sl/pcap_writer.hpp, io/ordered_output.hpp).
#pragma once

#include <rte_mbuf.h>

#include <algorithm>
#include <cstdint>
#include <cstring>

namespace sl::io {

inline constexpr size_t kPcapRecordHeader = 16;

// The record header at `at`: seconds, nanoseconds, captured and wire length
// (never below the captured length, as libpcap has it).
inline void put_pcap_record_header(uint8_t* at, uint64_t timestamp_ns, uint32_t captured, uint32_t wire_len) noexcept {
    uint32_t h[4] = {static_cast<uint32_t>(timestamp_ns / 1000000000u),
                     static_cast<uint32_t>(timestamp_ns % 1000000000u), captured,
                     wire_len < captured ? captured : wire_len};
    std::memcpy(at, h, sizeof(h));
}

// The packet's first `length` bytes, segment by segment, into `out`.
inline void copy_packet_bytes(const rte_mbuf* m, uint8_t* out, uint32_t length) noexcept {
    uint32_t left = length;
    for (const rte_mbuf* seg = m; seg != nullptr && left > 0; seg = seg->next) {
        uint32_t take = std::min<uint32_t>(seg->data_len, left);
        std::memcpy(out, rte_pktmbuf_mtod(seg, const uint8_t*), take);
        out += take;
        left -= take;
    }
    // A chain shorter than its pkt_len claims is padded rather than trusted.
    if (left) std::memset(out, 0, left);
}

}  // namespace sl::io
