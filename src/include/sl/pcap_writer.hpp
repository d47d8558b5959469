// Writes nanosecond pcap files in large batches, off the packet path.
//
// Records are gathered into blocks of a few MiB; a full block is handed to a
// writing thread (a DPDK control thread, so it runs beside the workers, not on
// their cores) while the worker fills the next one. The worker only waits when
// every block is still being written, that is when the disk cannot keep up.
// The hand-over is one atomic store per block, never a lock per packet.
#pragma once

#include <pthread.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include <rte_mbuf.h>

namespace sl {

class PcapWriter {
public:
    // Creates (truncates) `path`. Throws sl::RuntimeError if it cannot.
    PcapWriter(const std::string& path, uint32_t linktype, uint32_t snaplen = 262144);
    ~PcapWriter();
    PcapWriter(const PcapWriter&) = delete;
    PcapWriter& operator=(const PcapWriter&) = delete;

    // Appends one packet (all of its segments). False once the file could not
    // be written; the caller counts the drop. Never throws.
    bool write(const rte_mbuf* m, uint64_t timestamp_ns, uint32_t wire_len) noexcept;
    bool write(const uint8_t* data, uint32_t length, uint64_t timestamp_ns, uint32_t wire_len) noexcept;

    // Writes what is left and closes; throws sl::RuntimeError if data was lost.
    void close();
    const std::string& path() const noexcept { return path_; }
    uint64_t packets() const noexcept { return packets_; }

private:
    struct Block {
        std::unique_ptr<uint8_t[]> data;
        size_t used = 0;
        bool last = false;  // the writing thread ends after this one
    };
    static constexpr size_t kBlockSize = 2u << 20;
    static constexpr uint32_t kBlocks = 4;

    bool reserve(size_t bytes) noexcept;
    void hand_over(bool last) noexcept;
    void write_block(const Block& block) noexcept;
    void put_header(uint64_t timestamp_ns, uint32_t captured, uint32_t wire_len) noexcept;
    static void* writing_thread(void* self) noexcept;

    std::string path_;
    int fd_ = -1;
    std::array<Block, kBlocks> blocks_;
    Block* current_ = nullptr;  // the block the worker fills
    uint64_t packets_ = 0;
    uint64_t written_ = 0;  // bytes in the file; only the writing thread's
    // Blocks handed over and blocks written, counted modulo 2^32; 32 bits so
    // that waiting on them is a plain futex.
    std::atomic<uint32_t> filled_{0};
    std::atomic<uint32_t> drained_{0};
    std::atomic<int> error_{0};
    pthread_t thread_{};
    bool threaded_ = false;
    bool closed_ = false;
};

}  // namespace sl
