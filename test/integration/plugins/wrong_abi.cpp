// A plugin as streamline's SDK ABI 2 built it, declared here the way ABI 2's
// <sl/filter.hpp> declared it: the same registration function, a FilterType
// laid out as it was then. The loader must refuse it and name both versions.
#include <cstdint>
#include <memory>

namespace sl {
class Filter;
class FilterContext;
enum class Access : uint8_t { metadata, headers, payload, write };
struct FilterType {
    uint32_t abi_version;
    const char* name;
    Access access;
    uint32_t flags;
    const char* summary;
    const char* usage;
    std::unique_ptr<Filter> (*create)(FilterContext&);
};
bool register_filter_type(const FilterType& type) noexcept;
}  // namespace sl

namespace {
[[maybe_unused]] const bool registered =
    sl::register_filter_type(sl::FilterType{2, "from_abi_2", sl::Access::metadata, 0, "", "", nullptr});
}  // namespace
