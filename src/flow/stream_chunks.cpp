// How a packet finds the stream chunk its maker gave it: a 4-byte mbuf
// field holds the chunk's place in a ring of this thread (each worker's
// graph runs on one thread), and the ring's entry names the mbuf, so that a
// field left on a reused mbuf finds nothing.
#include <sl/stream.hpp>

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <cstdio>

#include <fmt/format.h>
#include <rte_errno.h>
#include <rte_mbuf_dyn.h>

#include <sl/error.hpp>

#include "sdk/packet_state.hpp"

namespace sl {
namespace {

struct Attached {
    const rte_mbuf* m = nullptr;
    const StreamChunk* chunk = nullptr;
};

// More than the packets of a walk: an entry lives past its walk's end.
constexpr uint32_t kRing = 4096;
thread_local std::array<Attached, kRing> t_ring;
thread_local uint32_t t_next = 0;
int g_stream_offset = -1;

uint32_t& field(const rte_mbuf* m) noexcept {
    return *RTE_MBUF_DYNFIELD(const_cast<rte_mbuf*>(m), g_stream_offset, uint32_t*);
}

}  // namespace

namespace detail {

thread_local uint64_t walk_serial = 0;

void register_stream_field() {
    if (g_stream_offset >= 0) return;
    static const rte_mbuf_dynfield desc = {"sl_stream_chunk", sizeof(uint32_t), alignof(uint32_t), 0};
    int offset = rte_mbuf_dynfield_register(&desc);
    if (offset < 0)
        throw RuntimeError(fmt::format("cannot register the stream chunk field: {}", rte_strerror(rte_errno)));
    g_stream_offset = offset;
}

}  // namespace detail

void attach_stream_chunk(const Burst& burst, uint16_t i, const StreamChunk* chunk) noexcept {
    const rte_mbuf* m = burst[i];
    if (!chunk) {
        field(m) = 0;
        return;
    }
    uint32_t at = t_next;
    t_next = (t_next + 1) % kRing;
    t_ring[at] = {m, chunk};
    field(m) = at + 1;
}

size_t stream_name(char* out, size_t size, const FlowEndpoints& ep, unsigned d) noexcept {
    if (size == 0) return 0;
    char host[2][INET6_ADDRSTRLEN];
    for (unsigned k = 0; k < 2; k++) {
        const uint8_t* a = ep.addr[k];
        if (ep.ipv6) inet_ntop(AF_INET6, a, host[k], sizeof(host[k]));
        else std::snprintf(host[k], sizeof(host[k]), "%03u.%03u.%03u.%03u", a[0], a[1], a[2], a[3]);
    }
    d &= 1;
    int n = std::snprintf(out, size, "%s.%05u-%s.%05u", host[d], ep.port[d], host[1 - d], ep.port[1 - d]);
    if (ep.vlan_outer && n > 0 && static_cast<size_t>(n) < size)
        n += std::snprintf(out + n, size - static_cast<size_t>(n), "--%u", ep.vlan_outer);
    return n < 0 ? 0 : std::min(static_cast<size_t>(n), size - 1);
}

const StreamChunk* stream_chunk(const Burst& burst, uint16_t i) noexcept {
    if (g_stream_offset < 0) return nullptr;
    const rte_mbuf* m = burst[i];
    uint32_t at = field(m);
    if (at == 0 || at > kRing) return nullptr;
    const Attached& a = t_ring[at - 1];
    return a.m == m ? a.chunk : nullptr;
}

}  // namespace sl
