// sport: class = the TCP, UDP or SCTP source port.
#include <sl/classifier.hpp>

namespace {
struct SourcePort {
    static bool get(const rte_mbuf* m, uint32_t& cls) noexcept {
        cls = sl::meta(m).sport;
        return sl::has_ports(m);
    }
};
}  // namespace

SL_REGISTER_FILTER(sl::FieldClassifier<SourcePort>, sl::FilterType{.name = "sport",
                                                          .access = sl::Access::metadata,
                                                          .flags = sl::kClassifier,
                                                          .summary = "class = transport source port",
                                                          .usage = "sport",
                                                          .drops = ""})
