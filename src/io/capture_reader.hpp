// Reads pcap and pcapng captures with pread(2) into buffers of its own, in
// chunks that any thread may read ahead, and hands out records where they
// lie there.
//
// DPDK's net_pcap goes through libpcap one packet at a time and is slower
// than tcpdump itself. A memory mapping of the file avoids the copy, but on
// a VM the page tables it needs cost more than the copy does (walking a 1 GB
// capture: 0.5-0.75 s mapped, 0.2 s read), and reading keeps the memory
// bound: captures far larger than RAM replay through the same buffers.
//
// The copy out of the page cache is most of what reading costs, so several
// workers share it: the records are walked in order by one thread at a time
// (next()), while read_ahead() fills the next free chunk from any thread.
//
// A record stays where it is until the chunk it lies in is read again,
// which happens only once the epoch it was handed out in is released: the
// caller numbers the epochs (io/record_feed.hpp: one per batch of records)
// and says which are over.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace sl::io {

struct Record {
    const uint8_t* data;
    uint32_t captured;  // bytes present in the file
    uint32_t wire_len;  // bytes on the wire
    uint64_t timestamp_ns;
    uint32_t hash = 0;  // its flow's hash, when the reader found it (hashed)
    bool hashed = false;
};

class CaptureReader {
public:
    // Opens `path`. Throws sl::RuntimeError with libpcap's own one-line
    // reason when libpcap cannot open it.
    explicit CaptureReader(const std::string& path);
    ~CaptureReader();
    CaptureReader(const CaptureReader&) = delete;
    CaptureReader& operator=(const CaptureReader&) = delete;

    const std::string& path() const noexcept { return path_; }
    int dlt() const noexcept { return dlt_; }              // libpcap's DLT_ value
    uint32_t linktype() const noexcept { return linktype_; } // the file's LINKTYPE_ value
    // The snap length its header gives (its first interface's, in pcapng);
    // kMaxSnaplen when it gives none.
    uint32_t snaplen() const noexcept { return snaplen_; }
    // Saved on a host of the other byte order (its headers are swapped as read).
    bool byte_swapped() const noexcept { return swapped_; }
    uint64_t size() const noexcept { return size_; }
    uint64_t position() const noexcept { return offset_; }  // in the file, of the next record

    // The memory records are handed out from, page-aligned: the imported
    // segment that mbufs attach to.
    const uint8_t* buffers() const noexcept { return buffers_.get(); }

    // The walk through the records, by one thread at a time (the caller
    // passes it on with a release and an acquire).
    //
    // The next record. False at the end of the file, at corrupt data (then
    // error() says what, in libpcap's words where libpcap has them), or when
    // its bytes are not read yet or every chunk still holds records of
    // epochs not released (then waiting() is true: try again later).
    bool next(Record& record) noexcept;
    bool waiting() const noexcept { return waiting_; }
    const std::string& error() const noexcept { return error_; }
    // Records handed out from now on belong to `epoch` (from 1, rising);
    // those of epochs before `released` are no longer read. The last record
    // handed out belongs to `epoch` too: its caller may still hold it.
    void begin_epoch(uint64_t epoch, uint64_t released) noexcept;
    // Back to the first record, once the walk reached the end of the file.
    void rewind() noexcept;

    // Follows the file as its writer appends to it, as `tail -f` does
    // (sl-replay --follow): at its end, or in the middle of a record still
    // being written, next() waits (waiting() and caught_up() are true)
    // instead of ending, and looks at the file's size again on each call.
    // A file that shrinks ends the walk with an error. Before reading starts.
    void follow() noexcept { follow_ = true; }
    bool following() const noexcept { return follow_; }
    // Following: the walk has every whole record the file held when it last
    // looked. Any thread may ask.
    bool caught_up() const noexcept { return caught_up_.load(std::memory_order_relaxed); }

    // Any thread: reads the next chunk of the file into a free buffer, if
    // there is one and fewer than `ahead` chunks are read but not walked.
    // True when it read one. With `turns` > 1, only a chunk whose number is
    // `turn` modulo `turns`: workers that take turns share the reading, and
    // the records each worker gets come as much from its own CPU's cache as
    // from the others'. (A chunk the walk needs now is read by the walk,
    // whoever's turn it is.)
    bool read_ahead(unsigned ahead, unsigned turn = 0, unsigned turns = 1) noexcept;
    // With several workers: whoever reads a chunk of a pcap file also finds
    // its records and hashes their flows with `hasher`, while the bytes are
    // in that CPU's cache, and the walk takes the records from that index.
    // Before reading starts (the chunk read when opening is walked as is).
    using Hasher = uint32_t (*)(const uint8_t* data, uint32_t captured, int dlt) noexcept;
    void index_chunks(Hasher hasher);
    // A record of a chunk's index: where it lies in the chunk, its header,
    // and its flow's hash.
    struct Indexed {
        uint32_t offset;
        uint32_t captured;  // as stored; handed out cut to the snap length (IndexedRecords::snaplen)
        uint32_t wire_len;
        uint32_t hash;
        uint64_t timestamp_ns;
        const uint8_t* data(const uint8_t* chunk) const noexcept { return chunk + offset + 16; }
    };
    struct IndexedRecords {
        const Indexed* first;
        uint32_t count;
        const uint8_t* chunk;
        uint32_t snaplen;  // records longer are cut to it, as libpcap cuts them
    };
    // The walk: when the next records are the rest of the current chunk's
    // index, hands them all out at once (as next() would one by one).
    bool take_indexed(IndexedRecords& records) noexcept;
    // How far ahead of the walk the kernel is asked to read the file in
    // (POSIX_FADV_WILLNEED); 16 MiB unless set. Before reading starts.
    void set_read_ahead(uint64_t bytes) noexcept { advice_ = bytes; }

