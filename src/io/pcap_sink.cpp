#include <sl/pcap_sink.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <vector>

#include <fmt/format.h>

#include <sl/pcap_writer.hpp>

#include "io/capture_reader.hpp"
#include "io/ordered_output.hpp"
#include "sdk/packet_state.hpp"

namespace sl {
namespace {

// Where each packet of a worker's part came in the input, 8 bytes per
// packet, in a file that has no name (it goes when the sink does).
class SequenceLog {
public:
    explicit SequenceLog(const std::string& beside) {
        std::string path = beside + ".seq";
        fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd_ < 0) throw RuntimeError(fmt::format("{}: {}", path, std::strerror(errno)));
        ::unlink(path.c_str());
    }
    ~SequenceLog() { ::close(fd_); }
    SequenceLog(const SequenceLog&) = delete;
    SequenceLog& operator=(const SequenceLog&) = delete;

    void append(uint64_t sequence) noexcept {
        buffer_[used_++] = sequence;
        if (used_ == kEntries) flush();
    }
    // False once an append was lost.
    bool flush() noexcept {
        if (used_ > 0 && !write_all()) failed_ = true;
        used_ = 0;
        return !failed_;
    }
    // After the last append and flush(): the sequences from the start.
    bool rewind() noexcept {
        used_ = next_ = 0;
        return ::lseek(fd_, 0, SEEK_SET) == 0;
    }
    bool next(uint64_t& sequence) noexcept {
        if (next_ == used_) {
            ssize_t n;
            do n = ::read(fd_, buffer_, sizeof(buffer_));
            while (n < 0 && errno == EINTR);
            if (n <= 0) return false;
            used_ = static_cast<size_t>(n) / sizeof(uint64_t);
            next_ = 0;
            if (used_ == 0) return false;
        }
        sequence = buffer_[next_++];
        return true;
    }

private:
    bool write_all() noexcept {
        const auto* p = reinterpret_cast<const uint8_t*>(buffer_);
        size_t left = used_ * sizeof(uint64_t);
        while (left > 0) {
            ssize_t n = ::write(fd_, p, left);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) return false;
            p += n;
            left -= static_cast<size_t>(n);
        }
        return true;
    }

    static constexpr size_t kEntries = 8192;
    int fd_ = -1;
    uint64_t buffer_[kEntries];
    size_t used_ = 0, next_ = 0;
    bool failed_ = false;
};

// A part read back in the input's order. A worker's packets reach its sink
// in that order but where branches join: then packets of one burst may come
// in another order, and some twice, so that a packet is at most a burst per
// way in (kMaxBurst x ways_in) from its place. A window of that many
// packets, sorted, puts each in its place; packets that came twice keep the
// order they came in.
class PartStream {
public:
    struct Packet {
        uint64_t sequence = 0;
        uint64_t arrival = 0;
        io::Record record{};
        std::vector<uint8_t> bytes;  // the record's, when it was held in the window
    };

    PartStream(const std::string& path, SequenceLog& sequences, size_t window)
        : path_(path), reader_(path), sequences_(sequences), window_(window) {
        if (!sequences_.rewind()) throw RuntimeError(fmt::format("{}: cannot read the order of its packets", path));
    }

    // The next packet in the input's order into `out`; false at the end.
    // `out` stays valid until the next call. Throws RuntimeError.
    bool next(Packet& out) {
        if (window_ == 1) return read(out);
        while (held_.size() < window_ && !ended_) {
            Packet p;
            if (!read(p)) {
                ended_ = true;
                break;
            }
            p.bytes.assign(p.record.data, p.record.data + p.record.captured);
            p.record.data = p.bytes.data();
            held_.push_back(std::move(p));
            std::push_heap(held_.begin(), held_.end(), later);
        }
        if (held_.empty()) return false;
        std::pop_heap(held_.begin(), held_.end(), later);
        out = std::move(held_.back());
        held_.pop_back();
        return true;
    }

private:
    static bool later(const Packet& a, const Packet& b) {
        return a.sequence != b.sequence ? a.sequence > b.sequence : a.arrival > b.arrival;
    }

    bool read(Packet& p) {
        // What was handed out before is written or copied.
        reader_.begin_epoch(epoch_ + 1, epoch_ + 1);
        epoch_++;
        bool record = reader_.next(p.record);
        bool sequence = sequences_.next(p.sequence);
        if (!reader_.error().empty()) throw RuntimeError(reader_.error());
        if (record != sequence)
            throw RuntimeError(fmt::format("{}: {} packets than places in the input", path_, record ? "more" : "fewer"));
        p.arrival = arrivals_++;
        return record;
    }

    std::string path_;
    io::CaptureReader reader_;
    SequenceLog& sequences_;
    size_t window_;
    uint64_t epoch_ = 1;
    uint64_t arrivals_ = 0;
    std::vector<Packet> held_;  // a heap, earliest first
    bool ended_ = false;
};

}  // namespace

// Beside the file, on the file system that will hold it; for what is not a
// file (a pipe, /dev/stdout), in $TMPDIR.
std::string part_path_for(const std::string& path, unsigned worker) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0 || S_ISREG(st.st_mode)) return fmt::format("{}.w{}.part", path, worker);
    const char* tmp = std::getenv("TMPDIR");
    std::string dir = tmp && *tmp ? tmp : "/tmp";
    std::string base = path.substr(path.rfind('/') + 1);
    return fmt::format("{}/sl-replay-{}-{}.w{}.part", dir, getpid(), base, worker);
}

