// head N: passes the first N packets, drops the rest.
#include <sl/filter.hpp>

namespace {

class Head final : public sl::Filter {
public:
    explicit Head(sl::FilterContext& ctx)
        : limit_(ctx.args().uint_at(0, "N", 0, UINT64_MAX)), over_(ctx.drop_reason("head_limit")) {
        ctx.args().expect(1, 1);
    }
    void process(sl::Burst& burst) noexcept override {
        for (uint16_t i = 0; i < burst.size(); i++) {
            if (passed_ < limit_) passed_++;
            else burst.drop(i, over_);
        }
    }

private:
    uint64_t limit_;
    uint64_t passed_ = 0;
    sl::DropReason over_;
};

}  // namespace

SL_REGISTER_FILTER(Head, "head", sl::Access::metadata, 0, "pass the first N packets", "head N")
