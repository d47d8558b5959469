#include <sl/pcap_writer.hpp>

#include <fcntl.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <pthread.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <cstring>

#include <fmt/format.h>
#include <rte_lcore.h>

#include <sl/error.hpp>

#include "io/output_file.hpp"
#include "io/pcap_record.hpp"

namespace sl {
namespace {

// The writing thread sleeps on `filled_` with a time-out, which
// std::atomic::wait does not have: both sides use the futex itself.
void futex_wait(std::atomic<uint32_t>& word, uint32_t expected, long timeout_ns) noexcept {
    timespec timeout{0, timeout_ns};
    syscall(SYS_futex, reinterpret_cast<uint32_t*>(&word), FUTEX_WAIT_PRIVATE, expected, &timeout, nullptr, 0);
}

void futex_wake(std::atomic<uint32_t>& word) noexcept {
    syscall(SYS_futex, reinterpret_cast<uint32_t*>(&word), FUTEX_WAKE_PRIVATE, 1, nullptr, nullptr, 0);
}

}  // namespace

// The blocks and the thread that writes them. The hand-over is one atomic
// store per block, never a lock per packet.
struct PcapWriter::Blocks {
    struct Block {
        std::unique_ptr<uint8_t[]> data;
        // Bytes of whole records: the worker's, stored as it appends, so the
        // writing thread may write them before the block is handed over.
        std::atomic<size_t> used{0};
        size_t written = 0;  // of them, by the writing thread
        bool last = false;   // the writing thread ends after this one
    };
    static constexpr size_t kBlockSize = 2u << 20;
    static constexpr uint32_t kBlocks = 4;
    // A block that fills slowly (a trickle of packets, a followed capture)
    // is written as it fills: the file is never further behind than this.
    static constexpr long kWriteBehindNs = 100'000'000;

    Blocks(const std::string& path, uint32_t linktype, uint32_t snaplen, const std::string& interface_name);
    bool reserve(size_t bytes) noexcept;
    void hand_over(bool last) noexcept;
    void write_block(Block& block) noexcept;
    void drain(Block& block) noexcept;
    // The first error is the one the run reports.
    void fail(int error) noexcept {
        int none = 0;
        error_.compare_exchange_strong(none, error, std::memory_order_relaxed);
    }
    bool write(const rte_mbuf* m, uint64_t timestamp_ns, uint32_t wire_len) noexcept;
    bool write(const uint8_t* data, uint32_t length, uint64_t timestamp_ns, uint32_t wire_len) noexcept;
    void close();
    static void* writing_thread(void* self) noexcept;

