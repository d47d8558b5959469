// The input node's filter, and the parser the runtime runs where packets are
// first read.
//
// Every packet enters through the input node (the "parse" row of the
// reports): its class is the packet's input, so that `rx N` is simply the
// class-N edge out of it. Headers are parsed later and only where needed: at
// the first node whose filter reads what the parser finds, once per packet.
// Malformed packets are counted by reason on the input node, wherever they
// were parsed.
#pragma once

#include <array>
#include <cstdint>
#include <memory>

#include <sl/filter.hpp>

namespace sl::packet {

class Parser {
public:
    // Registers the malformed.REASON counters on the input node.
    explicit Parser(FilterContext& ctx);
    // Parses the packets that no node has parsed yet, reading their headers
    // through the walk's shadow table (a packet's shadow under copy-once and
    // prefetch, in place otherwise). Malformed packets pass on, counted.
    void parse_unparsed(rte_mbuf* const* packets, uint16_t count, const detail::Shadow* shadows) noexcept;

private:
    int dlt_;
    std::array<uint64_t*, static_cast<size_t>(ParseError::count_)> malformed_{};
};

class InputFilter final : public Filter {
public:
    explicit InputFilter(FilterContext& ctx) : parser_(ctx) {}
    // Class = the input port, where `rx N` edges need it; otherwise every
    // packet goes every way the input node leads, and nothing is written.
    void process(Burst& burst) noexcept override;
    void classify_by_port(bool on) noexcept { by_port_ = on; }
    Parser& parser() noexcept { return parser_; }

private:
    Parser parser_;
    bool by_port_ = true;
};

std::unique_ptr<InputFilter> make_input_filter(FilterContext& ctx);

}  // namespace sl::packet
