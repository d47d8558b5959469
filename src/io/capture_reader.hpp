// Reads pcap and pcapng captures with read(2) into a few large buffers of
// its own, and hands out records where they lie there.
//
// DPDK's net_pcap goes through libpcap one packet at a time and is slower
// than tcpdump itself. A memory mapping of the file avoids the copy, but on
// a VM the page tables it needs cost more than the copy does (walking a 1 GB
// capture: 0.5-0.75 s mapped, 0.2 s read), and read(2) keeps the memory
// bound: captures far larger than RAM replay through the same buffers.
//
// A record stays where it is until the buffer it lies in is filled again,
// which happens only once the burst it was handed out in is over: mbufs
// attached to records are all released by the end of their walk.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace sl::io {

struct Record {
    const uint8_t* data;
    uint32_t captured;  // bytes present in the file
    uint32_t wire_len;  // bytes on the wire
    uint64_t timestamp_ns;
};

class CaptureReader {
public:
    // Opens `path`. Throws sl::RuntimeError with libpcap's own one-line
    // reason when libpcap cannot open it.
    explicit CaptureReader(const std::string& path);
    ~CaptureReader();
    CaptureReader(const CaptureReader&) = delete;
    CaptureReader& operator=(const CaptureReader&) = delete;

    const std::string& path() const noexcept { return path_; }
    int dlt() const noexcept { return dlt_; }              // libpcap's DLT_ value
    uint32_t linktype() const noexcept { return linktype_; } // the file's LINKTYPE_ value
    uint64_t size() const noexcept { return size_; }
    uint64_t position() const noexcept { return offset_; }  // in the file
    // The memory records are handed out from, page-aligned: the imported
    // segment that mbufs attach to.
    const uint8_t* buffers() const noexcept { return buffers_.get(); }
    static constexpr size_t kBuffersSize = 4 * (size_t{4} << 20);

    // The next record. False at the end of the file, at corrupt data (then
    // error() says what, in libpcap's words where libpcap has them), or when
    // every buffer still holds records of this burst (then waiting() is
    // true, and the next burst goes on where this one stopped).
    bool next(Record& record) noexcept;
    bool waiting() const noexcept { return waiting_; }
    const std::string& error() const noexcept { return error_; }
    // A new burst: the records handed out before it are no longer read,
    // but for the last one (the caller may still hold it).
    void begin_burst() noexcept;
    void rewind() noexcept;
    // How far ahead of the reading position the kernel is asked to read the
    // file in (POSIX_FADV_WILLNEED); 16 MiB unless set.
    void set_read_ahead(uint64_t bytes) noexcept { read_ahead_ = bytes; }

    // libpcap's upper bound for a record; larger ones are corrupt.
    static constexpr uint32_t kMaxSnaplen = 262144;

private:
    // `bytes` contiguous bytes at the reading position, reading what is
    // missing; null at the end of the file or when no buffer is free.
    const uint8_t* have(uint32_t bytes) noexcept;
    bool refill(uint32_t bytes) noexcept;
    void consume(uint32_t bytes) noexcept;
    bool skip(uint64_t bytes) noexcept;
    bool next_pcap(Record& record) noexcept;
    bool next_pcapng(Record& record) noexcept;
    bool fail(std::string message) noexcept;
    uint32_t u32(const uint8_t* p) const noexcept;
    uint16_t u16(const uint8_t* p) const noexcept;

    struct Interface {
        uint32_t linktype;
        uint32_t snaplen;
        bool binary_resolution;  // if_tsresol: 2^-n instead of 10^-n
        uint8_t resolution;
    };
    // The buffers, kBuffers of kBufferSize bytes; `current_` holds the
    // bytes [pos_, end_) not handed out yet, and `used_in_` says in which
    // burst each buffer last held a record handed out.
    static constexpr size_t kBuffers = 4;
    static constexpr size_t kBufferSize = kBuffersSize / kBuffers;
    struct Free {
        void operator()(uint8_t* p) const noexcept;
    };

    std::string path_;
    int fd_ = -1;
    uint64_t size_ = 0;
    uint64_t offset_ = 0;      // file offset of the reading position
    uint64_t file_read_ = 0;   // file offset up to which bytes are in a buffer
    uint64_t first_record_ = 0;
    uint64_t advised_ = 0;     // read-ahead asked for up to here
    uint64_t read_ahead_ = 16u << 20;
    std::unique_ptr<uint8_t[], Free> buffers_;
    size_t current_ = 0;
    size_t pos_ = 0, end_ = 0;  // within the current buffer
    uint64_t burst_ = 1;
    uint64_t used_in_[kBuffers] = {};
    bool waiting_ = false;
    int dlt_ = 0;
    uint32_t linktype_ = 0;
    bool pcapng_ = false;
    bool swapped_ = false;
    bool nanosecond_ = false;
    std::vector<Interface> interfaces_;
    std::string error_;
};

}  // namespace sl::io
