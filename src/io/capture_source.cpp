#include "io/capture_source.hpp"

#include <time.h>

#include <algorithm>

#include <rte_eal.h>
#include <rte_mbuf.h>
#include <rte_errno.h>
#include <rte_malloc.h>
#include <rte_memcpy.h>

#include <fmt/format.h>

#include <sl/error.hpp>

#include "sdk/packet_state.hpp"

namespace sl::io {
namespace {
uint64_t now_ns() {
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return uint64_t(ts.tv_sec) * 1000000000u + uint64_t(ts.tv_nsec);
}

// The one shared info of every attached record: its count stays at one, so
// freeing an mbuf of the pinned pool only reads it (rte_pktmbuf_prefree_seg).
// The records belong to their CaptureReader, which outlives the mbufs.
void keep_record(void*, void*) {}
rte_mbuf_ext_shared_info g_record_info = {keep_record, nullptr, 1};

// What a pinned buffer is before a record is attached: never read.
constexpr uint16_t kPinnedRoom = 64;
}  // namespace

RecordPool::RecordPool(const std::string& name, unsigned count, int socket, RecordMode mode) {
    if (mode == RecordMode::copy) {
        // A per-lcore cache of 256 keeps the pool's ring off the fast path.
        pool_ = rte_pktmbuf_pool_create(name.c_str(), count, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE, socket);
    } else {
        size_t bytes = size_t{count} * kPinnedRoom;
        pinned_area_ = rte_malloc_socket("sl_pinned", bytes, RTE_CACHE_LINE_SIZE, socket);
        if (pinned_area_) {
            rte_pktmbuf_extmem area{pinned_area_, rte_malloc_virt2iova(pinned_area_), bytes, kPinnedRoom};
            pool_ = rte_pktmbuf_pool_create_extbuf(name.c_str(), count, 256, 0, kPinnedRoom, socket, &area, 1);
        }
    }
    if (!pool_) {
        int err = rte_errno;
        rte_free(pinned_area_);
        throw RuntimeError(fmt::format("cannot create mempool '{}' of {} mbufs: {}", name, count, rte_strerror(err)));
    }
}

RecordPool::~RecordPool() {
    rte_mempool_free(pool_);
    rte_free(pinned_area_);
}

CaptureSource::CaptureSource(std::vector<std::unique_ptr<CaptureReader>>& readers, rte_mempool* pool,
                             RecordMode mode, Pacing pacing, uint64_t loops, const std::atomic<bool>* stop,
                             uint32_t segment_bytes, PacketNeeds needs)
    : pool_(pool), mode_(mode), segment_bytes_(std::clamp<uint32_t>(segment_bytes, 64, kMaxSegmentBytes)), needs_(needs),
      iova_is_va_(rte_eal_iova_mode() == RTE_IOVA_VA), pacing_(pacing),
      loops_(loops ? loops : 1), stop_(stop) {
    for (auto& r : readers) {
        inputs_.push_back(Input{r.get(), {}, false, false});
        total_bytes_ += r->size();
    }
}

CaptureSource::Next CaptureSource::refill(Input& in) noexcept {
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

int CaptureSource::earliest() noexcept {
    // One input is the common case: no comparison needed.
    if (inputs_.size() == 1) {
        Next n = refill(inputs_[0]);
        return n == Next::record ? 0 : n == Next::ended ? -1 : -2;
    }
    int best = -1;
    for (size_t i = 0; i < inputs_.size(); i++) {
        Next n = refill(inputs_[i]);
        // Which record is the earliest is known only once every input has one.
        if (n == Next::waiting) return -2;
        if (n == Next::ended) continue;
        if (best < 0 || inputs_[i].pending.timestamp_ns < inputs_[size_t(best)].pending.timestamp_ns)
            best = static_cast<int>(i);
    }
    return best;
}

bool CaptureSource::due(uint64_t timestamp_ns) noexcept {
    if (pacing_.mode == Pacing::Mode::top) return true;
    if (!pacing_started_) {
        pacing_started_ = true;
        first_ts_ = timestamp_ns;
        wall_start_ns_ = now_ns();
    }
    uint64_t capture_elapsed = timestamp_ns + loop_offset_ns_ - first_ts_;
    if (timestamp_ns + loop_offset_ns_ < first_ts_) capture_elapsed = 0;  // time going backwards in the file
    auto wall_due = wall_start_ns_ + static_cast<uint64_t>(double(capture_elapsed) / pacing_.factor);
    return now_ns() >= wall_due;
}

namespace {

// Spreads a record over `m` and as many more mbufs as it needs: records
// larger than one segment become a chain, as a NIC would give them.
// `put(seg, data, left)` fills one segment and says how many bytes it took.
template <typename Put>
bool fill_chain(rte_mbuf* m, const Record& r, rte_mempool* pool, Put put) noexcept {
    uint32_t left = r.captured;
    const uint8_t* data = r.data;
    rte_mbuf* seg = m;
    while (true) {
        uint32_t take = put(seg, data, left);
        seg->data_len = static_cast<uint16_t>(take);
        data += take;
        left -= take;
        if (left == 0) break;
        rte_mbuf* next = rte_pktmbuf_alloc(pool);
        if (!next) return false;
        seg->next = next;
        m->nb_segs++;
        seg = next;
    }
    m->pkt_len = r.captured;
    return true;
}

}  // namespace

bool CaptureSource::copy_into(rte_mbuf* m, const Record& r) noexcept {
    return fill_chain(m, r, pool_, [this](rte_mbuf* seg, const uint8_t* data, uint32_t left) {
        uint32_t take = std::min<uint32_t>({left, rte_pktmbuf_tailroom(seg), segment_bytes_});
        rte_memcpy(rte_pktmbuf_mtod(seg, uint8_t*), data, take);
        return take;
    });
}

bool CaptureSource::attach_to(rte_mbuf* m, const Record& r) noexcept {
    return fill_chain(m, r, pool_, [this](rte_mbuf* seg, const uint8_t* data, uint32_t left) {
        // The pool's buffers are pinned external buffers (RecordPool): the
        // mbuf is attached by pointing it at the record, in the mbuf's own
        // first cache line and the shared info.
        auto take = static_cast<uint16_t>(std::min(left, segment_bytes_));
        auto* bytes = const_cast<uint8_t*>(data);  // the reader's: Access::write filters get copies
        seg->buf_addr = bytes;
        rte_mbuf_iova_set(seg, iova_is_va_ ? reinterpret_cast<rte_iova_t>(bytes) : RTE_BAD_IOVA);
        seg->buf_len = take;
        seg->data_off = 0;
        seg->shinfo = &g_record_info;
        return uint32_t{take};
    });
}

uint16_t CaptureSource::read(rte_mbuf** packets, uint16_t max, uint16_t& input) noexcept {
    input = inputs_.size() == 1 ? 0 : kMixedInputs;
    if (done_) return 0;
    if (stop_ && stop_->load(std::memory_order_relaxed)) {
        done_ = true;
        return 0;
    }
    if (rte_pktmbuf_alloc_bulk(pool_, packets, max) != 0) {
        // Everything in flight is released by the end of each walk, so the
        // pool refills; try a smaller burst now.
        shortages_++;
        max = 1;
        if (rte_pktmbuf_alloc_bulk(pool_, packets, max) != 0) return 0;
    }
    for (auto& in : inputs_) in.reader->begin_burst();
    uint16_t n = 0;
    while (n < max) {
        int i = earliest();
        if (i == -2) break;  // a reader's buffers hold this burst's records
        if (i < 0) {
            if (++loop_ < loops_) {
                loop_offset_ns_ += last_ts_ >= first_ts_ ? last_ts_ - first_ts_ : 0;
                for (auto& in : inputs_) {
                    in.reader->rewind();
                    in.finished = false;
                }
                if (!error_.empty()) break;  // a corrupt file is not replayed again
                continue;
            }
            done_ = true;
            break;
        }
        Input& in = inputs_[size_t(i)];
        if (!due(in.pending.timestamp_ns)) break;
        rte_mbuf* m = packets[n];
        if (!(mode_ == RecordMode::attach ? attach_to(m, in.pending) : copy_into(m, in.pending))) {
            // The pool ran out in the middle of a chain: give back what was
            // taken and try this record again in the next burst.
            shortages_++;
            rte_pktmbuf_free(m);
            packets[n] = nullptr;  // rte_pktmbuf_free_bulk skips it
            break;
        }
        m->port = static_cast<uint16_t>(i);
        if (needs_.meta) {
            detail::set_timestamp_ns(m, in.pending.timestamp_ns);
            detail::mutable_meta(m).wire_len = in.pending.wire_len;
        }
        if (needs_.unparsed) detail::PacketBookkeeping::mark_unparsed(m);
        if (needs_.references) detail::PacketBookkeeping::first_reference(m);
        last_ts_ = in.pending.timestamp_ns;
        in.has_pending = false;
        n++;
    }
    if (n < max) rte_pktmbuf_free_bulk(packets + n, max - n);
    packets_ += n;
    return n;
}

double CaptureSource::progress() const noexcept {
    if (total_bytes_ == 0) return 1.0;
    uint64_t pos = 0;
    for (const auto& in : inputs_) pos += in.reader->position();
    return (double(loop_) + double(pos) / double(total_bytes_)) / double(loops_);
}

}  // namespace sl::io
