// vlan: class = the outer VLAN id (untagged frames have no class).
#include <sl/classifier.hpp>

namespace {
struct OuterVlan {
    static bool get(const rte_mbuf* m, uint32_t& cls) noexcept {
        cls = sl::meta(m).vlan_outer;
        return sl::has_vlan(m);
    }
};
}  // namespace

SL_REGISTER_FILTER(sl::FieldClassifier<OuterVlan>, sl::FilterType{.name = "vlan",
                                                          .access = sl::Access::metadata,
                                                          .flags = sl::kClassifier,
                                                          .summary = "class = outer VLAN id",
                                                          .usage = "vlan",
                                                          .drops = ""})
