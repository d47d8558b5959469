// A plugin whose filter drops for a reason its type does not list.
#include <sl/filter.hpp>

namespace {
class Strict final : public sl::Filter {
public:
    explicit Strict(sl::FilterContext& ctx) : late_(ctx.drop_reason("too_late")) {}
    void process(sl::Burst& burst) noexcept override {
        for (uint16_t i = 0; i < burst.size(); i++) burst.drop(i, late_);
    }

private:
    sl::DropReason late_;
};
}  // namespace

SL_REGISTER_FILTER(Strict, sl::FilterType{.name = "strict", .usage = "strict", .drops = "too_early"})
