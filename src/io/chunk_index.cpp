// The chunk index of a pcap capture read by several workers: the thread that
// reads a chunk also finds its records and hashes their flows, while the
// bytes are in its CPU's cache, and the walk takes the records from there
// (io/capture_reader.hpp).
#include "io/capture_reader.hpp"

#include <sys/mman.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include <sl/error.hpp>

namespace sl::io {

void CaptureReader::UnmapIndex::operator()(Indexed* p) const noexcept {
    munmap(p, kChunks * kIndexEntries * sizeof(Indexed));
}

void CaptureReader::index_chunks(Hasher hasher) {
    // Records whose bytes the walk rewrites (post_process_) are found by
    // the walk alone.
    if (pcapng_ || post_process_) return;
    // Pages fault in as indexes fill them.
    void* m = mmap(nullptr, kChunks * kIndexEntries * sizeof(Indexed), PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) throw RuntimeError(fmt::format("{}: cannot allocate chunk indexes: {}", path_, std::strerror(errno)));
    index_.reset(static_cast<Indexed*>(m));
    hasher_ = hasher;
}

// True when pcap record headers follow each other from `at` as in a
// capture: a guess at where the first record of a chunk starts, which the
// walk checks when it gets there.
bool CaptureReader::plausible_chain(const uint8_t* c, size_t bytes, size_t at) const noexcept {
    constexpr int kHeaders = 4;
    constexpr uint32_t kDay = 86400;
    uint32_t last_sec = 0;
    for (int k = 0; k < kHeaders; k++) {
        if (at + 16 > bytes) return k > 0;
        const uint8_t* h = c + at;
        uint32_t sec = u32(h), frac = u32(h + 4), captured = u32(h + 8), wire = u32(h + 12);
        // (A wire length below the captured one happens in real files: not a sign.)
        if (captured > kMaxSnaplen || wire > (1u << 20)) return false;
        if (frac >= (nanosecond_ ? 1000000000u : 1000000u)) return false;
        if (k > 0 && (sec > last_sec + kDay || sec + kDay < last_sec)) return false;
        last_sec = sec;
        at += 16 + size_t{captured};
    }
    return true;
}

// Done by the thread that read the chunk. The walk uses the index only if
// its first record is where the walk finds the chunk's first record, so a
// wrong guess costs time, never a record.
void CaptureReader::index_chunk(size_t buffer) noexcept {
    Buffer& b = state_[buffer];
    b.indexed = 0;
    const uint8_t* c = chunk(buffer);
    size_t bytes = b.bytes;
    size_t at = 0;
    if (b.offset != first_record_) {
        size_t limit = std::min<size_t>(bytes, kMaxSnaplen + 16);
        while (at < limit && !plausible_chain(c, bytes, at)) at++;
        if (at >= limit) return;
    }
    Indexed* index = index_of(buffer);
    uint32_t n = 0;
    while (at + 16 <= bytes) {
        const uint8_t* h = c + at;
        uint32_t sec = u32(h), frac = u32(h + 4), captured = u32(h + 8), wire = u32(h + 12);
        if (captured > kMaxSnaplen || at + 16 + captured > bytes) break;  // the walk says what is wrong
        index[n++] = Indexed{static_cast<uint32_t>(at), captured, wire,
                             hasher_(h + 16, captured, dlt_),
                             uint64_t{sec} * 1000000000u + (nanosecond_ ? frac : uint64_t{frac} * 1000u)};
        at += 16 + size_t{captured};
    }
    b.indexed = n;
}

bool CaptureReader::take_indexed(IndexedRecords& records) noexcept {
    if (!index_ok_ || index_at_ >= state_[current_].indexed) return false;
    const Indexed* first = index_of(current_) + index_at_;
    if (pos_ != kChunk + first->offset) {
        if (pos_ > kChunk + first->offset) index_ok_ = false;
        return false;
    }
    uint32_t n = state_[current_].indexed - index_at_;
    const Indexed& last = first[n - 1];
    size_t end = kChunk + last.offset + 16 + last.captured;
    offset_ += end - pos_;
    pos_ = end;
    index_at_ += n;
    state_[current_].used_in = epoch_;
    records = IndexedRecords{first, n, chunk(current_), snaplen_};
    return true;
}

}  // namespace sl::io
