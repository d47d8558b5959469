#include "io/capture_source.hpp"

#include <sched.h>
#include <time.h>

#include <algorithm>

#include <rte_eal.h>
#include <rte_mbuf.h>
#include <rte_errno.h>
#include <rte_malloc.h>
#include <rte_memcpy.h>
#include <rte_prefetch.h>

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

// Empty reads in a row before a worker gives its CPU away; a few microseconds.
constexpr uint32_t kIdleBeforeYield = 64;
// How long a worker sleeps while a followed capture has nothing new: its
// writer is a capture program that writes a buffer at a time.
constexpr long kFollowPauseNs = 1'000'000;
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

CaptureSource::CaptureSource(RecordFeed& feed, unsigned worker, rte_mempool* pool,
                             const CaptureSourceOptions& options, const std::atomic<bool>* stop)
    : feed_(feed), worker_(worker), pool_(pool), mode_(options.mode),
      segment_bytes_(std::clamp<uint32_t>(options.segment_bytes, 64, kMaxSegmentBytes)), needs_(options.needs),
      iova_is_va_(rte_eal_iova_mode() == RTE_IOVA_VA), prefetch_(feed.workers() > 1 && options.needs.bytes),
      pacing_(options.pacing), stop_(stop) {}

bool CaptureSource::due(uint64_t elapsed_ns) const noexcept {
    if (pacing_.mode == Pacing::Mode::top) return true;
    return now_ns() >= feed_.start_ns() + static_cast<uint64_t>(double(elapsed_ns) / pacing_.factor);
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

void CaptureSource::finish() noexcept {
    done_ = true;
    feed_.leave(worker_);
}

uint16_t CaptureSource::read(rte_mbuf** packets, uint16_t max, uint16_t& input) noexcept {
    input = feed_.inputs() == 1 ? 0 : kMixedInputs;
    // A walk after the one that found the end: its records are through.
    if (done_) {
        feed_.left_behind(worker_);
        through_ = true;
        return 0;
    }
    if (stop_ && stop_->load(std::memory_order_relaxed)) {
        finish();
        feed_.left_behind(worker_);
        through_ = true;
        return 0;
    }
    // The graph freed what the last burst handed out.
    feed_.begin_burst(worker_);
    if (feed_.workers() > 1) feed_.read_ahead(worker_);
    if (rte_pktmbuf_alloc_bulk(pool_, packets, max) != 0) {
        // Everything in flight is released by the end of each walk, so the
        // pool refills; try a smaller burst now.
        shortages_++;
        max = 1;
        if (rte_pktmbuf_alloc_bulk(pool_, packets, max) != 0) return 0;
    }
    uint16_t n = 0;
    while (n < max) {
        const FeedRecord* f = feed_.peek(worker_);
        if (!f) {
            if (feed_.ended(worker_)) finish();
            break;
        }
        if (!due(f->elapsed_ns)) break;
        rte_mbuf* m = packets[n];
        if (!(mode_ == RecordMode::attach ? attach_to(m, f->record) : copy_into(m, f->record))) {
            // The pool ran out in the middle of a chain: give back what was
            // taken and try this record again in the next burst.
            shortages_++;
            rte_pktmbuf_free(m);
            packets[n] = nullptr;  // rte_pktmbuf_free_bulk skips it
            break;
        }
        // Another CPU read the record: its first line is on the way while
        // the rest of the burst is attached.
        if (prefetch_) {
            // The headers a parse reads reach into the second line: records
            // lie in the chunk at any alignment.
            rte_prefetch0(f->record.data);
            rte_prefetch0(f->record.data + RTE_CACHE_LINE_SIZE);
        }
        m->port = f->input;
        if (needs_.sequence) detail::PacketBookkeeping::set_sequence(m, f->sequence);
        if (needs_.meta) {
            detail::set_timestamp_ns(m, f->record.timestamp_ns);
            detail::mutable_meta(m).wire_len = f->record.wire_len;
        }
        if (needs_.unparsed) detail::PacketBookkeeping::mark_unparsed(m);
        if (needs_.references) detail::PacketBookkeeping::first_reference(m);
        feed_.advance(worker_);
        n++;
    }
    if (n < max) rte_pktmbuf_free_bulk(packets + n, max - n);
    packets_.store(packets_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
    // Nothing ready: a followed capture has nothing new (sleep until its
    // writer adds some), or another worker reads the files or holds the
    // buffers (on a machine with more workers than free CPUs, let it run).
    if (n == 0 && !done_) {
        if (feed_.caught_up()) {
            idle_ = 0;
            timespec pause{0, kFollowPauseNs};
            nanosleep(&pause, nullptr);
        } else if (++idle_ >= kIdleBeforeYield) {
            idle_ = 0;
            sched_yield();
        }
    } else {
        idle_ = 0;
    }
    return n;
}

}  // namespace sl::io
