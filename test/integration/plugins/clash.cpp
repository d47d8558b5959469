// A plugin whose filter takes the name of a built-in.
#include <sl/filter.hpp>

namespace {
class Count final : public sl::Filter {
public:
    explicit Count(sl::FilterContext&) {}
    void process(sl::Burst&) noexcept override {}
};
}  // namespace

SL_REGISTER_FILTER(Count, sl::FilterType{.name = "count", .usage = "count"})
