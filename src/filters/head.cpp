// head N: passes the first N packets, drops the rest.
#include <sl/filter.hpp>

namespace {

class Head final : public sl::Filter {
public:
    explicit Head(sl::FilterContext& ctx) : over_(ctx.drop_reason("head_limit")) {
        sl::ArgReader(ctx.args()).positional("N", limit_).complete();
    }
    void process(sl::Burst& burst) noexcept override {
        for (uint16_t i = 0; i < burst.size(); i++) {
            if (passed_ < limit_) passed_++;
            else burst.drop(i, over_);
        }
    }

private:
    uint64_t limit_ = 0;
    uint64_t passed_ = 0;
    sl::DropReason over_;
};

}  // namespace

SL_REGISTER_FILTER(Head, sl::FilterType{.name = "head",
                                        .access = sl::Access::none,
                                        .flags = sl::kNoParse | sl::kInputOrder,
                                        .summary = "pass the first N packets",
                                        .usage = "head N",
                                        .drops = "head_limit"})
