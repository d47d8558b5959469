// sample N: passes one packet in N (the first of every N), drops the others.
#include <sl/filter.hpp>

namespace {

class Sample final : public sl::Filter {
public:
    explicit Sample(sl::FilterContext& ctx) : skipped_(ctx.drop_reason("sampled_out")) {
        sl::ArgReader(ctx.args()).positional("N", every_, 1, UINT32_MAX).complete();
    }
    void process(sl::Burst& burst) noexcept override {
        for (uint16_t i = 0; i < burst.size(); i++) {
            if (seen_ % every_ != 0) burst.drop(i, skipped_);
            seen_++;
        }
    }

private:
    uint64_t every_ = 1;
    uint64_t seen_ = 0;
    sl::DropReason skipped_;
};

}  // namespace

SL_REGISTER_FILTER(Sample, sl::FilterType{.name = "sample",
                                          .access = sl::Access::none,
                                          .flags = sl::kNoParse | sl::kInputOrder,
                                          .summary = "pass 1 packet in N",
                                          .usage = "sample N",
                                          .drops = "sampled_out"})
