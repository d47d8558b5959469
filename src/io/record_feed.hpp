// The records of a replay in the order they are replayed: every capture's
// records merged by time stamp, looped, and dealt to the workers by flow
// (the caller's dealer: packet/flow_hash.hpp), as RSS deals a NIC's packets to its queues, so that
// each worker's source sees its flows' records in order.
//
// The workers share the reading. Records come in batches of up to
// kBatchRecords, produced by whichever worker first needs the next batch:
// it reads the files, merges them and deals the batch, while the others go
// on with their graphs. A record stays where its reader put it until every
// worker has released the batch it came in; a worker releases everything
// handed to it when it starts its next burst, because the graph has freed
// every mbuf of a burst by the end of the walk.
//
// With one worker the same batches are read by that worker alone; nothing
// is dealt, and a batch is small enough that its bytes are still in the
// cache when the graph reads them.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "io/capture_reader.hpp"

namespace sl::io {

struct FeedRecord {
    Record record;
    uint64_t sequence;    // place among every record replayed, from 0, loops included
    uint64_t elapsed_ns;  // capture time since the first record, loops included (pacing)
    uint16_t input;       // which capture: `rx N`
};

class RecordFeed {
public:
    // `readers` (all of one link type `dlt`) must outlive the feed. A record
    // goes to the worker owner(flow_hash(record)); `flow_hash` is the same
    // for every packet of a flow, both ways.
    RecordFeed(std::vector<std::unique_ptr<CaptureReader>>& readers, uint64_t loops, unsigned workers, int dlt,
               CaptureReader::Hasher flow_hash);
    ~RecordFeed();
    RecordFeed(const RecordFeed&) = delete;
    RecordFeed& operator=(const RecordFeed&) = delete;

    // Worker `w`'s side, each called from that worker's thread only.
    //
    // A new burst: what was handed to `w` before is read no more (the graph
    // freed it), and `w` says how far it got (done_before()).
    void begin_burst(unsigned w) noexcept;
    // The next record for `w`, or null: none is ready (another worker is
    // reading, or the buffers still hold records in use), or none will come
    // (ended()). advance() hands it out.
    const FeedRecord* peek(unsigned w) noexcept;
    void advance(unsigned w) noexcept {
        Cursor& c = workers_[w];
        if (c.at < c.end) c.at++;
        else c.in_range++;
    }
    bool ended(unsigned w) const noexcept;
    // `w` reads no more (it stopped): nobody waits for it to release.
    void leave(unsigned w) noexcept;
    // After leave(), once the graph is through the last records `w` read:
    // nobody waits for it to get further (done_before()).
    void left_behind(unsigned w) noexcept;
    // Worker `w`: reads its turn of the files' next chunks while few are
    // read ahead, so that the copy out of the page cache is shared evenly.
    void read_ahead(unsigned w) noexcept {
        auto turns = static_cast<unsigned>(workers_.size());
        for (auto& in : inputs_) in.reader->read_ahead(kChunksAheadPerWorker * turns, w, turns);
    }

    // The monotonic time (ns) at which the first record was produced: where
    // pacing starts. Valid once a record was seen.
    uint64_t start_ns() const noexcept { return start_ns_; }
    unsigned inputs() const noexcept { return static_cast<unsigned>(inputs_.size()); }
    unsigned workers() const noexcept { return static_cast<unsigned>(workers_.size()); }

    // From any thread: every record before this place that `w` was dealt
    // has been through its graph, and `w` will get none of them again.
    // Sinks that write in the input's order wait for it
    // (io/ordered_output.hpp).
    uint64_t done_before(unsigned w) const noexcept { return workers_[w].done_before.load(std::memory_order_acquire); }
    // The feed of the replay running in this process, or null.
    static const RecordFeed* running() noexcept;

