#include "io/capture_reader.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string_view>

#include <fmt/format.h>
#include <pcap/pcap.h>

#include <sl/error.hpp>

#include "io/pseudo_headers.hpp"
#include "sdk/link_type.hpp"

namespace sl::io {
namespace {

// The DLT_ value of a LINKTYPE_ value, for link type names: they differ
// for a few old types (libpcap keeps its table private).
int dlt_of_linktype(uint32_t linktype) {
    switch (linktype) {
    case 100: return DLT_ATM_RFC1483;
    case 101: return DLT_RAW;
    default: return static_cast<int>(linktype);
    }
}

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

void CaptureReader::Unmap::operator()(uint8_t* p) const noexcept { munmap(p, kBuffersSize); }
CaptureReader::CaptureReader(const std::string& path) : path_(path), state_(std::make_unique<Buffer[]>(kChunks)) {
    // libpcap judges whether the file is a capture at all, so that what it
    // cannot open gets exactly its message, as tcpdump would print it.
    char errbuf[PCAP_ERRBUF_SIZE] = {};
    pcap_t* p = pcap_open_offline(path.c_str(), errbuf);
    if (!p) {
        // libpcap names the file itself when it cannot open it, and not
        // when it cannot read it: name it once either way.
        std::string_view reason = errbuf;
        if (reason.starts_with(path + ": ")) reason.remove_prefix(path.size() + 2);
        throw RuntimeError(fmt::format("{}: {}", path, reason));
    }
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
    // Pages fault in as reads first fill them: a small capture never pays
    // for the buffers it does not use.
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
    // pcapng sections may be of either byte order.
    post_process_ = needs_post_process(dlt_, swapped_ || pcapng_);
    if (pcapng_) {
        // Read up to the first interface so that linktype() is known now.
        Record r;
        while (interfaces_.empty() && next_pcapng(r)) {
        }
        if (!interfaces_.empty()) linktype_ = interfaces_[0].linktype;
        if (!interfaces_.empty()) snaplen_ = effective_snaplen(interfaces_[0].snaplen);
        first_interface_read_ = !interfaces_.empty();
        rewind();
    } else {
        linktype_ = u32(header + 20) & 0x0fffffff;
        snaplen_ = effective_snaplen(u32(header + 16));
        first_record_ = 24;
        consume(24);
    }
}

CaptureReader::~CaptureReader() {
    if (fd_ >= 0) ::close(fd_);
}

void CaptureReader::rewind() noexcept {
    // The walk reached the end of the file (or, when opening a pcapng file,
    // read only chunks of its own): no chunk is read ahead, and the next
    // one claimed goes into the buffer after the current.
    while (claim_.test_and_set(std::memory_order_acquire)) {
    }
    // The chunks read on the way hold what the next pass reads again, and
    // may be rewritten (post_process_): the walk must read them anew, not
    // take them for the chunks it expects. Before the claim moves back:
    // a chunk another worker reads ahead for the next pass is fresh.
    for (size_t i = 0; i < kChunks; i++)
        if (i != current_ && state_[i].state.load(std::memory_order_acquire) == kRead) state_[i].offset = UINT64_MAX;
    claim_offset_ = advised_ = first_record_;
    claim_.clear(std::memory_order_release);
    expect_ = offset_ = first_record_;
    pos_ = end_;
    skip_ = 0;
    interfaces_.clear();
    error_.clear();
}

void CaptureReader::begin_epoch(uint64_t epoch, uint64_t released) noexcept {
    epoch_ = epoch;
    released_ = released;
    // The last record handed out lies in the current buffer.
    if (walking_) state_[current_].used_in = epoch;
    waiting_ = false;
    free_passed();
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
    // The offset of the record or block that could not be read: what came
    // before it was handed out whole.
    error_ = fmt::format("{}, offset {}: {}", path_, block_at_, message);
    caught_up_.store(false, std::memory_order_relaxed);  // nothing more will come
    offset_ = expect_ = size_;
    pos_ = end_;
    skip_ = 0;
    return false;
}

// Following, the file ends within the next `left` bytes, before a whole
// record or block: once they are in view, waits for its writer.
bool CaptureReader::await_more(uint64_t left) noexcept {
    if (left > 0 && !have(static_cast<uint32_t>(left))) return false;  // their chunk is not read yet, or failed
    grow();
    waiting_ = error_.empty();
    return false;
}

// Following, with every chunk read walked: takes in what the writer added
// since the file's size was last looked at.
void CaptureReader::grow() noexcept {
    if (expect_ < size_) return;
    struct stat st {};
    if (fstat(fd_, &st) != 0) return;
    auto now = static_cast<uint64_t>(st.st_size);
    if (now < size_) {
        block_at_ = offset_;
        fail(fmt::format("the file shrank from {} to {} bytes while it was followed", size_, now));
        return;
    }
    if (now == size_) {
        caught_up_.store(true, std::memory_order_relaxed);
        return;
    }
    // The last chunk claimed ended at the old size, short of a whole chunk:
    // the next one starts there, in the buffer after it.
    while (claim_.test_and_set(std::memory_order_acquire)) {
    }
    size_ = now;
    claim_offset_ = expect_;
    claim_.clear(std::memory_order_release);
    caught_up_.store(false, std::memory_order_relaxed);
}

bool CaptureReader::read_ahead(unsigned ahead, unsigned turn, unsigned turns) noexcept {
    if (claimed_.load(std::memory_order_relaxed) - walked_.load(std::memory_order_relaxed) >= ahead) return false;
    if (claim_.test_and_set(std::memory_order_acquire)) return false;  // another thread claims this very chunk
    size_t i = claim_buffer_;
    Buffer& b = state_[i];
    if (claim_offset_ >= size_ || b.state.load(std::memory_order_acquire) != kFree ||
        (claim_offset_ / kChunk) % turns != turn) {
        claim_.clear(std::memory_order_release);
        return false;
    }
    uint64_t offset = claim_offset_;
    claim_offset_ += kChunk;
    claim_buffer_ = (i + 1) % kChunks;
    b.state.store(kReading, std::memory_order_relaxed);
    claimed_.fetch_add(1, std::memory_order_relaxed);
    if (offset + advice_ / 2 >= advised_ && advised_ < size_) {
        posix_fadvise(fd_, static_cast<off_t>(advised_), static_cast<off_t>(advice_), POSIX_FADV_WILLNEED);
        advised_ += advice_;
    }
    // The size grows, when following, under the claim.
    size_t want = static_cast<size_t>(std::min<uint64_t>(kChunk, size_ - offset));
    claim_.clear(std::memory_order_release);

    size_t got = 0;
    int error = 0;
    while (got < want) {
        ssize_t n = ::pread(fd_, chunk(i) + got, want - got, static_cast<off_t>(offset + got));
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) error = errno;
        if (n <= 0) break;
        got += static_cast<size_t>(n);
    }
    b.offset = offset;
    b.bytes = static_cast<uint32_t>(got);
    b.error = error ? error : got < want ? kShrank : 0;
    b.indexed = 0;
    if (hasher_ && !b.error) index_chunk(i);
    b.state.store(kRead, std::memory_order_release);
    return true;
}

// Moves the walk into the next chunk, reading it if nobody has: the part of
// a record at the end of the current chunk goes in front of it.
bool CaptureReader::next_chunk() noexcept {
    if (expect_ >= size_) return false;  // the end of the file
    size_t next = (current_ + 1) % kChunks;
    Buffer& b = state_[next];
    if (b.state.load(std::memory_order_acquire) == kFree) read_ahead(kChunks);
    if (b.state.load(std::memory_order_acquire) != kRead || b.offset != expect_) {
        // Being read by another thread, or still holding records in use.
        waiting_ = true;
        return false;
    }
    if (b.error == kShrank) return fail("truncated dump file; the file shrank while it was read");
    if (b.error) return fail(std::strerror(b.error));
    size_t left = end_ - pos_;
    uint8_t* into = chunk(next) - left;
    if (left > 0) std::memcpy(into, base(current_) + pos_, left);
    current_ = next;
    pos_ = kChunk - left;
    end_ = kChunk + b.bytes;
    expect_ = b.offset + b.bytes;
    index_at_ = 0;
    index_ok_ = b.indexed > 0;
    walked_.fetch_add(1, std::memory_order_relaxed);
    if (!walking_) {
        walking_ = true;
        oldest_ = current_;
    }
    free_passed();
    return true;
}

// The buffers the walk left, in order, once no record of theirs is read.
void CaptureReader::free_passed() noexcept {
    while (oldest_ != current_ && state_[oldest_].used_in < released_) {
        state_[oldest_].state.store(kFree, std::memory_order_release);
        oldest_ = (oldest_ + 1) % kChunks;
    }
}

const uint8_t* CaptureReader::have(uint32_t bytes) noexcept {
    if (end_ - pos_ < bytes && (!next_chunk() || end_ - pos_ < bytes)) return nullptr;
    return base(current_) + pos_;
}

void CaptureReader::consume(uint32_t bytes) noexcept {
    pos_ += bytes;
    offset_ += bytes;
}

// Passes over what is left of an unread block, however long.
bool CaptureReader::skip_pending() noexcept {
    while (skip_ > 0) {
        size_t left = end_ - pos_;
        if (left == 0) {
            if (!next_chunk()) {
                if (waiting_ || !error_.empty()) return false;
                return follow_ ? await_more(0) : fail("truncated pcapng block");
            }
            continue;
        }
        auto take = static_cast<uint32_t>(std::min<uint64_t>(left, skip_));
        consume(take);
        skip_ -= take;
    }
    return true;
}

bool CaptureReader::next(Record& record) noexcept {
    if (!error_.empty()) return false;  // failed: the end, even when following
    bool got = pcapng_ ? next_pcapng(record) : next_pcap(record);
    if (got) state_[current_].used_in = epoch_;
    return got;
}

bool CaptureReader::next_pcap(Record& record) noexcept {
    if (offset_ >= size_) return follow_ && await_more(0);
    if (index_ok_ && index_at_ < state_[current_].indexed) {
        const Indexed& e = index_of(current_)[index_at_];
        if (pos_ == kChunk + e.offset) {
            record = Record{chunk(current_) + e.offset + 16, std::min(e.captured, snaplen_), e.wire_len, e.timestamp_ns,
                            e.hash, true};
            consume(16 + e.captured);
            index_at_++;
            return true;
        }
        // Before it: the record the last chunk began. Past it: the guess at
        // the chunk's first record was wrong.
        if (pos_ > kChunk + e.offset) index_ok_ = false;
    }
    block_at_ = offset_;
    uint64_t left = size_ - offset_;
    if (left < 16 && follow_) return await_more(left);
    if (left < 16)
        return fail(fmt::format("truncated dump file; tried to read 16 header bytes, only got {}", left));
    const uint8_t* h = have(16);
    if (!h) return waiting_ || !error_.empty() ? false : fail("truncated dump file; the file shrank while it was read");
    uint32_t sec = u32(h), frac = u32(h + 4), captured = u32(h + 8), wire = u32(h + 12);
    if (captured > kMaxSnaplen)
        return fail(fmt::format("invalid packet capture length {}, bigger than maximum of {}", captured,
                                kMaxSnaplen));
    if (captured > left - 16 && follow_) return await_more(left);
    if (captured > left - 16)
        return fail(fmt::format("truncated dump file; tried to read {} captured bytes, only got {}", captured,
                                left - 16));
    h = have(16 + captured);
    if (!h) return waiting_ || !error_.empty() ? false : fail("truncated dump file; the file shrank while it was read");
    // A record longer than the file's snap length is cut to it, as libpcap
    // cuts it; its wire length stays as the file has it, even below what
    // was captured.
    record = Record{h + 16, std::min(captured, snaplen_), wire,
                    uint64_t{sec} * 1000000000u + (nanosecond_ ? frac : uint64_t{frac} * 1000u)};
    consume(16 + captured);
    // The bytes lie in this reader's own buffers.
    if (post_process_)
        post_process(dlt_, swapped_, const_cast<uint8_t*>(record.data), record.captured, record.wire_len);
    return true;
}

bool CaptureReader::next_pcapng(Record& record) noexcept {
    if (!skip_pending()) return false;
    while (offset_ < size_) {
        block_at_ = offset_;
        uint64_t left = size_ - offset_;
        if (left < 12 && follow_) return await_more(left);
        if (left < 12) return fail(fmt::format("truncated pcapng block; tried to read 12 header bytes, only got {}", left));
        const uint8_t* b = have(12);
        if (!b) return waiting_ || !error_.empty() ? false : fail("truncated pcapng block");
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
        if (length < 12 || length % 4 != 0) return fail(fmt::format("corrupt pcapng block of length {}", length));
        if (length > left && !follow_)
            return fail(fmt::format("truncated pcapng block; tried to read {} bytes, only got {}", length, left));
        bool read = type == kPcapngSection || type == kBlockInterface || type == kBlockEnhancedPacket ||
                    type == kBlockPacketObsolete || type == kBlockSimplePacket;
        // Statistics, name resolution and custom blocks are passed over
        // unread, however long; but a followed file is not waited on for
        // more than libpcap would read as one block, a corrupt length.
        if (!read && follow_ && length > left && length > kMaxFollowedBlock)
            return fail(fmt::format("corrupt pcapng block of length {}", length));
        if (!read) {
            skip_ = length;
            if (!skip_pending()) return false;
            continue;
        }
        if (length > kChunk) return fail(fmt::format("corrupt pcapng block of length {}", length));
        if (length > left) return await_more(left);  // following: the rest is being written
        b = have(length);
        if (!b) return waiting_ || !error_.empty() ? false : fail("truncated pcapng block");
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
            // libpcap reads a file of one link type and one snap length, and
            // refuses an interface that differs from the first: so does
            // streamline, with the records before it handed out.
            // (The file's first interface, in whichever section: libpcap
            // compares with that one too.)
            if (first_interface_read_ && itf.linktype != linktype_)
                return fail(fmt::format("interface {} has link type {}, the first interface {}: a capture is read "
                                        "with one link type, as libpcap reads it",
                                        interfaces_.size(), link_type_name(dlt_of_linktype(itf.linktype)),
                                        link_type_name(dlt_of_linktype(linktype_))));
            if (first_interface_read_ && effective_snaplen(itf.snaplen) != snaplen_)
                return fail(fmt::format("interface {} has snap length {}, the first interface {}: a capture is read "
                                        "with one snap length, as libpcap reads it",
                                        interfaces_.size(), effective_snaplen(itf.snaplen), snaplen_));
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
        if (captured > effective_snaplen(interfaces_[iface].snaplen))
            return fail(fmt::format("invalid packet capture length {}, bigger than snaplen of {}", captured,
                                    effective_snaplen(interfaces_[iface].snaplen)));
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
        record = Record{body + header, captured, wire, ns};
        if (post_process_)
            post_process(dlt_, swapped_, const_cast<uint8_t*>(record.data), record.captured, record.wire_len);
        return true;
    }
    return follow_ && await_more(0);
}

}  // namespace sl::io
