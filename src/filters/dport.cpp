// dport: class = the TCP, UDP or SCTP destination port.
#include <sl/classifier.hpp>

namespace {
struct DestinationPort {
    static bool get(const rte_mbuf* m, uint32_t& cls) noexcept {
        cls = sl::meta(m).dport;
        return sl::has_ports(m);
    }
};
}  // namespace

SL_REGISTER_FILTER(sl::FieldClassifier<DestinationPort>, sl::FilterType{.name = "dport",
                                                          .access = sl::Access::metadata,
                                                          .flags = sl::kClassifier,
                                                          .summary = "class = transport destination port",
                                                          .usage = "dport",
                                                          .drops = ""})
