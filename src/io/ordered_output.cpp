#include "io/ordered_output.hpp"

#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <mutex>
#include <vector>

#include <fmt/format.h>
#include <rte_lcore.h>

#include <sl/error.hpp>

#include "io/output_file.hpp"
#include "io/pcap_record.hpp"
#include "io/record_feed.hpp"

namespace sl::io {
namespace {

// A worker's ring holds the longest record many times over; a power of two.
constexpr size_t kRingBytes = 8u << 20;
constexpr uint32_t kMaxSnaplen = 262144;
// In a ring, each record is its place and the record as the file has it,
// padded to 8; a place of kWrap says the ring goes on at its start.
constexpr uint64_t kWrap = ~uint64_t{0};
// What one writev(2) takes at most.
constexpr size_t kMaxVectors = 1024;
constexpr size_t kMaxPendingBytes = 1u << 20;
constexpr long kMinIdleNs = 20000;
constexpr long kMaxIdleNs = 1000000;

size_t ring_bytes(size_t record) noexcept { return 8 + ((record + 7) & ~size_t{7}); }

std::mutex g_outputs_mutex;
std::map<std::string, std::weak_ptr<OrderedOutput>> g_outputs;

}  // namespace

struct OrderedOutput::Lane {
    std::unique_ptr<uint8_t[]> ring = std::make_unique_for_overwrite<uint8_t[]>(kRingBytes);
    // The worker's side.
    alignas(64) std::atomic<uint64_t> head{0};  // bytes appended and published
    std::atomic<bool> finished{false};
    uint64_t appended = 0;
    // The merging thread's side.
    alignas(64) std::atomic<uint64_t> tail{0};  // bytes written out: the worker may reuse them
    uint64_t taken = 0;                         // bytes in the writev being gathered, or written
    bool has_next = false;                      // the record at `taken` is published
    uint64_t next_sequence = 0;
};

std::shared_ptr<OrderedOutput> OrderedOutput::open(const std::string& path, uint32_t linktype, uint32_t snaplen,
                                                   unsigned workers) {
    std::lock_guard lock(g_outputs_mutex);
    std::erase_if(g_outputs, [](const auto& entry) { return entry.second.expired(); });
    if (auto existing = g_outputs[path].lock()) return existing;
    auto output = std::make_shared<OrderedOutput>(path, linktype, snaplen, workers);
    g_outputs[path] = output;
    return output;
}

OrderedOutput::OrderedOutput(const std::string& path, uint32_t linktype, uint32_t snaplen, unsigned workers)
    : path_(path), format_(static_cast<uint8_t>(file_format_for(path))),
      snaplen_(std::clamp<uint32_t>(snaplen, 1, kMaxSnaplen)), lanes_(std::make_unique<Lane[]>(workers)),
      workers_(workers) {
    fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd_ < 0) throw RuntimeError(fmt::format("{}: {}", path, std::strerror(errno)));
    // The header goes out with the first packets, from the merging thread:
    // a file that cannot be written fails the run, as with one worker.
    header_ = file_header(static_cast<FileFormat>(format_), linktype, snaplen_);
    if (rte_ctrl_thread_create(&thread_, "sl-pcap-merge", nullptr, merging_thread, this) != 0) {
        ::close(fd_);
        throw RuntimeError(fmt::format("{}: cannot start the thread that writes it", path));
    }
    threaded_ = true;
}

OrderedOutput::~OrderedOutput() {
    if (closed_) return;
    abandon_.store(true, std::memory_order_release);
    if (threaded_) pthread_join(thread_, nullptr);
    ::close(fd_);
}

bool OrderedOutput::append(unsigned w, uint64_t sequence, const rte_mbuf* m, uint64_t timestamp_ns,
                           uint32_t wire_len) noexcept {
    Lane& lane = lanes_[w];
    auto format = static_cast<FileFormat>(format_);
    uint32_t length = std::min(rte_pktmbuf_pkt_len(m), snaplen_);
    size_t need = ring_bytes(record_size(format, length));
    size_t at = lane.appended % kRingBytes;
    size_t skip = at + need > kRingBytes ? kRingBytes - at : 0;
    // A full ring: the disk, or another worker, is behind. What this worker
    // appended so far goes out first, so that the merge can go on.
    uint64_t tail = lane.tail.load(std::memory_order_acquire);
    while (lane.appended + skip + need - tail > kRingBytes) {
        if (error_.load(std::memory_order_relaxed) != 0 || abandon_.load(std::memory_order_relaxed)) return false;
        lane.head.store(lane.appended, std::memory_order_release);
        // Asleep, so that the merging thread has the CPU if it shares this
        // one: it wakes the worker once it wrote something out.
        lane.tail.wait(tail, std::memory_order_acquire);
        tail = lane.tail.load(std::memory_order_acquire);
    }
    if (error_.load(std::memory_order_relaxed) != 0) return false;
    uint8_t* ring = lane.ring.get();
    if (skip) {
        std::memcpy(ring + at, &kWrap, sizeof(kWrap));
        lane.appended += skip;
        at = 0;
    }
    uint8_t* p = ring + at;
    std::memcpy(p, &sequence, sizeof(sequence));
    put_record(format, p + 8, timestamp_ns, length, wire_len, [&](uint8_t* out) { copy_packet_bytes(m, out, length); });
    lane.appended += need;
    return true;
}

void OrderedOutput::publish(unsigned w) noexcept {
    Lane& lane = lanes_[w];
    lane.head.store(lane.appended, std::memory_order_release);
}

