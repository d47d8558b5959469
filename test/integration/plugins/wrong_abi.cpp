// A plugin as an SDK of another ABI version would build it: the loader must
// refuse it and name both versions.
#include <sl/filter.hpp>

namespace {
class Nothing final : public sl::Filter {
public:
    explicit Nothing(sl::FilterContext&) {}
    void process(sl::Burst&) noexcept override {}
};

[[maybe_unused]] const bool registered = sl::register_filter_type(sl::FilterType{
    sl::kSdkAbiVersion + 7, "from_the_future", sl::Access::metadata, 0, "", "",
    [](sl::FilterContext& ctx) -> std::unique_ptr<sl::Filter> { return std::make_unique<Nothing>(ctx); }});
}  // namespace
