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

void CaptureReader::Free::operator()(uint8_t* p) const noexcept { munmap(p, kBuffersSize); }

CaptureReader::CaptureReader(const std::string& path) : path_(path) {
    // libpcap judges whether the file is a capture at all, so that what it
    // cannot open gets exactly its message, as tcpdump would print it.
    char errbuf[PCAP_ERRBUF_SIZE] = {};
    pcap_t* p = pcap_open_offline(path.c_str(), errbuf);
    if (!p) throw RuntimeError(fmt::format("{}: {}", path, errbuf));
    dlt_ = pcap_datalink(p);
    pcap_close(p);

    fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) throw RuntimeError(fmt::format("{}: {}", path, std::strerror(errno)));
    struct stat st {};
    if (fstat(fd_, &st) != 0 || st.st_size < 24) {
        ::close(fd_);
        throw RuntimeError(fmt::format("{}: not a regular capture file", path));
    }
    size_ = static_cast<uint64_t>(st.st_size);
    // The file is read once, front to back: the kernel may read ahead far and
    // drop pages behind us.
    posix_fadvise(fd_, 0, 0, POSIX_FADV_SEQUENTIAL);
    // Pages fault in as read(2) first fills them: a small capture never
    // pays for the buffers it does not use.
    void* m = mmap(nullptr, kBuffersSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) {
        ::close(fd_);
        throw RuntimeError(fmt::format("{}: cannot allocate read buffers: {}", path, std::strerror(errno)));
    }
    buffers_.reset(static_cast<uint8_t*>(m));

    const uint8_t* header = have(24);
    if (!header) throw RuntimeError(fmt::format("{}: {}", path, error_.empty() ? "truncated file header" : error_));
    uint32_t magic;
    std::memcpy(&magic, header, 4);
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
        // Read up to the first interface so that linktype() is known now.
        Record r;
        while (interfaces_.empty() && next_pcapng(r)) {
        }
        if (!interfaces_.empty()) linktype_ = interfaces_[0].linktype;
        rewind();
    } else {
        linktype_ = u32(header + 20) & 0x0fffffff;
        first_record_ = 24;
        consume(24);
    }
}

CaptureReader::~CaptureReader() {
    if (fd_ >= 0) ::close(fd_);
}

void CaptureReader::rewind() noexcept {
    lseek(fd_, static_cast<off_t>(first_record_), SEEK_SET);
    offset_ = file_read_ = advised_ = first_record_;
    // The current buffer may hold records of this burst: the next read
    // moves on to another.
    pos_ = end_ = kBufferSize;
    interfaces_.clear();
    error_.clear();
}

void CaptureReader::begin_burst() noexcept {
    burst_++;
    // The last record handed out lies in the current buffer; its caller may
    // still hold it.
    used_in_[current_] = burst_;
    waiting_ = false;
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
    pos_ = end_;
    return false;
}

const uint8_t* CaptureReader::have(uint32_t bytes) noexcept {
    if (end_ - pos_ < bytes && !refill(bytes)) return nullptr;
    return buffers_.get() + current_ * kBufferSize + pos_;
}

