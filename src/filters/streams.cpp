// streams "DIR": writes each TCP stream direction's bytes to a file of its
// own, named as tcpflow names them, so that tools written for tcpflow's
// output read ours: SRCIP.SRCPORT-DSTIP.DSTPORT, IPv4 addresses as four
// zero-padded octets, IPv6 ones as text, ports as five digits, "--VLAN"
// after a tagged flow's name, and "c1", "c2" ... after a later connection's
// between the same endpoints. Bytes go to their stream offset, so a gap
// stays a hole, as in tcpflow's files.
//
//   rx | bpf "tcp" | reassemble | streams "flows/"
//
// It takes every packet (the bytes are its output). The folder must be
// empty or new: files of an earlier run would mix with this one's. Bytes
// are gathered per direction (buffer=KIB for all directions of a worker,
// 0 to write each chunk at once) and are in their file when the direction
// ends, its buffer is needed elsewhere, or the run ends.
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include <sl/filter.hpp>
#include <sl/stream.hpp>

namespace {

class Streams final : public sl::Filter {
public:
    explicit Streams(sl::FilterContext& ctx)
        : write_error_(ctx.drop_reason("write_error")), files_(ctx.counter("files")), bytes_(ctx.counter("bytes")),
          failed_(ctx.counter("write_failures")) {
        const sl::Arg* dir = nullptr;
        max_open_ = default_open(ctx.worker_count());
        uint64_t buffer_kib = 32 * 1024;
        sl::ArgReader(ctx.args())
            .positional("folder", dir)
            .option("open", max_open_, 4, 1u << 20)
            .option("buffer", buffer_kib, 0, 16u << 20)
            .complete();
        if (dir->value.empty()) ctx.args().fail(*dir, "the folder name is empty");
        dir_ = ctx.output_path(dir->value);
        while (dir_.size() > 1 && dir_.back() == '/') dir_.pop_back();
        make_folder(ctx, *dir);
        // Files open relative to the folder: no walk of its path per file.
        dir_fd_ = ::open(dir_.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (dir_fd_ < 0) ctx.args().fail(*dir, dir_ + ": " + std::strerror(errno));
        buffers_.resize(buffer_kib * 1024 / sizeof(Buffer));
        free_.reserve(buffers_.size());
        for (Buffer& b : buffers_) give_back(&b);
    }
    ~Streams() override {
        close_all();
        if (dir_fd_ >= 0) ::close(dir_fd_);
    }

    void process(sl::Burst& burst) noexcept override {
        for (uint16_t i = 0; i < burst.size(); i++)
            if (const sl::StreamChunk* c = sl::stream_chunk(burst, i)) write(*c);
        burst.taken(burst.size(), write_error_);
    }
    void finish() override { close_all(); }

private:
    // Reopening a file costs a path lookup in a large folder: keep as many
    // open as the process may (raising its soft limit to the hard one, as
    // tcpflow does), shared by the workers, less some for everything else.
    static uint32_t default_open(unsigned workers) {
        rlimit files{};
        if (getrlimit(RLIMIT_NOFILE, &files) != 0) return 256;
        if (files.rlim_cur < files.rlim_max) {
            files.rlim_cur = files.rlim_max;
            setrlimit(RLIMIT_NOFILE, &files);
            getrlimit(RLIMIT_NOFILE, &files);
        }
        uint64_t spare = files.rlim_cur > 1024 ? files.rlim_cur - 256 : files.rlim_cur / 2;
        return static_cast<uint32_t>(std::clamp<uint64_t>(spare / std::max(workers, 1u), 4, 1u << 20));
    }

    struct Buffer;
    struct Entry {
        uint64_t serial = 0;
        int fd[2] = {-1, -1};
        Buffer* buffer[2] = {nullptr, nullptr};
        uint8_t suffix[2] = {0, 0};  // 0: not named yet; n: "c(n-1)", 1 being no suffix
    };
    // A stream direction's next bytes, gathered so that its file gets a few
    // large writes instead of one per segment: a write costs the kernel far
    // more than its bytes do. Buffers come from a pool of the worker; when
    // none is free, the clock hand takes one from another direction, whose
    // bytes are written first.
    static constexpr uint32_t kBufferBytes = 4096 - 24;
    struct Buffer {
        Entry* owner;       // null when free
        uint64_t offset;    // the stream offset of data[0]
        uint32_t length;
        uint8_t direction;
        uint8_t data[kBufferBytes];
    };
    struct Maker {
        const sl::FlowTable* flows;
        std::vector<Entry> entries;  // by flow id
    };

    void make_folder(sl::FilterContext& ctx, const sl::Arg& arg) {
        for (size_t at = 1; at <= dir_.size(); at++)
            if (at == dir_.size() || dir_[at] == '/') {
                std::string part = dir_.substr(0, at);
                if (mkdir(part.c_str(), 0755) != 0 && errno != EEXIST)
                    ctx.args().fail(arg, dir_ + ": " + std::strerror(errno));
            }
        DIR* d = opendir(dir_.c_str());
        if (!d) ctx.args().fail(arg, dir_ + ": " + std::strerror(errno));
        bool empty = true;
        while (dirent* e = readdir(d))
            if (std::strcmp(e->d_name, ".") != 0 && std::strcmp(e->d_name, "..") != 0) empty = false;
        closedir(d);
        // Every worker's instance checks before any writes: they share it.
        if (!empty && ctx.worker_index() == 0)
            ctx.args().fail(arg, dir_ + " is not empty: an earlier run's streams would mix with this one's");
    }

    Entry& entry_of(const sl::StreamChunk& c) noexcept {
        Maker* maker = nullptr;
        for (Maker& m : makers_)
            if (m.flows == c.flows) maker = &m;
        if (!maker) {
            // Once per stream maker upstream, on its first chunk.
            makers_.push_back({c.flows, std::vector<Entry>(c.flows->capacity())});
            maker = &makers_.back();
        }
        Entry& e = maker->entries[c.flow];
        if (e.serial != c.flow_serial) {
            close(e);
            e = {};
            e.serial = c.flow_serial;
        }
        return e;
    }

    // tcpflow's name for the direction's file, with the connection suffix.
    static void name(char* out, size_t size, const sl::FlowEndpoints& ep, unsigned d, unsigned suffix) {
        size_t n = sl::stream_name(out, size, ep, d);
        if (suffix > 1) std::snprintf(out + n, size - n, "c%u", suffix - 1);
    }

    int open_file(const sl::StreamChunk& c, Entry& e) noexcept {
        make_room();
        sl::FlowEndpoints ep = c.endpoints();
        char base[200];
        unsigned d = c.direction;
        if (e.suffix[d]) {  // named before: the file is ours
            name(base, sizeof(base), ep, d, e.suffix[d]);
            return ::openat(dir_fd_, base, O_WRONLY | O_CLOEXEC);
        }
        // A name taken by an earlier connection between the same endpoints
        // gets the next suffix.
        for (unsigned s = 1; s < 255; s++) {
            name(base, sizeof(base), ep, d, s);
            int fd = ::openat(dir_fd_, base, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
            if (fd >= 0) {
                e.suffix[d] = static_cast<uint8_t>(s);
                files_++;
                return fd;
            }
            if (errno != EEXIST) return -1;
        }
        return -1;
    }

    void write(const sl::StreamChunk& c) noexcept {
        if (c.length == 0 && !(c.flags & sl::kStreamEnd)) return;
        Entry& e = entry_of(c);
        unsigned d = c.direction & 1;
        int& fd = e.fd[d];
        if (c.length) {
            if (fd < 0 && (fd = open_file(c, e)) >= 0) open_count_++;
            if (fd < 0) failed_++;
            else buffer(e, d, c);
        }
        if ((c.flags & sl::kStreamEnd) && fd >= 0) {
            flush(e, d);
            ::close(fd);
            fd = -1;
            open_count_--;
        }
    }

    // Adds the chunk to its direction's buffer, writing what the buffer
    // held first when the chunk does not follow it or does not fit.
    void buffer(Entry& e, unsigned d, const sl::StreamChunk& c) noexcept {
        Buffer* b = e.buffer[d];
        if (b && (c.offset != b->offset + b->length || b->length + c.length > kBufferBytes)) flush(e, d);
        if (c.length > kBufferBytes) {  // as large as a buffer: straight to the file
            write_through(e, d, c);
            return;
        }
        if (!e.buffer[d]) {
            b = take_buffer();
            if (!b) {  // no pool (buffer=0)
                write_through(e, d, c);
                return;
            }
            b->owner = &e;
            b->offset = c.offset;
            b->length = 0;
            b->direction = static_cast<uint8_t>(d);
            e.buffer[d] = b;
        }
        b = e.buffer[d];
        c.for_each_span([&](const uint8_t* p, uint32_t n) {
            std::memcpy(b->data + b->length, p, n);
            b->length += n;
            return true;
        });
    }
    void write_through(Entry& e, unsigned d, const sl::StreamChunk& c) noexcept {
        uint64_t at = c.offset;
        bool ok = c.for_each_span([&](const uint8_t* p, uint32_t n) {
            ssize_t w = pwrite(e.fd[d], p, n, static_cast<off_t>(at));
            at += n;
            return w == static_cast<ssize_t>(n);
        });
        if (ok) bytes_ += c.length;
        else failed_++;
    }

    // Writes the direction's buffered bytes and frees its buffer.
    void flush(Entry& e, unsigned d) noexcept {
        Buffer* b = e.buffer[d];
        if (!b) return;
        e.buffer[d] = nullptr;
        if (b->length) {
            ssize_t w = pwrite(e.fd[d], b->data, b->length, static_cast<off_t>(b->offset));
            if (w == static_cast<ssize_t>(b->length)) bytes_ += b->length;
            else failed_++;
        }
        give_back(b);
    }
    void give_back(Buffer* b) noexcept {
        b->owner = nullptr;
        b->length = 0;
        free_.push_back(b);  // within the capacity reserved for every buffer
    }
    Buffer* take_buffer() noexcept {
        if (buffers_.empty()) return nullptr;
        if (free_.empty()) {
            Buffer& victim = buffers_[clock_];
            clock_ = clock_ + 1 == buffers_.size() ? 0 : clock_ + 1;
            flush(*victim.owner, victim.direction);
        }
        Buffer* b = free_.back();
        free_.pop_back();
        return b;
    }

    // At most `open` files at once: past it, files of other flows close
    // (they reopen when their flow writes again).
    void make_room() noexcept {
        for (size_t tries = 0; open_count_ >= max_open_ && tries < 2 * total_entries(); tries++) {
            Maker& m = makers_[hand_maker_ % makers_.size()];
            if (hand_ >= m.entries.size()) {
                hand_ = 0;
                hand_maker_++;
                continue;
            }
            close(m.entries[hand_++]);
        }
    }
    size_t total_entries() const noexcept {
        size_t n = 0;
        for (const Maker& m : makers_) n += m.entries.size();
        return n;
    }
    void close(Entry& e) noexcept {
        for (unsigned d = 0; d < 2; d++)
            if (e.fd[d] >= 0) {
                flush(e, d);
                ::close(e.fd[d]);
                e.fd[d] = -1;
                open_count_--;
            }
    }
    void close_all() noexcept {
        for (Maker& m : makers_)
            for (Entry& e : m.entries) close(e);
    }

    sl::DropReason write_error_;
    uint64_t& files_;
    uint64_t& bytes_;
    uint64_t& failed_;
    std::string dir_;
    int dir_fd_ = -1;
    uint32_t max_open_ = 256;
    uint32_t open_count_ = 0;
    std::vector<Maker> makers_;
    std::vector<Buffer> buffers_;
    std::vector<Buffer*> free_;
    size_t clock_ = 0;
    size_t hand_ = 0;
    size_t hand_maker_ = 0;
};

}  // namespace

SL_REGISTER_FILTER(Streams, sl::FilterType{.name = "streams",
                                           .access = sl::Access::metadata,
                                           .flags = sl::kSink | sl::kReadsStreams,
                                           .summary = "write each TCP stream direction to a file, named as tcpflow does",
                                           .usage = "streams \"DIR\" [open=FILES] [buffer=KIB]",
                                           .drops = "write_error"})
