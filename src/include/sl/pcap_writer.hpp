// Writes nanosecond pcap files in large batches: records are gathered in a
// buffer and handed to write(2) a megabyte at a time, never one per packet.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <rte_mbuf.h>

namespace sl {

class PcapWriter {
public:
    // Creates (truncates) `path`. Throws sl::RuntimeError if it cannot.
    PcapWriter(const std::string& path, uint32_t linktype, uint32_t snaplen = 262144);
    ~PcapWriter();
    PcapWriter(const PcapWriter&) = delete;
    PcapWriter& operator=(const PcapWriter&) = delete;

    // Appends one packet (all of its segments). False if the file could not be
    // written; the caller counts the drop. Never throws.
    bool write(const rte_mbuf* m, uint64_t timestamp_ns, uint32_t wire_len) noexcept;
    bool write(const uint8_t* data, uint32_t length, uint64_t timestamp_ns, uint32_t wire_len) noexcept;

    // Flushes and closes; throws sl::RuntimeError if buffered data was lost.
    void close();
    const std::string& path() const noexcept { return path_; }
    uint64_t packets() const noexcept { return packets_; }

private:
    bool flush() noexcept;
    bool reserve(size_t bytes) noexcept;
    void put_header(uint64_t timestamp_ns, uint32_t captured, uint32_t wire_len) noexcept;

    static constexpr size_t kBufferSize = 1 << 20;
    std::string path_;
    int fd_ = -1;
    std::vector<uint8_t> buffer_;
    size_t used_ = 0;
    uint64_t packets_ = 0;
    int error_ = 0;
};

}  // namespace sl
