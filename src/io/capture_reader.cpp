#include "io/capture_reader.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <algorithm>
#include <cstring>

#include <fmt/format.h>
#include <pcap/pcap.h>

#include <sl/error.hpp>

#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22  // Linux 5.14; older glibc headers lack it
#endif

namespace sl::io {
namespace {

constexpr uint32_t kPcapMicro = 0xa1b2c3d4;
constexpr uint32_t kPcapNano = 0xa1b23c4d;
constexpr uint32_t kPcapngSection = 0x0a0d0d0a;
constexpr uint32_t kPcapngByteOrder = 0x1a2b3c4d;
constexpr uint32_t kBlockInterface = 1;
constexpr uint32_t kBlockPacketObsolete = 2;
constexpr uint32_t kBlockSimplePacket = 3;
constexpr uint32_t kBlockEnhancedPacket = 6;
constexpr uint16_t kOptionTsResolution = 9;

uint64_t pow10(unsigned n) {
    uint64_t v = 1;
    while (n--) v *= 10;
    return v;
}

}  // namespace

CaptureReader::CaptureReader(const std::string& path) : path_(path) {
    // libpcap judges whether the file is a capture at all, so that what it
    // cannot open gets exactly its message, as tcpdump would print it.
    char errbuf[PCAP_ERRBUF_SIZE] = {};
    pcap_t* p = pcap_open_offline(path.c_str(), errbuf);
    if (!p) throw RuntimeError(fmt::format("{}: {}", path, errbuf));
    dlt_ = pcap_datalink(p);
    pcap_close(p);

    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw RuntimeError(fmt::format("{}: {}", path, std::strerror(errno)));
    struct stat st {};
    if (fstat(fd, &st) != 0 || st.st_size < 24) {
        ::close(fd);
        throw RuntimeError(fmt::format("{}: not a regular capture file", path));
    }
    size_ = static_cast<uint64_t>(st.st_size);
    void* m = mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
    ::close(fd);
    if (m == MAP_FAILED) throw RuntimeError(fmt::format("{}: mmap: {}", path, std::strerror(errno)));
    // The file is read once, front to back: the kernel may read ahead far and
    // drop pages behind us.
    madvise(m, size_, MADV_SEQUENTIAL);
    map_ = static_cast<const uint8_t*>(m);
    read_ahead();

    uint32_t magic;
    std::memcpy(&magic, map_, 4);
    if (magic == kPcapMicro || magic == kPcapNano) {
        nanosecond_ = magic == kPcapNano;
    } else if (__builtin_bswap32(magic) == kPcapMicro || __builtin_bswap32(magic) == kPcapNano) {
        swapped_ = true;
        nanosecond_ = __builtin_bswap32(magic) == kPcapNano;
    } else if (magic == kPcapngSection) {
        pcapng_ = true;
    } else {
        throw RuntimeError(fmt::format("{}: unknown file format", path));
    }
    if (pcapng_) {
        first_record_ = 0;
    } else {
        linktype_ = u32(map_ + 20) & 0x0fffffff;
        first_record_ = 24;
    }
    offset_ = first_record_;
    if (pcapng_) {
        // Read up to the first interface so that linktype() is known now.
        Record r;
        uint64_t start = offset_;
        while (interfaces_.empty() && next_pcapng(r)) {
        }
        if (!interfaces_.empty()) linktype_ = interfaces_[0].linktype;
        offset_ = start;
        interfaces_.clear();
        error_.clear();
    }
}

CaptureReader::~CaptureReader() {
    if (map_) munmap(const_cast<uint8_t*>(map_), size_);
}

void CaptureReader::rewind() noexcept {
    offset_ = first_record_;
    prefetched_ = populated_ = 0;
    read_ahead();
    interfaces_.clear();
    error_.clear();
}

uint32_t CaptureReader::u32(const uint8_t* p) const noexcept {
    uint32_t v;
    std::memcpy(&v, p, 4);
    return swapped_ ? __builtin_bswap32(v) : v;
}

uint16_t CaptureReader::u16(const uint8_t* p) const noexcept {
    uint16_t v;
    std::memcpy(&v, p, 2);
    return swapped_ ? __builtin_bswap16(v) : v;
}

bool CaptureReader::fail(std::string message) noexcept {
    error_ = fmt::format("{}: {}", path_, message);
    offset_ = size_;
    return false;
}

// Two costs of walking a mapped file are paid ahead of the walk:
//  - page faults: a window of page tables is filled in one madvise call, far
//    cheaper than a fault per page (and never the whole file at once, which
//    may be larger than memory);
//  - cache misses: each record is found from the length in the previous
//    header, a chain of dependent misses that hardware prefetchers do not
//    follow across pages. Asking for every cache line a few KiB ahead turns
//    the chain into a stream.
void CaptureReader::read_ahead() noexcept {
    constexpr uint64_t kPopulateWindow = 16u << 20;
    constexpr uint64_t kPrefetchDistance = 4096;
    if (offset_ + kPopulateWindow / 2 >= populated_ && populated_ < size_) {
        uint64_t from = populated_ < offset_ ? offset_ & ~uint64_t{4095} : populated_;
        uint64_t length = std::min(kPopulateWindow, size_ - from);
        // Kernels before 5.14 lack MADV_POPULATE_READ; then pages fault in one
        // by one, which is slower but correct.
        madvise(const_cast<uint8_t*>(map_) + from, length, MADV_POPULATE_READ);
        madvise(const_cast<uint8_t*>(map_) + from + length, std::min(read_ahead_, size_ - from - length),
                MADV_WILLNEED);
        populated_ = from + length;
    }
    if (prefetched_ < offset_) prefetched_ = offset_ & ~uint64_t{63};
    uint64_t until = std::min(offset_ + kPrefetchDistance, size_);
    for (; prefetched_ < until; prefetched_ += 64) __builtin_prefetch(map_ + prefetched_);
}

bool CaptureReader::next(Record& record) noexcept {
    read_ahead();
    return pcapng_ ? next_pcapng(record) : next_pcap(record);
}

bool CaptureReader::next_pcap(Record& record) noexcept {
    if (offset_ >= size_) return false;
    uint64_t left = size_ - offset_;
    if (left < 16)
        return fail(fmt::format("truncated dump file; tried to read 16 header bytes, only got {}", left));
    const uint8_t* h = map_ + offset_;
    uint32_t sec = u32(h), frac = u32(h + 4), captured = u32(h + 8), wire = u32(h + 12);
    if (captured > kMaxSnaplen)
        return fail(fmt::format("invalid packet capture length {}, bigger than maximum of {}", captured,
                                kMaxSnaplen));
    if (captured > left - 16)
        return fail(fmt::format("truncated dump file; tried to read {} captured bytes, only got {}", captured,
                                left - 16));
    record.data = h + 16;
    record.captured = captured;
    record.wire_len = wire < captured ? captured : wire;
    record.timestamp_ns = uint64_t{sec} * 1000000000u + (nanosecond_ ? frac : uint64_t{frac} * 1000u);
    offset_ += 16 + captured;
    return true;
}

bool CaptureReader::next_pcapng(Record& record) noexcept {
    while (offset_ < size_) {
        uint64_t left = size_ - offset_;
        if (left < 12) return fail("truncated pcapng block");
        const uint8_t* b = map_ + offset_;
        uint32_t type;
        std::memcpy(&type, b, 4);
        if (type == kPcapngSection) {
            uint32_t order;
            std::memcpy(&order, b + 8, 4);
            if (order == kPcapngByteOrder) swapped_ = false;
            else if (__builtin_bswap32(order) == kPcapngByteOrder) swapped_ = true;
            else return fail("bad pcapng byte-order magic");
            interfaces_.clear();
        } else {
            type = u32(b);
        }
        uint32_t length = u32(b + 4);
        if (length < 12 || length % 4 != 0 || length > left)
            return fail(fmt::format("corrupt pcapng block of length {} at offset {}", length, offset_));
        const uint8_t* body = b + 8;
        uint32_t body_len = length - 12;
        offset_ += length;

        if (type == kBlockInterface) {
            if (body_len < 8) return fail("truncated pcapng interface block");
            Interface itf{u16(body), u32(body + 4), false, 6};
            // Options: code, length, value padded to 4 bytes.
            uint32_t o = 8;
            while (o + 4 <= body_len) {
                uint16_t code = u16(body + o), olen = u16(body + o + 2);
                if (code == 0) break;
                if (o + 4 + olen > body_len) break;
                if (code == kOptionTsResolution && olen >= 1) {
                    itf.binary_resolution = body[o + 4] & 0x80;
                    itf.resolution = body[o + 4] & 0x7f;
                    if (!itf.binary_resolution && itf.resolution > 19) return fail("bad if_tsresol");
                    if (itf.binary_resolution && itf.resolution > 63) return fail("bad if_tsresol");
                }
                o += 4 + ((olen + 3u) & ~3u);
            }
            interfaces_.push_back(itf);
            continue;
        }
        uint32_t iface = 0, captured = 0, wire = 0, header = 0;
        uint64_t ts = 0;
        if (type == kBlockEnhancedPacket) {
            if (body_len < 20) return fail("truncated pcapng packet block");
            iface = u32(body);
            ts = uint64_t{u32(body + 4)} << 32 | u32(body + 8);
            captured = u32(body + 12);
            wire = u32(body + 16);
            header = 20;
        } else if (type == kBlockPacketObsolete) {
            if (body_len < 20) return fail("truncated pcapng packet block");
            iface = u16(body);
            ts = uint64_t{u32(body + 4)} << 32 | u32(body + 8);
            captured = u32(body + 12);
            wire = u32(body + 16);
            header = 20;
        } else if (type == kBlockSimplePacket) {
            if (body_len < 4) return fail("truncated pcapng packet block");
            wire = u32(body);
            header = 4;
            captured = std::min(wire, body_len - 4);
            if (!interfaces_.empty() && interfaces_[0].snaplen) captured = std::min(captured, interfaces_[0].snaplen);
        } else {
            continue;  // statistics, name resolution, custom blocks
        }
        if (iface >= interfaces_.size())
            return fail(fmt::format("packet block for interface {} which was not described", iface));
        if (captured > kMaxSnaplen)
            return fail(fmt::format("invalid packet capture length {}, bigger than maximum of {}", captured,
                                    kMaxSnaplen));
        if (captured > body_len - header)
            return fail(fmt::format("packet block claims {} captured bytes but holds {}", captured,
                                    body_len - header));
        const Interface& itf = interfaces_[iface];
        uint64_t ns;
        if (itf.binary_resolution) {
            unsigned shift = itf.resolution;
            uint64_t whole = shift >= 64 ? 0 : ts >> shift;
            uint64_t part = shift >= 64 ? ts : ts & ((uint64_t{1} << shift) - 1);
            ns = whole * 1000000000u + static_cast<uint64_t>((static_cast<__uint128_t>(part) * 1000000000u) >> shift);
        } else if (itf.resolution <= 9) {
            ns = ts * pow10(9 - itf.resolution);
        } else {
            ns = ts / pow10(itf.resolution - 9);
        }
        record.data = body + header;
        record.captured = captured;
        record.wire_len = wire < captured ? captured : wire;
        record.timestamp_ns = ns;
        return true;
    }
    return false;
}

}  // namespace sl::io
