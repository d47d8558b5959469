// ipproto: class = the IP protocol number (after IPv6 extension headers).
#include <sl/classifier.hpp>

namespace {
struct IpProtocol {
    static bool get(const rte_mbuf* m, uint32_t& cls) noexcept {
        cls = sl::meta(m).ip_proto;
        return sl::has_ip(m);
    }
};
}  // namespace

SL_REGISTER_FILTER(sl::FieldClassifier<IpProtocol>, sl::FilterType{.name = "ipproto",
                                                          .access = sl::Access::metadata,
                                                          .flags = sl::kClassifier,
                                                          .summary = "class = IP protocol number",
                                                          .usage = "ipproto",
                                                          .drops = ""})
