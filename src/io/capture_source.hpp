// Feeds a worker's capture records (io/record_feed.hpp: several files merged
// by timestamp, `rx N` the N-th, looped and dealt by flow) into its graph as
// mbufs, paced when asked.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include <rte_mempool.h>

#include "io/capture_reader.hpp"
#include "io/record_feed.hpp"
#include "io/source.hpp"

namespace sl::io {

struct Pacing {
    enum class Mode { top, realtime };
    Mode mode = Mode::top;
    double factor = 1.0;  // realtime x factor
};

// How a record becomes an mbuf.
enum class RecordMode {
    // The mbuf points at the record in its reader's buffers (an external
    // buffer): nothing more is copied, and the bytes are not the filters' to
    // change. The readers must outlive every mbuf.
    attach,
    // The record is copied into the mbuf's own data room (chained when larger),
    // as a NIC would have written it; filters may modify it.
    copy,
};

// The largest piece of a record one mbuf segment holds (an attached
// external buffer's length is 16 bits); larger records become chains.
inline constexpr uint32_t kMaxSegmentBytes = 32768;

// The mbufs a CaptureSource fills. For attach, their buffers are pinned
// external buffers (rte_pktmbuf_pool_create_extbuf) that the source points
// at each record: freeing one then touches nothing but the mbuf and one
// shared, read-only counter. For copy, an ordinary packet pool.
class RecordPool {
public:
    // Throws sl::RuntimeError.
    RecordPool(const std::string& name, unsigned count, int socket, RecordMode mode);
    ~RecordPool();
    RecordPool(const RecordPool&) = delete;
    RecordPool& operator=(const RecordPool&) = delete;
    rte_mempool* get() const noexcept { return pool_; }

private:
    rte_mempool* pool_ = nullptr;
    void* pinned_area_ = nullptr;  // what the pinned buffers point at until a record is attached
};

struct CaptureSourceOptions {
    RecordMode mode = RecordMode::attach;
    Pacing pacing;
    // The most bytes of a record in one segment (at most kMaxSegmentBytes,
    // and the pool's data room when copying).
    uint32_t segment_bytes = kMaxSegmentBytes;
    PacketNeeds needs;
};

// One worker's records (io/record_feed.hpp) as mbufs.
class alignas(64) CaptureSource final : public Source {
public:
    // The feed and the pool must outlive the source.
    CaptureSource(RecordFeed& feed, unsigned worker, rte_mempool* pool, const CaptureSourceOptions& options,
                  const std::atomic<bool>* stop);

    uint16_t read(rte_mbuf** packets, uint16_t max, uint16_t& input) noexcept override;

    // True once a walk after the one that read the last records began:
    // those records are through the graph by then.
    bool done() const noexcept override { return through_; }
    uint64_t mbuf_shortages() const noexcept { return shortages_; }
    // Read so far; any thread may ask.
    uint64_t packets() const noexcept { return packets_.load(std::memory_order_relaxed); }

private:
    bool copy_into(rte_mbuf* m, const Record& r) noexcept;
    bool attach_to(rte_mbuf* m, const Record& r) noexcept;
    bool due(uint64_t elapsed_ns) const noexcept;
    void finish() noexcept;

    RecordFeed& feed_;
    unsigned worker_;
    rte_mempool* pool_;
    RecordMode mode_;
    uint32_t segment_bytes_;
    PacketNeeds needs_;
    bool iova_is_va_;
    bool prefetch_;
    Pacing pacing_;
    const std::atomic<bool>* stop_;
    bool done_ = false;     // the last records were read
    bool through_ = false;  // and a walk went by since
    uint32_t idle_ = 0;
    uint64_t shortages_ = 0;
    std::atomic<uint64_t> packets_{0};
};

}  // namespace sl::io
