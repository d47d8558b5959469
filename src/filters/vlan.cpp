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

SL_REGISTER_FILTER(sl::FieldClassifier<OuterVlan>, "vlan", sl::Access::metadata, sl::kClassifier,
                   "class = outer VLAN id", "vlan")
