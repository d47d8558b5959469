#include <rte_errno.h>
#include <rte_mbuf_dyn.h>

#include <fmt/format.h>

#include <sl/error.hpp>

#include "sdk/packet_state.hpp"

namespace sl {

namespace detail {

int packet_meta_offset = -1;
int timestamp_offset = -1;

void register_packet_fields() {
    static const rte_mbuf_dynfield field = {"sl_packet_meta", sizeof(PacketMeta), alignof(PacketMeta), 0};
    int offset = rte_mbuf_dynfield_register(&field);
    if (offset < 0)
        throw RuntimeError(fmt::format("cannot register the packet metadata field: {}", rte_strerror(rte_errno)));
    packet_meta_offset = offset;
    uint64_t timestamp_flag = 0;
    if (rte_mbuf_dyn_rx_timestamp_register(&timestamp_offset, &timestamp_flag) != 0)
        throw RuntimeError(fmt::format("cannot register the timestamp field: {}", rte_strerror(rte_errno)));
}

}  // namespace detail

const char* parse_error_name(ParseError e) noexcept {
    static constexpr const char* names[] = {
        "none",           "truncated_ethernet", "truncated_vlan",     "vlan_depth",
        "truncated_ipv4", "bad_ipv4_version",   "bad_ipv4_ihl",       "bad_ipv4_length",
        "truncated_ipv6", "bad_ipv6_length",    "ipv6_ext_limit",     "truncated_ipv6_ext",
        "truncated_tcp",  "bad_tcp_offset",     "truncated_udp",      "bad_udp_length",
        "truncated_icmp", "truncated_sctp",     "unknown_ip_version", "truncated_link",
    };
    static_assert(sizeof(names) / sizeof(names[0]) == static_cast<size_t>(ParseError::count_));
    auto i = static_cast<size_t>(e);
    return i < static_cast<size_t>(ParseError::count_) ? names[i] : "unknown";
}

}  // namespace sl
