#include "io/record_feed.hpp"

#include <time.h>

#include <algorithm>
#include <limits>

namespace sl::io {
namespace {

uint64_t now_ns() noexcept {
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return uint64_t(ts.tv_sec) * 1000000000u + uint64_t(ts.tv_nsec);
}

constexpr uint64_t kLeft = std::numeric_limits<uint64_t>::max();

std::atomic<const RecordFeed*> g_running{nullptr};

}  // namespace

const RecordFeed* RecordFeed::running() noexcept { return g_running.load(std::memory_order_acquire); }

RecordFeed::RecordFeed(std::vector<std::unique_ptr<CaptureReader>>& readers, uint64_t loops, unsigned workers,
                       int dlt, CaptureReader::Hasher flow_hash)
    : workers_(std::max(workers, 1u)), batches_(std::make_unique<Batch[]>(kBatches)), dlt_(dlt), flow_hash_(flow_hash),
      loops_(loops ? loops : 1) {
    for (auto& r : readers) {
        inputs_.push_back(Input{r.get(), {}, false, false});
        following_ |= r->following();
        total_bytes_ += r->size();
        if (workers_.size() > 1) r->index_chunks(flow_hash);
    }
    for (uint64_t i = 0; i < kBatches; i++) {
        Batch& b = batches_[i];
        b.records.resize(kBatchRecords);
        b.begin.resize(workers_.size() + 1);
        if (workers_.size() > 1) {
            b.order.resize(kBatchRecords);
            b.owner.resize(kBatchRecords);
        }
    }    g_running.store(this, std::memory_order_release);
}

RecordFeed::~RecordFeed() {
    const RecordFeed* self = this;
    g_running.compare_exchange_strong(self, nullptr);
}

void RecordFeed::begin_burst(unsigned w) noexcept {
    Cursor& c = workers_[w];
    c.released.store(c.batch, std::memory_order_release);
    if (workers_.size() == 1) return;
    // Read before peek() looks for a batch: if none is there to read, the
    // next one starts at or after `end`.
    uint64_t end = published_end_.load(std::memory_order_acquire);
    const FeedRecord* next = peek(w);
    uint64_t done = next ? next->sequence : ended(w) ? kLeft : end;
    if (done > c.done_before.load(std::memory_order_relaxed)) c.done_before.store(done, std::memory_order_release);
}

void RecordFeed::leave(unsigned w) noexcept { workers_[w].released.store(kLeft, std::memory_order_release); }

void RecordFeed::left_behind(unsigned w) noexcept { workers_[w].done_before.store(kLeft, std::memory_order_release); }

const FeedRecord* RecordFeed::peek(unsigned w) noexcept {
    Cursor& c = workers_[w];
    while (true) {
        if (c.entered) {
            const Batch& b = batch(c.batch);
            if (c.at < c.end) return &b.records[workers_.size() == 1 ? c.at : b.order[c.at]];
            for (; c.in_range < b.range.count; c.in_range++) {
                const CaptureReader::Indexed& e = b.range.first[c.in_range];
                if (owner(e.hash) != w) continue;
                uint64_t at = e.timestamp_ns + b.range_loop_offset_ns;
                c.ranged = FeedRecord{Record{e.data(b.range.chunk), std::min(e.captured, b.range.snaplen), e.wire_len,
                                             e.timestamp_ns, e.hash, true},
                                      b.range_sequence + c.in_range, at > first_ts_ ? at - first_ts_ : 0, 0};
                return &c.ranged;
            }
            c.batch++;
            c.entered = false;
        }
        if (c.batch >= produced_.load(std::memory_order_acquire) && !produce(c.batch)) return nullptr;
        const Batch& b = batch(c.batch);
        c.at = b.begin[w];
        c.end = b.begin[w + 1];
        c.in_range = 0;
        c.entered = true;
    }
}

bool RecordFeed::ended(unsigned w) const noexcept {
    // The last batch is published before `ended_` is set.
    return ended_.load(std::memory_order_acquire) && workers_[w].batch >= produced_.load(std::memory_order_acquire);
}

bool RecordFeed::produce(uint64_t id) noexcept {
    if (ended_.load(std::memory_order_acquire)) return id < produced_.load(std::memory_order_acquire);
    if (producing_.exchange(true, std::memory_order_acquire)) return false;  // another worker reads
    bool published = produced_.load(std::memory_order_relaxed) > id || fill(id);
    producing_.store(false, std::memory_order_release);
    return published;
}

RecordFeed::Next RecordFeed::refill(Input& in) noexcept {
    if (in.has_pending) return Next::record;
    if (in.finished) return Next::ended;
    if (in.reader->next(in.pending)) {
        in.has_pending = true;
        return Next::record;
    }
    if (in.reader->waiting()) return Next::waiting;
    in.finished = true;
    if (error_.empty() && !in.reader->error().empty()) error_ = in.reader->error();
    return Next::ended;
}

int RecordFeed::earliest() noexcept {
    // One input is the common case: no comparison needed.
    if (inputs_.size() == 1) {
        Next n = refill(inputs_[0]);
        return n == Next::record ? 0 : n == Next::ended ? -1 : -2;
    }
    int best = -1;
    bool waiting = false;
    for (size_t i = 0; i < inputs_.size(); i++) {
        Next n = refill(inputs_[i]);
        waiting |= n == Next::waiting;
        if (n != Next::record) continue;
        if (best < 0 || inputs_[i].pending.timestamp_ns < inputs_[size_t(best)].pending.timestamp_ns)
            best = static_cast<int>(i);
    }
    if (following_ && !error_.empty()) return -1;
    // Which record is the earliest is known only once every input has one.
    return waiting ? -2 : best;
}

// With the readers held: reads, merges and deals batch `id`, unless a
// worker still reads the batch in its slot.
bool RecordFeed::fill(uint64_t id) noexcept {
    uint64_t horizon = kLeft;
    for (const Cursor& c : workers_) horizon = std::min(horizon, c.released.load(std::memory_order_acquire));
    if (horizon != kLeft && id >= horizon + kBatches) return false;
    // Reader epochs are batch numbers plus one: epoch 0 is "never used".
    uint64_t released = horizon == kLeft ? id + 1 : horizon + 1;
    for (auto& in : inputs_) in.reader->begin_epoch(id + 1, released);

    Batch& b = batch(id);
    b.range.count = 0;
    uint32_t n = 0;
    bool finished = false;
    while (n < kBatchRecords) {
        if (take_range(b)) break;
        int i = earliest();
        if (i == -2) break;  // a reader's buffers are all in use
        if (i < 0) {
            // A corrupt file is not replayed again.
            if (++loop_ < loops_ && error_.empty()) {
                loop_offset_ns_ += last_ts_ >= first_ts_ ? last_ts_ - first_ts_ : 0;
                for (auto& in : inputs_) {
                    in.reader->rewind();
                    in.finished = false;
                }
                continue;
            }
            finished = true;
            break;
        }
        Input& in = inputs_[size_t(i)];
        const Record& r = in.pending;
        if (!started_) {
            started_ = true;
            first_ts_ = r.timestamp_ns;
            start_ns_ = now_ns();
        }
        uint64_t at = r.timestamp_ns + loop_offset_ns_;
        FeedRecord& f = b.records[n];
        f.record = r;
        f.sequence = sequence_++;
        f.elapsed_ns = at > first_ts_ ? at - first_ts_ : 0;  // time going backwards in the file counts as 0
        f.input = static_cast<uint16_t>(i);
        if (workers_.size() > 1)
            b.owner[n] = static_cast<uint16_t>(owner(r.hashed ? r.hash : flow_hash_(r.data, r.captured, dlt_)));
        last_ts_ = r.timestamp_ns;
        in.has_pending = false;
        n++;
    }
    if (n == 0 && b.range.count == 0 && !finished) return false;
    b.count = n;
    deal(b);

    uint64_t position = 0;
    for (const auto& in : inputs_) position += in.reader->position();
    bytes_done_.store(std::min(loop_, loops_ - 1) * total_bytes_ + position, std::memory_order_relaxed);
    produced_.store(id + 1, std::memory_order_release);
    published_end_.store(sequence_, std::memory_order_release);
    if (finished) ended_.store(true, std::memory_order_release);
    return true;
}

// One capture read by several workers: where the walk is at the start of the
// rest of a chunk's index, the batch ends with all of it.
bool RecordFeed::take_range(Batch& b) noexcept {
    if (inputs_.size() != 1 || workers_.size() == 1) return false;
    Input& in = inputs_[0];
    if (in.has_pending || in.finished || !in.reader->take_indexed(b.range)) return false;
    const CaptureReader::Indexed& first = b.range.first[0];
    if (!started_) {
        started_ = true;
        first_ts_ = first.timestamp_ns;
        start_ns_ = now_ns();
    }
    b.range_sequence = sequence_;
    b.range_loop_offset_ns = loop_offset_ns_;
    sequence_ += b.range.count;
    last_ts_ = b.range.first[b.range.count - 1].timestamp_ns;
    return true;
}

// Each worker's records, in the order they came: a counting sort by owner.
void RecordFeed::deal(Batch& b) noexcept {
    size_t workers = workers_.size();
    if (workers == 1) {
        b.begin[0] = 0;
        b.begin[1] = b.count;
        return;
    }
    std::fill(b.begin.begin(), b.begin.end(), 0);
    for (uint32_t i = 0; i < b.count; i++) b.begin[b.owner[i] + 1]++;
    for (size_t w = 1; w <= workers; w++) b.begin[w] += b.begin[w - 1];
    // begin[w] moves up as worker w's records are placed, then back.
    for (uint32_t i = 0; i < b.count; i++) b.order[b.begin[b.owner[i]]++] = static_cast<uint16_t>(i);
    for (size_t w = workers; w > 0; w--) b.begin[w] = b.begin[w - 1];
    b.begin[0] = 0;
}

double RecordFeed::progress() const noexcept {
    if (total_bytes_ == 0) return 1.0;
    return double(bytes_done_.load(std::memory_order_relaxed)) / (double(total_bytes_) * double(loops_));
}

}  // namespace sl::io