    std::string path_;
    io::FileFormat format_;
    // Records are cut to it; a block holds the longest.
    static constexpr uint32_t kMaxSnaplen = 262144;
    uint32_t snaplen_;
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

PcapWriter::PcapWriter(const std::string& path, uint32_t linktype, uint32_t snaplen,
                       const std::string& interface_name)
    : blocks_(std::make_unique<Blocks>(path, linktype, snaplen, interface_name)) {}

PcapWriter::~PcapWriter() {
    try {
        close();
    } catch (...) {
        // close() is the place to hear about errors; a destructor cannot say.
    }
}

bool PcapWriter::write(const rte_mbuf* m, uint64_t timestamp_ns, uint32_t wire_len) noexcept {
    return blocks_->write(m, timestamp_ns, wire_len);
}

bool PcapWriter::write(const uint8_t* data, uint32_t length, uint64_t timestamp_ns, uint32_t wire_len) noexcept {
    return blocks_->write(data, length, timestamp_ns, wire_len);
}

void PcapWriter::close() { blocks_->close(); }
const std::string& PcapWriter::path() const noexcept { return blocks_->path_; }
uint64_t PcapWriter::packets() const noexcept { return blocks_->packets_; }

PcapWriter::Blocks::Blocks(const std::string& path, uint32_t linktype, uint32_t snaplen,
                           const std::string& interface_name)
    : path_(path), format_(io::file_format_for(path)), snaplen_(std::clamp<uint32_t>(snaplen, 1, kMaxSnaplen)) {
    fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd_ < 0) throw RuntimeError(fmt::format("{}: {}", path, std::strerror(errno)));
    for (auto& b : blocks_) b.data = std::make_unique_for_overwrite<uint8_t[]>(kBlockSize);
    current_ = &blocks_[0];
    std::string header = io::file_header(format_, linktype, snaplen_, interface_name);
    std::memcpy(current_->data.get(), header.data(), header.size());
    current_->used.store(header.size(), std::memory_order_relaxed);
    // Outside a running EAL (a tool linking the SDK) blocks are written inline.
    if (rte_lcore_id() != LCORE_ID_ANY)
        threaded_ = rte_ctrl_thread_create(&thread_, "sl-pcap-write", nullptr, writing_thread, this) == 0;
}

void* PcapWriter::Blocks::writing_thread(void* self) noexcept {
    auto* w = static_cast<Blocks*>(self);
    uint32_t next = 0;
    while (true) {
        Block& block = w->blocks_[next % kBlocks];
        if (w->filled_.load(std::memory_order_acquire) == next) {
            // The worker fills this block: what it holds so far goes out
            // every kWriteBehindNs, so that a slowly filling file is read
            // while it is written.
            futex_wait(w->filled_, next, kWriteBehindNs);
            if (w->filled_.load(std::memory_order_acquire) == next) w->write_block(block);
            continue;
        }
        bool last = block.last;
        w->drain(block);
        w->drained_.store(++next, std::memory_order_release);
        w->drained_.notify_one();
        if (last) return nullptr;
    }
}

// Writes what the block gained since it was last written.
void PcapWriter::Blocks::write_block(Block& block) noexcept {
    size_t used = block.used.load(std::memory_order_acquire);
    size_t done = 0;
    while (block.written + done < used && error_.load(std::memory_order_relaxed) == 0) {
        ssize_t n = ::write(fd_, block.data.get() + block.written + done, used - block.written - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) fail(n < 0 ? errno : EIO);
        else done += static_cast<size_t>(n);
    }
    // Start writeback of each block as it is written, here on the writing
    // thread: dirty memory stays bounded, and close() does not stall on a
    // file's worth of delayed allocation (ext4 flushes a truncated and
    // rewritten file when it is closed). Pipes and devices simply refuse.
    if (done > 0 && sync_file_range(fd_, static_cast<off64_t>(written_), static_cast<off64_t>(done),
                                    SYNC_FILE_RANGE_WRITE) != 0 && errno != ESPIPE && errno != EINVAL)
        fail(errno);
    if (done > 0 && io::file_removed(fd_)) fail(io::kFileRemoved);
    written_ += done;
    block.written += done;
}

// Writes the rest of a block handed over and empties it for the worker.
void PcapWriter::Blocks::drain(Block& block) noexcept {
    write_block(block);
    block.written = 0;
    block.used.store(0, std::memory_order_relaxed);
}

void PcapWriter::Blocks::hand_over(bool last) noexcept {
    current_->last = last;
    uint32_t filled = filled_.load(std::memory_order_relaxed) + 1;
    if (!threaded_) {
        drain(*current_);
        filled_.store(filled, std::memory_order_relaxed);
        drained_.store(filled, std::memory_order_relaxed);
    } else {
        filled_.store(filled, std::memory_order_release);
        futex_wake(filled_);
        if (last) return;
        // The next block is free once the thread has written it; waiting here
        // means the disk is slower than the packets.
        uint32_t drained = drained_.load(std::memory_order_acquire);
        while (filled - drained >= kBlocks) {
            drained_.wait(drained, std::memory_order_acquire);
            drained = drained_.load(std::memory_order_acquire);
        }
    }
    // Drained, its `used` is 0 again.
    current_ = &blocks_[filled % kBlocks];
    current_->last = false;
}

bool PcapWriter::Blocks::reserve(size_t bytes) noexcept {
    if (error_.load(std::memory_order_relaxed) != 0) return false;
    if (current_->used.load(std::memory_order_relaxed) + bytes <= kBlockSize) return true;
    hand_over(false);
    // Records are at most 256 KiB and a header of a few dozen bytes, far
    // below a block.
    return bytes <= kBlockSize;
}

bool PcapWriter::Blocks::write(const rte_mbuf* m, uint64_t timestamp_ns, uint32_t wire_len) noexcept {
    uint32_t length = std::min(rte_pktmbuf_pkt_len(m), snaplen_);
    size_t size = io::record_size(format_, length);
    if (!reserve(size)) return false;
    size_t used = current_->used.load(std::memory_order_relaxed);
    io::put_record(format_, current_->data.get() + used, timestamp_ns, length, wire_len,
                   [&](uint8_t* out) { io::copy_packet_bytes(m, out, length); });
    current_->used.store(used + size, std::memory_order_release);  // a plain store, not a locked add
    packets_++;
    return true;
}

bool PcapWriter::Blocks::write(const uint8_t* data, uint32_t length, uint64_t timestamp_ns, uint32_t wire_len) noexcept {
    length = std::min(length, snaplen_);
    size_t size = io::record_size(format_, length);
    if (!reserve(size)) return false;
    size_t used = current_->used.load(std::memory_order_relaxed);
    io::put_record(format_, current_->data.get() + used, timestamp_ns, length, wire_len,
                   [&](uint8_t* out) { std::memcpy(out, data, length); });
    current_->used.store(used + size, std::memory_order_release);  // a plain store, not a locked add
    packets_++;
    return true;
}

void PcapWriter::Blocks::close() {
    if (closed_) return;
    closed_ = true;
    hand_over(true);
    if (threaded_) pthread_join(thread_, nullptr);
    if (::close(fd_) != 0 && error_.load() == 0) error_.store(errno);
    fd_ = -1;
    if (int e = error_.load()) throw RuntimeError(io::output_error(path_, e));
}

}  // namespace sl