// Reads in pieces of a few hundred KiB, just before the bytes are walked,
// so that they are still in the cache when the graph reads them.
bool CaptureReader::refill(uint32_t bytes) noexcept {
    constexpr size_t kReadSize = 256u << 10;
    if (pos_ + bytes > kBufferSize) {
        // The rest of this buffer cannot hold it: move what is left of the
        // current record to the start of the next buffer, unless records
        // handed out in this burst are still there.
        size_t next = (current_ + 1) % kBuffers;
        if (used_in_[next] == burst_) {
            waiting_ = true;
            return false;
        }
        size_t left = end_ > pos_ ? end_ - pos_ : 0;
        uint8_t* base = buffers_.get();
        std::memmove(base + next * kBufferSize, base + current_ * kBufferSize + pos_, left);
        current_ = next;
        pos_ = 0;
        end_ = left;
    }
    if (offset_ + read_ahead_ / 2 >= advised_ && advised_ < size_) {
        posix_fadvise(fd_, static_cast<off_t>(advised_), static_cast<off_t>(read_ahead_), POSIX_FADV_WILLNEED);
        advised_ += read_ahead_;
    }
    uint8_t* buffer = buffers_.get() + current_ * kBufferSize;
    while (end_ - pos_ < bytes) {
        size_t want = std::min(kBufferSize - end_, std::max<size_t>(kReadSize, bytes - (end_ - pos_)));
        ssize_t n = ::read(fd_, buffer + end_, want);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return fail(std::strerror(errno));
        if (n == 0) return false;  // the end of the file: the caller says what is missing
        end_ += static_cast<size_t>(n);
        file_read_ += static_cast<uint64_t>(n);
    }
    return true;
}

void CaptureReader::consume(uint32_t bytes) noexcept {
    pos_ += bytes;
    offset_ += bytes;
}

bool CaptureReader::skip(uint64_t bytes) noexcept {
    uint64_t buffered = end_ - pos_;
    if (bytes <= buffered) {
        consume(static_cast<uint32_t>(bytes));
        return true;
    }
    uint64_t rest = bytes - buffered;
    if (lseek(fd_, static_cast<off_t>(rest), SEEK_CUR) < 0) return fail(std::strerror(errno));
    pos_ = end_;
    offset_ += bytes;
    file_read_ += rest;
    return true;
}

bool CaptureReader::next(Record& record) noexcept {
    bool got = pcapng_ ? next_pcapng(record) : next_pcap(record);
    if (got) used_in_[current_] = burst_;
    return got;
}

bool CaptureReader::next_pcap(Record& record) noexcept {
    if (offset_ >= size_) return false;
    uint64_t left = size_ - offset_;
    if (left < 16)
        return fail(fmt::format("truncated dump file; tried to read 16 header bytes, only got {}", left));
    const uint8_t* h = have(16);
    if (!h) return waiting_ ? false : fail("truncated dump file; the file shrank while it was read");
    uint32_t sec = u32(h), frac = u32(h + 4), captured = u32(h + 8), wire = u32(h + 12);
    if (captured > kMaxSnaplen)
        return fail(fmt::format("invalid packet capture length {}, bigger than maximum of {}", captured,
                                kMaxSnaplen));
    if (captured > left - 16)
        return fail(fmt::format("truncated dump file; tried to read {} captured bytes, only got {}", captured,
                                left - 16));
    h = have(16 + captured);
    if (!h) return waiting_ ? false : fail("truncated dump file; the file shrank while it was read");
    record.data = h + 16;
    record.captured = captured;
    record.wire_len = wire < captured ? captured : wire;
    record.timestamp_ns = uint64_t{sec} * 1000000000u + (nanosecond_ ? frac : uint64_t{frac} * 1000u);
    consume(16 + captured);
    return true;
}

bool CaptureReader::next_pcapng(Record& record) noexcept {
    while (offset_ < size_) {
        uint64_t left = size_ - offset_;
        if (left < 12) return fail("truncated pcapng block");
        const uint8_t* b = have(12);
        if (!b) return waiting_ ? false : fail("truncated pcapng block");
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
        bool read = type == kPcapngSection || type == kBlockInterface || type == kBlockEnhancedPacket ||
                    type == kBlockPacketObsolete || type == kBlockSimplePacket;
        // Statistics, name resolution and custom blocks are passed over
        // unread, however long.
        if (!read) {
            if (!skip(length)) return false;
            continue;
        }
        if (length > kBufferSize)
            return fail(fmt::format("corrupt pcapng block of length {} at offset {}", length, offset_));
        b = have(length);
        if (!b) return waiting_ ? false : fail("truncated pcapng block");
        const uint8_t* body = b + 8;
        uint32_t body_len = length - 12;
        consume(length);

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
            continue;  // the section header
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