    // libpcap's upper bound for a record; larger ones are corrupt.
    static constexpr uint32_t kMaxSnaplen = 262144;
    // The snap length libpcap reads a file with: a header's 0, or more than
    // the bound, means the bound.
    static constexpr uint32_t effective_snaplen(uint32_t snaplen) noexcept {
        return snaplen == 0 || snaplen > kMaxSnaplen ? kMaxSnaplen : snaplen;
    }
    // A chunk holds more than the largest record, so that a record lies in
    // at most two; the walk copies the first part of one that does in front
    // of the second. A buffer is the room for that part and a chunk.
    static constexpr size_t kChunk = 512u << 10;
    static constexpr size_t kChunks = 32;
    static constexpr size_t kBuffersSize = kChunks * 2 * kChunk;
    // libpcap's largest pcapng block.
    static constexpr uint32_t kMaxFollowedBlock = 16u << 20;

private:
    // The state of a chunk buffer: free, being read by some thread, read.
    enum : uint32_t { kFree, kReading, kRead };
    struct Buffer {
        std::atomic<uint32_t> state{kFree};
        uint64_t offset = 0;  // in the file, of the chunk's first byte
        uint32_t bytes = 0;   // read; fewer than kChunk at the end of the file
        int error = 0;        // errno of a read that failed
        uint64_t used_in = 0; // the walk's: the epoch that last handed out one of its records
        uint32_t indexed = 0; // records in its index
    };
    static constexpr size_t kIndexEntries = kChunk / 16;
    Indexed* index_of(size_t buffer) const noexcept { return index_.get() + buffer * kIndexEntries; }
    void index_chunk(size_t buffer) noexcept;
    bool plausible_chain(const uint8_t* chunk, size_t bytes, size_t at) const noexcept;
    uint8_t* base(size_t buffer) const noexcept { return buffers_.get() + buffer * 2 * kChunk; }
    uint8_t* chunk(size_t buffer) const noexcept { return base(buffer) + kChunk; }
    static constexpr int kShrank = -1;  // Buffer::error: the file ended before its size

    // `bytes` contiguous bytes at the walk's position; null at the end of
    // the file or when the next chunk is not there yet (waiting_).
    const uint8_t* have(uint32_t bytes) noexcept;
    bool next_chunk() noexcept;
    void free_passed() noexcept;
    void consume(uint32_t bytes) noexcept;
    bool skip_pending() noexcept;
    bool next_pcap(Record& record) noexcept;
    bool next_pcapng(Record& record) noexcept;
    bool fail(std::string message) noexcept;
    bool await_more(uint64_t left) noexcept;
    void grow() noexcept;
    uint64_t block_at_ = 0;  // where the record or block being read starts
    bool first_interface_read_ = false;  // pcapng: linktype_ and snaplen_ are the file's first interface's
    uint32_t u32(const uint8_t* p) const noexcept;
    uint16_t u16(const uint8_t* p) const noexcept;

    struct Interface {
        uint32_t linktype;
        uint32_t snaplen;
        bool binary_resolution;  // if_tsresol: 2^-n instead of 10^-n
        uint8_t resolution;
    };
    struct Unmap {
        void operator()(uint8_t* p) const noexcept;
    };
    struct UnmapIndex {
        void operator()(Indexed* p) const noexcept;
    };

    std::string path_;
    int fd_ = -1;
    uint64_t size_ = 0;
    uint64_t first_record_ = 0;
    std::unique_ptr<uint8_t[], Unmap> buffers_;
    std::unique_ptr<Buffer[]> state_;
    Hasher hasher_ = nullptr;
    std::unique_ptr<Indexed[], UnmapIndex> index_;  // kIndexEntries per buffer

    // Reading ahead, under `claim_`: the next chunk to read and its buffer.
    std::atomic_flag claim_ = ATOMIC_FLAG_INIT;
    uint64_t claim_offset_ = 0;
    size_t claim_buffer_ = 0;
    uint64_t advised_ = 0;
    uint64_t advice_ = 16u << 20;
    std::atomic<uint64_t> claimed_{0};  // chunks claimed, ever
    std::atomic<uint64_t> walked_{0};   // chunks the walk moved into, ever

    // The walk's.
    size_t current_ = kChunks - 1;  // the buffer walked, once walking_
    size_t oldest_ = 0;             // the first buffer passed and not yet free
    bool walking_ = false;
    uint32_t index_at_ = 0;         // the current chunk's next indexed record
    bool index_ok_ = false;         // its index starts where the walk found its first record
    size_t pos_ = 0, end_ = 0;      // within the current buffer (from its start, spill included)
    uint64_t offset_ = 0;           // file offset of pos_
    uint64_t expect_ = 0;           // file offset of the chunk the walk moves into next
    uint64_t skip_ = 0;             // bytes of an unread block still to pass over
    uint64_t epoch_ = 1;
    uint64_t released_ = 1;         // epochs before it are released
    bool waiting_ = false;
    bool follow_ = false;
    std::atomic<bool> caught_up_{false};
    int dlt_ = 0;
    uint32_t linktype_ = 0;
    uint32_t snaplen_ = kMaxSnaplen;
    bool pcapng_ = false;
    bool swapped_ = false;
    bool nanosecond_ = false;
    // The link type has pseudo-headers libpcap rewrites as it reads
    // (io/pseudo_headers.hpp): so does the walk, in the buffer it owns.
    bool post_process_ = false;
    std::vector<Interface> interfaces_;
    std::string error_;
};

}  // namespace sl::io