void OrderedOutput::finish(unsigned w) noexcept {
    publish(w);
    lanes_[w].finished.store(true, std::memory_order_release);
}

void OrderedOutput::close() {
    if (closed_) return;
    closed_ = true;
    if (threaded_) pthread_join(thread_, nullptr);
    if (::close(fd_) != 0 && error_.load() == 0) error_.store(errno);
    fd_ = -1;
    if (int e = error_.load()) throw RuntimeError(output_error(path_, e));
}

void* OrderedOutput::merging_thread(void* self) noexcept {
    static_cast<OrderedOutput*>(self)->merge();
    return nullptr;
}

namespace {

// The lane's next record, if it has published one.
void look(OrderedOutput::Lane& lane) noexcept;

}  // namespace

void OrderedOutput::merge() noexcept {
    std::vector<iovec> vectors;
    vectors.reserve(kMaxVectors);
    vectors.push_back({header_.data(), header_.size()});
    size_t pending = header_.size();
    uint64_t written = 0;
    auto write_out = [&] {
        size_t i = 0;
        while (i < vectors.size() && error_.load(std::memory_order_relaxed) == 0) {
            ssize_t n = ::writev(fd_, vectors.data() + i, static_cast<int>(std::min(vectors.size() - i, kMaxVectors)));
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) {
                error_.store(n < 0 ? errno : EIO, std::memory_order_relaxed);
                break;
            }
            written += static_cast<size_t>(n);
            for (auto left = static_cast<size_t>(n); left > 0;) {
                if (left >= vectors[i].iov_len) {
                    left -= vectors[i++].iov_len;
                } else {
                    vectors[i].iov_base = static_cast<uint8_t*>(vectors[i].iov_base) + left;
                    vectors[i].iov_len -= left;
                    left = 0;
                }
            }
        }
        // As the pcap writer does: writeback starts as the file grows, so
        // that dirty memory stays bounded and close() does not stall.
        if (pending > 0 && sync_file_range(fd_, 0, 0, SYNC_FILE_RANGE_WRITE) != 0 && errno != ESPIPE &&
            errno != EINVAL && error_.load(std::memory_order_relaxed) == 0)
            error_.store(errno, std::memory_order_relaxed);
        if (pending > 0 && error_.load(std::memory_order_relaxed) == 0 && file_removed(fd_))
            error_.store(kFileRemoved, std::memory_order_relaxed);
        vectors.clear();
        pending = 0;
        // Written, or lost to an error that close() reports: either way the
        // workers may reuse the room.
        for (unsigned w = 0; w < workers_; w++) {
            Lane& lane = lanes_[w];
            if (lane.tail.load(std::memory_order_relaxed) == lane.taken) continue;
            lane.tail.store(lane.taken, std::memory_order_release);
            lane.tail.notify_one();
        }
    };

    // Idle, the thread sleeps longer each time, up to a millisecond: a
    // worker's ring holds several milliseconds of packets, and a wake-up
    // costs its CPU to a worker that may share it.
    long idle_ns = kMinIdleNs;
    while (!abandon_.load(std::memory_order_acquire)) {
        Lane* first = nullptr;
        bool all_done = true;
        for (unsigned w = 0; w < workers_; w++) {
            Lane& lane = lanes_[w];
            bool finished = lane.finished.load(std::memory_order_acquire);
            if (!lane.has_next) look(lane);
            if (lane.has_next) {
                all_done = false;
                if (!first || lane.next_sequence < first->next_sequence) first = &lane;
            } else if (!finished) {
                all_done = false;
            }
        }
        if (all_done) break;
        bool may_take = first != nullptr;
        for (unsigned w = 0; may_take && w < workers_; w++) {
            Lane& lane = lanes_[w];
            if (lane.has_next) continue;  // first's packet comes before it
            // A worker with nothing waiting may still write an earlier
            // packet, unless it finished or is past that place in the input.
            // What it wrote before either is published by then: look again.
            bool finished = lane.finished.load(std::memory_order_acquire);
            const RecordFeed* feed = finished ? nullptr : RecordFeed::running();
            uint64_t done_before = finished ? kWrap : feed ? feed->done_before(w) : 0;
            look(lane);
            if (lane.has_next || done_before <= first->next_sequence) may_take = false;
        }
        if (may_take) {
            size_t at = first->taken % kRingBytes;
            uint8_t* record = first->ring.get() + at;
            size_t size = stored_record_size(static_cast<FileFormat>(format_), record + 8);
            vectors.push_back({record + 8, size});
            pending += size;
            first->taken += ring_bytes(size);
            first->has_next = false;
            if (vectors.size() == kMaxVectors || pending >= kMaxPendingBytes) write_out();
            idle_ns = kMinIdleNs;
            continue;
        }
        // Waiting for a worker: what is gathered goes out meanwhile.
        if (!vectors.empty()) {
            write_out();
        } else {
            timespec pause{0, idle_ns};
            nanosleep(&pause, nullptr);
            idle_ns = std::min(idle_ns * 2, kMaxIdleNs);
        }
    }
    write_out();
}

namespace {

void look(OrderedOutput::Lane& lane) noexcept {
    uint64_t head = lane.head.load(std::memory_order_acquire);
    while (lane.taken < head) {
        size_t at = lane.taken % kRingBytes;
        uint64_t sequence;
        std::memcpy(&sequence, lane.ring.get() + at, sizeof(sequence));
        if (sequence == kWrap) {
            lane.taken += kRingBytes - at;
            continue;
        }
        lane.next_sequence = sequence;
        lane.has_next = true;
        return;
    }
}

}  // namespace

}  // namespace sl::io
