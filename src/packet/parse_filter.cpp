#include "packet/parse_filter.hpp"

#include <algorithm>
#include <array>
#include <string>

#include "packet/parser.hpp"

namespace sl::packet {
namespace {

class ParseFilter final : public Filter {
public:
    explicit ParseFilter(FilterContext& ctx) : dlt_(ctx.link_type()) {
        // Malformed packets pass on (a filter that does not look at headers
        // still sees them); they are counted here by what was wrong.
        for (size_t e = 1; e < static_cast<size_t>(ParseError::count_); e++)
            malformed_[e] = &ctx.counter(std::string("malformed.") + parse_error_name(static_cast<ParseError>(e)));
    }

    void process(Burst& burst) noexcept override {
        for (uint16_t i = 0; i < burst.size(); i++) {
            rte_mbuf* m = burst[i];
            // The view serves the headers from the packet's shadow under
            // copy-once and prefetch, in place otherwise, and linearises a
            // chain whose headers straddle segments.
            PacketView view = burst.view(i);
            uint8_t scratch[kMaxHeaderBytes];
            uint32_t length = std::min<uint32_t>(view.size(), kMaxHeaderBytes);
            parse(m, view.read(0, length, scratch), length, dlt_);
            auto error = static_cast<size_t>(meta(m).parse_error);
            if (error) (*malformed_[error])++;
            burst.set_class(i, m->port);
        }
    }

private:
    int dlt_;
    std::array<uint64_t*, static_cast<size_t>(ParseError::count_)> malformed_{};
};

}  // namespace

std::unique_ptr<Filter> make_parse_filter(FilterContext& ctx) { return std::make_unique<ParseFilter>(ctx); }

}  // namespace sl::packet
