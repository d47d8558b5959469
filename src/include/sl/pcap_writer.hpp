// Writes capture files in large batches, off the packet path: nanosecond
// pcap, or pcapng (nanosecond time stamps) when the name ends in ".pcapng".
//
// Records are gathered into blocks of a few MiB; a full block is handed to a
// writing thread (a DPDK control thread, so it runs beside the workers, not on
// their cores) while the worker fills the next one. The worker only waits when
// every block is still being written, that is when the disk cannot keep up.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include <rte_mbuf.h>

namespace sl {

class PcapWriter {
public:
    // Creates (truncates) `path`, whose header gives `snaplen` (records are
    // cut to it) and, in pcapng, the interface's name when there is one.
    // Throws sl::RuntimeError if it cannot.
    PcapWriter(const std::string& path, uint32_t linktype, uint32_t snaplen = 262144,
               const std::string& interface_name = {});
    ~PcapWriter();
    PcapWriter(const PcapWriter&) = delete;
    PcapWriter& operator=(const PcapWriter&) = delete;

    // Appends one packet (all of its segments, cut to the snap length as a
    // capture would be; at most 262144 bytes). False once the file could not
    // be written, and for every packet after that; the caller counts the
    // drop. Never throws.
    bool write(const rte_mbuf* m, uint64_t timestamp_ns, uint32_t wire_len) noexcept;
    bool write(const uint8_t* data, uint32_t length, uint64_t timestamp_ns, uint32_t wire_len) noexcept;

    // Writes what is left and closes; throws sl::RuntimeError if data was lost.
    void close();
    const std::string& path() const noexcept;
    uint64_t packets() const noexcept;

private:
    struct Blocks;  // the blocks, the writing thread and what they share
    std::unique_ptr<Blocks> blocks_;
};

}  // namespace sl
