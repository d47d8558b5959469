// What `stream-match` and `stream-regex` share: Hyperscan's streaming mode
// over each TCP stream direction that `reassemble` makes, so that a pattern
// split over segments (or over segments that came out of order) is found.
//
// Each flow direction has a Hyperscan stream, fed every chunk of its bytes
// in order. A pattern is reported once per stream direction (Hyperscan's
// single-match mode), where its match ends, as a stream offset. A gap in the
// bytes (stream_gap) starts the direction's scan afresh: a match across
// bytes never seen would be a guess.
//
// The verdict is per packet: a packet passes when its bytes completed a
// match (its class is the pattern's number), and with keep=flow every later
// packet of the flow passes too, both ways (its class is the first pattern
// the flow matched). Others are dropped as no_match, and packets of no TCP
// stream as no_stream.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <hs/hs.h>

#include <sl/filter.hpp>
#include <sl/stream.hpp>

#include "filters/payload_scanner.hpp"

namespace sl::filters {

class StreamScanner : public Filter {
public:
    // Reads the positional patterns, nocase=yes|no, keep=packet|flow and
    // report="FILE" from ctx.args().
    StreamScanner(FilterContext& ctx, PatternKind kind);
    ~StreamScanner() override;
    StreamScanner(const StreamScanner&) = delete;
    StreamScanner& operator=(const StreamScanner&) = delete;

    void process(Burst& burst) noexcept override;
    void finish() override;

    struct FlowScan;

private:
    FlowScan* state_of(const StreamChunk& c) noexcept;
    // Feeds the chunk to its direction's scan; returns the lowest pattern id
    // whose match ended in it, or ~0u.
    unsigned scan(FlowScan& f, const StreamChunk& c) noexcept;
    static int on_match(unsigned id, unsigned long long from, unsigned long long to, unsigned flags, void* context);
    void report(const StreamChunk& c, unsigned id, uint64_t end) noexcept;
    void flush_report() noexcept;

    std::shared_ptr<hs_database_t> database_;
    hs_scratch_t* scratch_ = nullptr;
    bool keep_flow_ = false;
    DropReason no_match_;
    DropReason no_stream_;
    uint64_t& scanned_bytes_;
    uint64_t& restarts_;
    uint64_t& scan_failures_;
    std::vector<uint64_t*> hits_;  // by pattern
    // The one stream maker this filter reads, and its flows' scans by flow id.
    const FlowTable* flows_ = nullptr;
    std::vector<FlowScan> scans_;
    uint64_t& other_maker_;
    int report_fd_ = -1;
    std::string report_path_;
    std::vector<char> report_buf_;
    size_t report_used_ = 0;
    uint64_t& report_failures_;
};

template <PatternKind K>
class StreamFilter final : public StreamScanner {
public:
    explicit StreamFilter(FilterContext& ctx) : StreamScanner(ctx, K) {}
};

}  // namespace sl::filters