// sl-replay keeps a file in the input's order where one writer alone would
// not: several workers in a chain write it together as they go
// (io/ordered_output.hpp); where branches join before the sink, a packet may
// come once per branch and a burst out of order, and each worker writes a
// part that is merged when the run ends.
struct PcapSink::Output {
    Output(FilterContext& ctx, const std::string& name)
        : written(ctx.counter("written")), write_error(ctx.drop_reason("write_error")) {
        worker = ctx.worker_index();
        if (!ctx.live() && ctx.worker_count() > 1 && ctx.ways_in() == 1) {
            ordered = io::OrderedOutput::open(ctx.output_path(name), ctx.capture_linktype(), ctx.capture_snaplen(),
                                              ctx.worker_count());
            return;
        }
        parts = !ctx.live() && (ctx.worker_count() > 1 || ctx.ways_in() > 1);
        if (!parts) {
            writer = std::make_unique<PcapWriter>(ctx.output_path(per_worker(ctx, name)), ctx.capture_linktype(),
                                                  ctx.capture_snaplen(), ctx.input_name());
            return;
        }
        path = ctx.output_path(name);
        part_path = part_path_for(path, ctx.worker_index());
        window = ctx.ways_in() > 1 ? size_t{kMaxBurst} * ctx.ways_in() : 1;
        // The file itself is created now, so that a path that cannot be
        // written fails before the run; the merge fills it.
        // Parts are pcap, whole records; the merge cuts them as one writer would.
        if (ctx.worker_index() == 0)
            merged = std::make_unique<PcapWriter>(path, ctx.capture_linktype(), ctx.capture_snaplen());
        writer = std::make_unique<PcapWriter>(part_path, ctx.capture_linktype());
        sequences = std::make_unique<SequenceLog>(part_path);
    }
    ~Output() {
        writer.reset();
        if (parts) ::unlink(part_path.c_str());
    }

    std::unique_ptr<PcapWriter> writer;  // the file, or this worker's part
    std::shared_ptr<io::OrderedOutput> ordered;  // or the file all workers write in order
    unsigned worker = 0;
    uint64_t& written;
    DropReason write_error;
    // Through parts:
    bool parts = false;
    std::string path, part_path;
    size_t window = 1;
    std::unique_ptr<PcapWriter> merged;  // worker 0's: the file the parts go into
    std::unique_ptr<SequenceLog> sequences;
    uint64_t last_sequence = 0;

    // The packet's place in the input. The source stamps its low 32 bits;
    // packets reach a sink in the input's order give or take a burst, so
    // the nearest value with those bits is the place.
    uint64_t place_of(const rte_mbuf* m) noexcept {
        uint32_t low = detail::PacketBookkeeping::sequence(m);
        auto delta = static_cast<int32_t>(low - static_cast<uint32_t>(last_sequence));
        last_sequence += static_cast<uint64_t>(static_cast<int64_t>(delta));
        return last_sequence;
    }
};

PcapSink::PcapSink(FilterContext& ctx, const std::string& path) : out_(std::make_unique<Output>(ctx, path)) {}

PcapSink::~PcapSink() = default;

void PcapSink::process(Burst& burst) noexcept {
    // A writer that failed refuses every packet after that: what went in is
    // the burst's first packets.
    Output& o = *out_;
    uint16_t n = 0;
    if (o.ordered) {
        while (n < burst.size() &&
               o.ordered->append(o.worker, o.place_of(burst[n]), burst[n], timestamp_ns(burst[n]), meta(burst[n]).wire_len))
            n++;
        o.ordered->publish(o.worker);
        o.written += n;
        burst.taken(n, o.write_error);
        return;
    }
    while (n < burst.size() && o.writer->write(burst[n], timestamp_ns(burst[n]), meta(burst[n]).wire_len)) {
        if (o.parts) o.sequences->append(o.place_of(burst[n]));
        n++;
    }
    o.written += n;
    burst.taken(n, o.write_error);
}

void PcapSink::finish() {
    if (out_->ordered) {
        out_->ordered->finish(out_->worker);
        return;
    }
    out_->writer->close();
    if (out_->sequences && !out_->sequences->flush())
        throw RuntimeError(fmt::format("{}: cannot write the order of its packets beside it", out_->part_path));
}

// Each part read back in the input's order; a k-way merge by place in the
// input gives the file one worker would have written.
void PcapSink::merge_workers(std::span<Filter* const> instances) {
    Output& o = *out_;
    if (o.ordered) {
        o.ordered->close();
        return;
    }
    if (!o.parts || !o.merged) return;
    struct Part {
        std::unique_ptr<PartStream> stream;
        PartStream::Packet head;
        bool has = false;
    };
    std::vector<Part> parts;
    for (Filter* f : instances) {
        Output& other = *static_cast<PcapSink*>(f)->out_;
        parts.emplace_back();
        parts.back().stream = std::make_unique<PartStream>(other.part_path, *other.sequences, other.window);
    }
    for (Part& p : parts) p.has = p.stream->next(p.head);
    while (true) {
        Part* first = nullptr;
        for (Part& p : parts)
            if (p.has && (!first || p.head.sequence < first->head.sequence)) first = &p;
        if (!first) break;
        const io::Record& r = first->head.record;
        if (!o.merged->write(r.data, r.captured, r.timestamp_ns, r.wire_len)) break;  // close() says why
        first->has = first->stream->next(first->head);
    }
    o.merged->close();
}

std::string PcapSink::per_worker(const FilterContext& ctx, const std::string& path) {
    if (ctx.worker_count() <= 1) return path;
    std::string suffix = "-w" + std::to_string(ctx.worker_index());
    size_t slash = path.rfind('/');
    size_t dot = path.rfind('.');
    if (dot == std::string::npos || (slash != std::string::npos && dot < slash) || dot == 0) return path + suffix;
    return path.substr(0, dot) + suffix + path.substr(dot);
}

}  // namespace sl
