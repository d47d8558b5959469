// Feeds capture records into the graph as mbufs: several files merged by
// timestamp (`rx N` is the N-th file), optionally paced and looped.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include <rte_mempool.h>

#include "io/capture_reader.hpp"
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

class CaptureSource final : public Source {
public:
    // `segment_bytes`: the most bytes of a record in one segment (at most
    // kMaxSegmentBytes, and the pool's data room when copying).
    CaptureSource(std::vector<std::unique_ptr<CaptureReader>>& readers, rte_mempool* pool, RecordMode mode,
                  Pacing pacing, uint64_t loops, const std::atomic<bool>* stop,
                  uint32_t segment_bytes = kMaxSegmentBytes, PacketNeeds needs = {});

    uint16_t read(rte_mbuf** packets, uint16_t max, uint16_t& input) noexcept override;

    bool done() const noexcept override { return done_; }
    // The first reader error (a truncated record), or "".
    const std::string& error() const noexcept { return error_; }
    // Fraction of the work done, for the progress line.
    double progress() const noexcept;
    uint64_t mbuf_shortages() const noexcept { return shortages_; }
    uint64_t packets() const noexcept { return packets_; }  // read so far

private:
    struct Input {
        CaptureReader* reader;
        Record pending;
        bool has_pending = false;
        bool finished = false;
    };
    enum class Next { record, ended, waiting };
    Next refill(Input& in) noexcept;
    // The input whose pending record is the earliest; -1 when every input
    // ended, -2 when one waits for its buffers (the next burst goes on).
    int earliest() noexcept;
    bool copy_into(rte_mbuf* m, const Record& r) noexcept;
    bool attach_to(rte_mbuf* m, const Record& r) noexcept;
    bool due(uint64_t timestamp_ns) noexcept;

    std::vector<Input> inputs_;
    rte_mempool* pool_;
    RecordMode mode_;
    uint32_t segment_bytes_;
    PacketNeeds needs_;
    bool iova_is_va_;
    Pacing pacing_;
    uint64_t loops_;
    uint64_t loop_ = 0;
    const std::atomic<bool>* stop_;
    bool done_ = false;
    std::string error_;
    uint64_t shortages_ = 0;
    uint64_t packets_ = 0;
    // Pacing state: capture time and wall time of the first packet.
    bool pacing_started_ = false;
    uint64_t first_ts_ = 0;
    uint64_t last_ts_ = 0;
    uint64_t loop_offset_ns_ = 0;
    uint64_t wall_start_ns_ = 0;
    uint64_t total_bytes_ = 0;
};

}  // namespace sl::io