    // From any thread: the fraction of the work done, for a progress line.
    double progress() const noexcept;
    // From any thread: a capture being followed has no whole record more
    // for now (CaptureReader::follow), so no worker gets one until its
    // writer adds some.
    bool caught_up() const noexcept {
        for (const auto& in : inputs_)
            if (in.reader->caught_up()) return true;
        return false;
    }
    // Once the workers stopped: the first reader error (a truncated record), or "".
    const std::string& error() const noexcept { return error_; }

    // A batch is small, so that its records are still in the cache when a
    // graph reads them; the ring is long, so that a worker with more work
    // per packet than the others does not hold them up at once.
    static constexpr uint32_t kBatchRecords = 256;
    static constexpr uint64_t kBatches = 128;
    static constexpr unsigned kChunksAheadPerWorker = 1;

private:
    struct Input {
        CaptureReader* reader;
        Record pending;
        bool has_pending = false;
        bool finished = false;
    };
    // A batch is records the walk found one by one, dealt, then maybe the
    // rest of a chunk's index (CaptureReader::take_indexed), which each
    // worker reads through for its own: cheaper than dealing them here.
    struct Batch {
        uint32_t count = 0;
        // Worker w's records are records[order[i]] for i in [begin[w], begin[w + 1]).
        std::vector<FeedRecord> records;
        std::vector<uint16_t> order;
        std::vector<uint32_t> begin;
        std::vector<uint16_t> owner;  // while dealing
        CaptureReader::IndexedRecords range{};
        uint64_t range_sequence = 0;  // of range.first
        uint64_t range_loop_offset_ns = 0;
    };
    // Each worker's cursor, on a cache line of its own: `released` is read
    // by whichever worker produces.
    struct alignas(64) Cursor {
        std::atomic<uint64_t> released{0};  // every batch before this one is no longer read
        std::atomic<uint64_t> done_before{0};
        uint64_t batch = 0;                 // the batch being read, published or not
        uint32_t at = 0, end = 0;           // in the batch's order, once entered
        uint32_t in_range = 0;              // then in its range
        bool entered = false;
        FeedRecord ranged{};                // the range's record peek() gave
    };
    enum class Next { record, ended, waiting };

    Next refill(Input& in) noexcept;
    // The input whose pending record is the earliest; -1 when every input
    // ended, -2 when one waits for its buffers.
    int earliest() noexcept;
    // Publishes batch `id` if this worker may produce it now; true when it
    // is published (by this worker or another).
    bool produce(uint64_t id) noexcept;
    bool fill(uint64_t id) noexcept;
    void deal(Batch& b) noexcept;
    bool take_range(Batch& b) noexcept;
    // Which worker a flow hash goes to: a multiply, not a division.
    unsigned owner(uint32_t hash) const noexcept {
        return static_cast<unsigned>((uint64_t{hash} * workers_.size()) >> 32);
    }
    Batch& batch(uint64_t id) noexcept { return batches_[id % kBatches]; }

    std::vector<Input> inputs_;
    std::vector<Cursor> workers_;
    std::unique_ptr<Batch[]> batches_;
    int dlt_;
    CaptureReader::Hasher flow_hash_;
    uint64_t loops_;
    // Followed captures have no end: one that fails ends them all.
    bool following_ = false;

    // Shared between the workers.
    alignas(64) std::atomic<uint64_t> produced_{0};  // batches [0, produced_) are published
    std::atomic<bool> ended_{false};                 // no batch after the last published
    std::atomic<bool> producing_{false};             // a worker holds the readers
    std::atomic<uint64_t> bytes_done_{0};            // for progress(), over every loop
    // One past the last record of the last batch published; stored after
    // produced_, so that a worker that reads it and then finds no batch to
    // read knows its next record comes after it.
    std::atomic<uint64_t> published_end_{0};

    // The producer's, passed on with `producing_`.
    alignas(64) uint64_t loop_ = 0;
    uint64_t sequence_ = 0;
    bool started_ = false;
    uint64_t start_ns_ = 0;
    uint64_t first_ts_ = 0, last_ts_ = 0, loop_offset_ns_ = 0;
    uint64_t total_bytes_ = 0;
    std::string error_;
};

}  // namespace sl::io
