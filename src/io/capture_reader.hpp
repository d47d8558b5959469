// Reads pcap and pcapng captures from a memory mapping. DPDK's net_pcap goes
// through libpcap one packet at a time and is slower than tcpdump itself;
// walking the mapped file directly is what lets sl-replay outrun it.
#pragma once

#include <cstdint>
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
    // Opens and maps `path`. Throws sl::RuntimeError with libpcap's own
    // one-line reason when libpcap cannot open it.
    explicit CaptureReader(const std::string& path);
    ~CaptureReader();
    CaptureReader(const CaptureReader&) = delete;
    CaptureReader& operator=(const CaptureReader&) = delete;

    const std::string& path() const noexcept { return path_; }
    int dlt() const noexcept { return dlt_; }              // libpcap's DLT_ value
    uint32_t linktype() const noexcept { return linktype_; } // the file's LINKTYPE_ value
    uint64_t size() const noexcept { return size_; }
    // The file's mapping, page-aligned: the imported segment records point into.
    const uint8_t* mapping() const noexcept { return map_; }
    uint64_t position() const noexcept { return offset_; }

    // The next record, or false at the end of the file or at corrupt data
    // (then error() says what, in libpcap's words where libpcap has them).
    bool next(Record& record) noexcept;
    const std::string& error() const noexcept { return error_; }
    void rewind() noexcept;
    // How far ahead of the reading position the kernel is asked to read the
    // file in (MADV_WILLNEED); 16 MiB unless set.
    void set_read_ahead(uint64_t bytes) noexcept { read_ahead_ = bytes; }

    // libpcap's upper bound for a record; larger ones are corrupt.
    static constexpr uint32_t kMaxSnaplen = 262144;

private:
    void read_ahead() noexcept;
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

    std::string path_;
    const uint8_t* map_ = nullptr;
    uint64_t size_ = 0;
    uint64_t offset_ = 0;
    uint64_t first_record_ = 0;
    uint64_t prefetched_ = 0;  // cache lines requested up to here
    uint64_t populated_ = 0;   // page tables filled up to here
    uint64_t read_ahead_ = 16u << 20;
    int dlt_ = 0;
    uint32_t linktype_ = 0;
    bool pcapng_ = false;
    bool swapped_ = false;
    bool nanosecond_ = false;
    std::vector<Interface> interfaces_;
    std::string error_;
};

}  // namespace sl::io
