// A plugin that needs a function this streamline does not have (as one built
// against a newer SDK would): it must not load.
#include <sl/filter.hpp>

namespace sl {
uint64_t function_from_a_newer_sdk(const rte_mbuf* m);
}

namespace {
class Newer final : public sl::Filter {
public:
    explicit Newer(sl::FilterContext&) {}
    void process(sl::Burst& burst) noexcept override {
        for (uint16_t i = 0; i < burst.size(); i++) burst.set_class(i, uint32_t(sl::function_from_a_newer_sdk(burst[i])));
    }
};
}  // namespace

SL_REGISTER_FILTER(Newer, sl::FilterType{.name = "newer", .usage = "newer"})
