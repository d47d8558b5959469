// What `match` and `regex` share: patterns compiled once by Hyperscan into a
// vectored database, a scratch per filter instance (so per lcore), and a scan
// of each packet's payload wherever its bytes are (in place, in a shadow, or
// over the segments of a chain) without copying them together.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <hs/hs.h>

#include <sl/filter.hpp>

namespace sl::filters {

class PayloadScanner : public Filter {
public:
    enum class Kind { literal, regex };
    // Reads the positional patterns and nocase=yes|no from ctx.args(); a
    // pattern Hyperscan refuses is a ConfigError at that pattern.
    PayloadScanner(FilterContext& ctx, Kind kind);
    ~PayloadScanner() override;
    PayloadScanner(const PayloadScanner&) = delete;
    PayloadScanner& operator=(const PayloadScanner&) = delete;

    // Classes each packet by the pattern (1-based, in the order given) whose
    // match ends first in its payload; drops the others as no_match.
    void process(Burst& burst) noexcept override;

    // Where the payload starts for these filters: after the TCP, UDP or SCTP
    // header; after the IP header for other IP protocols; after the link
    // header otherwise (the parser's payload offset in each case).
    static uint32_t payload_start(const rte_mbuf* m) noexcept;

private:
    std::shared_ptr<hs_database_t> database_;
    hs_scratch_t* scratch_ = nullptr;
    DropReason no_match_;
    uint64_t& scanned_bytes_;
    std::vector<uint64_t*> hits_;  // by pattern
    // A chain with more pieces than fit here is scanned from a linear copy.
    static constexpr unsigned kMaxSpans = 16;
    std::vector<uint8_t> linear_;
};

enum class PatternKind { literal, regex };

// Compiles the patterns (arguments in double quotes; literals with \xHH
// escapes) for Hyperscan in `mode` (HS_MODE_VECTORED, HS_MODE_STREAM), each
// with `flags`. Every worker's instance of the same filter shares the
// database that the first compiled. A pattern that Hyperscan refuses is a
// ConfigError at that pattern.
std::shared_ptr<hs_database_t> compile_patterns(const Args& args, const std::vector<const Arg*>& patterns,
                                                PatternKind kind, unsigned mode, unsigned flags);

// Enough for any rule set written by hand; Hyperscan compiles more, slowly.
inline constexpr size_t kMaxPatterns = 1000;

// The filter type of each kind, for SL_REGISTER_FILTER.
template <PayloadScanner::Kind K>
class PayloadFilter final : public PayloadScanner {
public:
    explicit PayloadFilter(FilterContext& ctx) : PayloadScanner(ctx, K) {}
};

// Decodes a literal's escapes: \xHH for any byte, \\ for a backslash.
// Returns false with `error` set for a malformed escape.
bool decode_literal(const std::string& text, std::string& bytes, std::string& error);

}  // namespace sl::filters
