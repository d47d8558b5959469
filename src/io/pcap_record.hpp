// What a capture file's records are made of, for the writers that build
// them in memory of their own (sl/pcap_writer.hpp, io/ordered_output.hpp):
// nanosecond pcap, or pcapng when the file's name ends in ".pcapng".
#pragma once

#include <rte_mbuf.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace sl::io {

enum class FileFormat : uint8_t { pcap, pcapng };

inline FileFormat file_format_for(std::string_view path) noexcept {
    return path.ends_with(".pcapng") ? FileFormat::pcapng : FileFormat::pcap;
}

// pcapng: an Enhanced Packet Block of 28 bytes before the packet, which is
// padded to 4, and the block's length again after it.
inline constexpr size_t kPcapRecordHeader = 16;
inline constexpr size_t kEpbHeader = 28;

inline size_t padded4(size_t n) noexcept { return (n + 3) & ~size_t{3}; }

// The bytes a record of `captured` bytes takes in the file.
inline size_t record_size(FileFormat f, uint32_t captured) noexcept {
    return f == FileFormat::pcap ? kPcapRecordHeader + captured : kEpbHeader + padded4(captured) + 4;
}

// The size of the record at `at`, as written by put_record().
inline size_t stored_record_size(FileFormat f, const uint8_t* at) noexcept {
    uint32_t v;
    std::memcpy(&v, at + (f == FileFormat::pcap ? 8 : 4), sizeof(v));
    return f == FileFormat::pcap ? kPcapRecordHeader + v : v;
}

// The record header at `at`: seconds, nanoseconds, captured and wire length
// (as the input had them, even where captured exceeds wire: libpcap and
// tcpdump -w keep that too).
inline void put_pcap_record_header(uint8_t* at, uint64_t timestamp_ns, uint32_t captured, uint32_t wire_len) noexcept {
    uint32_t h[4] = {static_cast<uint32_t>(timestamp_ns / 1000000000u),
                     static_cast<uint32_t>(timestamp_ns % 1000000000u), captured, wire_len};
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

// A whole record at `at` (record_size() bytes); `copy(out)` puts the
// packet's `captured` bytes at `out`.
template <typename Copy>
inline void put_record(FileFormat f, uint8_t* at, uint64_t timestamp_ns, uint32_t captured, uint32_t wire_len,
                       Copy copy) noexcept {
    if (f == FileFormat::pcap) {
        put_pcap_record_header(at, timestamp_ns, captured, wire_len);
        copy(at + kPcapRecordHeader);
        return;
    }
    // Interface 0, whose if_tsresol says nanoseconds: the time stamp is one
    // 64-bit count, high word first.
    auto total = static_cast<uint32_t>(record_size(f, captured));
    uint32_t h[7] = {6,
                     total,
                     0,
                     static_cast<uint32_t>(timestamp_ns >> 32),
                     static_cast<uint32_t>(timestamp_ns),
                     captured,
                     wire_len};
    std::memcpy(at, h, sizeof(h));
    copy(at + kEpbHeader);
    std::memset(at + kEpbHeader + captured, 0, padded4(captured) - captured);
    std::memcpy(at + total - 4, &total, sizeof(total));
}

// What the file starts with. pcap: the nanosecond header. pcapng: a section
// header, and the one interface every record names (one link type per
// file), with nanosecond time stamps and, when known, its name.
inline std::string file_header(FileFormat f, uint32_t linktype, uint32_t snaplen,
                               std::string_view interface_name = {}) {
    std::string out;
    interface_name = interface_name.substr(0, 255);
    auto u32 = [&](uint32_t v) { out.append(reinterpret_cast<const char*>(&v), sizeof(v)); };
    auto u16 = [&](uint16_t v) { out.append(reinterpret_cast<const char*>(&v), sizeof(v)); };
    if (f == FileFormat::pcap) {
        u32(0xa1b23c4d);
        u16(2), u16(4);
        u32(0), u32(0), u32(snaplen), u32(linktype);
        return out;
    }
    // Section Header Block: byte-order magic, version 1.0, length unknown.
    u32(0x0a0d0d0a), u32(28), u32(0x1a2b3c4d), u16(1), u16(0), u32(0xffffffff), u32(0xffffffff), u32(28);
    // Interface Description Block with if_name (2) and if_tsresol (9) = 9.
    size_t start = out.size();
    u32(1), u32(0);  // length filled in below
    u16(static_cast<uint16_t>(linktype)), u16(0), u32(snaplen);
    if (!interface_name.empty()) {
        u16(2), u16(static_cast<uint16_t>(interface_name.size()));
        out.append(interface_name);
        out.append(padded4(interface_name.size()) - interface_name.size(), '\0');
    }
    u16(9), u16(1);
    out.append("\x09\0\0\0", 4);
    u16(0), u16(0);  // opt_endofopt
    auto length = static_cast<uint32_t>(out.size() - start + 4);
    u32(length);
    std::memcpy(out.data() + start + 4, &length, sizeof(length));
    return out;
}

}  // namespace sl::io
