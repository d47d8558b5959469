// count: passes every packet and counts packets and bytes.
#include <sl/filter.hpp>

namespace {

class Count final : public sl::Filter {
public:
    explicit Count(sl::FilterContext& ctx) : packets_(ctx.counter("packets")), bytes_(ctx.counter("bytes")) {}
    void process(sl::Burst& burst) noexcept override {
        uint64_t bytes = 0;
        for (uint16_t i = 0; i < burst.size(); i++) bytes += sl::meta(burst[i]).wire_len;
        packets_ += burst.size();
        bytes_ += bytes;
    }

private:
    uint64_t& packets_;
    uint64_t& bytes_;
};

}  // namespace

SL_REGISTER_FILTER(Count, sl::FilterType{.name = "count",
                                         .access = sl::Access::metadata,
                                         .flags = sl::kNoParse,
                                         .summary = "count packets and bytes, pass all",
                                         .usage = "count [name=NAME]",
                                         .drops = ""})
