// drop: drops every packet (the end of a branch that should keep nothing).
#include <sl/filter.hpp>

namespace {

class Drop final : public sl::Filter {
public:
    explicit Drop(sl::FilterContext& ctx) : reason_(ctx.drop_reason("drop")) {}
    void process(sl::Burst& burst) noexcept override {
        for (uint16_t i = 0; i < burst.size(); i++) burst.drop(i, reason_);
    }

private:
    sl::DropReason reason_;
};

}  // namespace

SL_REGISTER_FILTER(Drop, sl::FilterType{.name = "drop",
                                        .access = sl::Access::none,
                                        .flags = sl::kNoParse,
                                        .summary = "drop every packet",
                                        .usage = "drop",
                                        .drops = "drop"})
