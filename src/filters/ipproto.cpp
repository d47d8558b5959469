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

SL_REGISTER_FILTER(sl::FieldClassifier<IpProtocol>, "ipproto", sl::Access::metadata, sl::kClassifier,
                   "class = IP protocol number", "ipproto")
