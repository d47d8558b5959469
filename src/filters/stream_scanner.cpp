#include "filters/stream_scanner.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <new>

#include <fmt/format.h>
#include <rte_prefetch.h>

namespace sl::filters {

struct StreamScanner::FlowScan {
    uint64_t serial = 0;              // the maker's flow serial this scan belongs to
    hs_stream_t* stream[2] = {};      // opened the first time the slot is used, reset for each flow after
    uint64_t base[2] = {};            // the stream offset where the direction's scan began
    uint32_t matched = 0;             // the first pattern the flow matched, plus one; 0: none yet
    uint8_t live[2] = {};             // the direction's scan has begun for this flow
};

namespace {

constexpr size_t kReportBuffer = 64 * 1024;
constexpr size_t kReportLine = 256;

struct Scan {
    StreamScanner* self;
    const StreamChunk* chunk;
    uint64_t base;
    unsigned first = ~0u;
};

}  // namespace

StreamScanner::StreamScanner(FilterContext& ctx, PatternKind kind)
    : no_match_(ctx.drop_reason("no_match")), no_stream_(ctx.drop_reason("no_stream")),
      scanned_bytes_(ctx.counter("scanned_bytes")), restarts_(ctx.counter("scan_restarts")),
      scan_failures_(ctx.counter("scan_failures")), other_maker_(ctx.counter("other_maker")),
      report_failures_(ctx.counter("report_failures")) {
    const Args& args = ctx.args();
    if (args.positional_count() == 0)
        args.fail(fmt::format("{} needs at least one pattern: {} \"PATTERN\" ...", args.filter(), args.filter()));
    std::vector<const Arg*> pattern_args;
    bool nocase = false;
    std::string keep = "packet";
    std::string report;
    ArgReader(args)
        .remaining("pattern", pattern_args, 1)
        .option("nocase", nocase)
        .option("keep", keep)
        .option("report", report)
        .complete();
    if (keep != "packet" && keep != "flow")
        args.fail(*args.option("keep"), "keep=packet (the packets that complete a match) or keep=flow (the flow from then on)");
    keep_flow_ = keep == "flow";
    unsigned flags = HS_FLAG_SINGLEMATCH | (nocase ? HS_FLAG_CASELESS : 0);
    if (kind == PatternKind::regex) flags |= HS_FLAG_DOTALL;
    database_ = compile_patterns(args, pattern_args, kind, HS_MODE_STREAM, flags);
    for (size_t i = 0; i < pattern_args.size(); i++) hits_.push_back(&ctx.counter(fmt::format("pattern{}", i + 1)));
    // What a flow costs this filter once it has bytes both ways.
    size_t stream_bytes = 0;
    if (hs_stream_size(database_.get(), &stream_bytes) == HS_SUCCESS)
        ctx.info("bytes_per_flow", sizeof(FlowScan) + 2 * stream_bytes);

    if (!report.empty()) {
        const Arg& arg = *args.option("report");
        report_path_ = ctx.output_path(report);
        // Every worker appends whole lines to one file; the first empties it.
        int flags_open = O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | (ctx.worker_index() == 0 ? O_TRUNC : 0);
        report_fd_ = ::open(report_path_.c_str(), flags_open, 0644);
        if (report_fd_ < 0) args.fail(arg, report_path_ + ": " + std::strerror(errno));
        report_buf_.resize(kReportBuffer);
    }
    // Last, so that an argument error above leaves nothing to free.
    if (hs_alloc_scratch(database_.get(), &scratch_) != HS_SUCCESS)
        throw RuntimeError(fmt::format("{}: cannot allocate Hyperscan scratch space", ctx.node_name()));
}

StreamScanner::~StreamScanner() {
    flush_report();
    if (report_fd_ >= 0) ::close(report_fd_);
    for (FlowScan& f : scans_)
        for (hs_stream_t* s : f.stream)
            if (s) hs_close_stream(s, nullptr, nullptr, nullptr);
    hs_free_scratch(scratch_);
}

void StreamScanner::finish() { flush_report(); }

StreamScanner::FlowScan* StreamScanner::state_of(const StreamChunk& c) noexcept {
    if (flows_ != c.flows) {
        if (flows_) {
            other_maker_++;
            return nullptr;
        }
        // Once, on the first chunk: the maker's table is known only then.
        // From here on no scan state is allocated but a Hyperscan stream
        // the first time a flow slot is used.
        try {
            scans_.resize(c.flows->capacity());
        } catch (const std::bad_alloc&) {
            scan_failures_++;
            return nullptr;  // no memory for the maker's flows: its chunks are no stream here
        }
        flows_ = c.flows;
    }
    if (c.flow >= scans_.size()) return nullptr;
    FlowScan& f = scans_[c.flow];
    if (f.serial != c.flow_serial) {
        f.serial = c.flow_serial;
        f.matched = 0;
        f.live[0] = f.live[1] = 0;
    }
    return &f;
}

int StreamScanner::on_match(unsigned id, unsigned long long, unsigned long long to, unsigned, void* context) {
    auto* s = static_cast<Scan*>(context);
    (*s->self->hits_[id])++;
    s->self->report(*s->chunk, id, s->base + to);
    s->first = std::min(s->first, id);
    return 0;
}

unsigned StreamScanner::scan(FlowScan& f, const StreamChunk& c) noexcept {
    unsigned d = c.direction & 1;
    if (c.flags & kStreamGap) f.live[d] = 0;  // a match across bytes never seen would be a guess
    if (!f.live[d]) {
        if (c.length == 0) return ~0u;  // no bytes yet (a handshake, an ACK): no scan to begin
        hs_error_t rc = f.stream[d] ? hs_reset_stream(f.stream[d], 0, nullptr, nullptr, nullptr)
                                    : hs_open_stream(database_.get(), 0, &f.stream[d]);
        if (rc != HS_SUCCESS) {
            scan_failures_++;
            return ~0u;
        }
        if (f.live[d]) restarts_++;
        f.live[d] = 1;
        f.base[d] = c.offset;
    }
    Scan scan{this, &c, f.base[d]};
    bool ok = c.for_each_span([&](const uint8_t* p, uint32_t n) {
        return hs_scan_stream(f.stream[d], reinterpret_cast<const char*>(p), n, 0, scratch_, on_match, &scan) ==
               HS_SUCCESS;
    });
    scanned_bytes_ += c.length;
    // The direction ends: what matches only at the end of data ("$") is
    // found now, and the scan waits for the slot's next flow. Where the
    // maker cut the direction at its depth, the end of its bytes is not
    // the end of the stream.
    if (ok && (c.flags & kStreamEnd)) {
        bool whole = !(c.flags & kStreamCut);
        ok = hs_reset_stream(f.stream[d], 0, whole ? scratch_ : nullptr, whole ? on_match : nullptr, &scan) == HS_SUCCESS;
        f.live[d] = 0;
    }
    if (!ok) {
        scan_failures_++;
        f.live[d] = 0;
    }
    return scan.first;
}

void StreamScanner::process(Burst& burst) noexcept {
    // Flows' scan states and their Hyperscan streams are scattered: ask
    // for the burst's before the first scan needs its own, states first.
    const StreamChunk* chunk[kMaxBurst];
    for (uint16_t i = 0; i < burst.size(); i++) {
        chunk[i] = stream_chunk(burst, i);
        if (chunk[i] && chunk[i]->flows == flows_ && chunk[i]->flow < scans_.size()) rte_prefetch0(&scans_[chunk[i]->flow]);
    }
    for (uint16_t i = 0; i < burst.size(); i++)
        if (chunk[i] && chunk[i]->flows == flows_ && chunk[i]->flow < scans_.size())
            if (hs_stream_t* stream = scans_[chunk[i]->flow].stream[chunk[i]->direction & 1]) rte_prefetch0(stream);
    for (uint16_t i = 0; i < burst.size(); i++) {
        const StreamChunk* c = chunk[i];
        FlowScan* f = c ? state_of(*c) : nullptr;
        if (!f) {
            burst.drop(i, no_stream_);
            continue;
        }
        unsigned id = scan(*f, *c);
        if (id != ~0u) {
            if (!f->matched) f->matched = id + 1;
            burst.set_class(i, id + 1);
        } else if (keep_flow_ && f->matched) {
            burst.set_class(i, f->matched);
        } else {
            burst.drop(i, no_match_);
        }
    }
}

void StreamScanner::report(const StreamChunk& c, unsigned id, uint64_t end) noexcept {
    if (report_fd_ < 0) return;
    if (report_used_ + kReportLine > report_buf_.size()) flush_report();
    char* line = report_buf_.data() + report_used_;
    size_t n = stream_name(line, kReportLine - 48, c.endpoints(), c.direction);
    size_t room = kReportLine - n;
    auto r = fmt::format_to_n(line + n, room, "\t{}\t{}\n", id + 1, end);
    report_used_ += n + std::min(static_cast<size_t>(r.size), room);
}

void StreamScanner::flush_report() noexcept {
    size_t at = 0;
    while (at < report_used_) {
        ssize_t w = ::write(report_fd_, report_buf_.data() + at, report_used_ - at);
        if (w <= 0) {
            if (w < 0 && errno == EINTR) continue;
            report_failures_++;
            break;
        }
        at += static_cast<size_t>(w);
    }
    report_used_ = 0;
}

}  // namespace sl::filters
