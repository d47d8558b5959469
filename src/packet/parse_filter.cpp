#include "packet/parse_filter.hpp"

#include <algorithm>
#include <string>

#include "packet/parser.hpp"
#include "sdk/packet_state.hpp"

namespace sl::packet {

Parser::Parser(FilterContext& ctx) : dlt_(ctx.link_type()) {
    for (size_t e = 1; e < static_cast<size_t>(ParseError::count_); e++)
        malformed_[e] = &ctx.counter(std::string("malformed.") + parse_error_name(static_cast<ParseError>(e)));
}

void Parser::parse_unparsed(rte_mbuf* const* packets, uint16_t count, const detail::Shadow* shadows) noexcept {
    for (uint16_t i = 0; i < count; i++) {
        rte_mbuf* m = packets[i];
        if (detail::PacketBookkeeping::parsed(m)) continue;
        // The view serves the headers from the packet's shadow under
        // copy-once and prefetch, in place otherwise, and linearises a
        // chain whose headers straddle segments.
        const detail::Shadow* shadow = shadows ? &shadows[detail::PacketBookkeeping::shadow_slot(m)] : nullptr;
        PacketView view(m, UINT32_MAX, shadow);
        uint8_t scratch[kMaxHeaderBytes];
        uint32_t length = std::min<uint32_t>(view.size(), kMaxHeaderBytes);
        parse(m, view.read(0, length, scratch), length, dlt_);
        if (auto error = static_cast<size_t>(meta(m).parse_error)) (*malformed_[error])++;
    }
}

void InputFilter::process(Burst& burst) noexcept {
    if (!by_port_) return;
    for (uint16_t i = 0; i < burst.size(); i++) burst.set_class(i, burst[i]->port);
}

std::unique_ptr<InputFilter> make_input_filter(FilterContext& ctx) { return std::make_unique<InputFilter>(ctx); }

}  // namespace sl::packet
