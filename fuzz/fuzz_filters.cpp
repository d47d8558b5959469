// Fuzzed packets through a graph of every built-in filter that reads packets
// (bpf, match, regex, the classifiers, defrag, reassemble and the stream
// filters), once under each shadow policy, segmented as a NIC with small
// buffers chains them. Each input is a burst:
//
//   byte 0            mbuf segment size: 64 << (byte % 8), capped at 2048
//   then per packet   2 bytes captured length (big-endian, capped at 9000),
//                     1 byte: wire length minus captured (a capture that
//                     lies goes both ways: bit 7 set means shorter),
//                     1 byte: seconds since the packet before,
//                     the packet's bytes
//
// After the walk every mbuf the graph did not keep is back in the pool.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <vector>

#include <rte_mbuf.h>

#include <sl/packet.hpp>

#include "fuzz_support.hpp"
#include "graph/instances.hpp"
#include "graph/needs.hpp"
#include "graph/plan.hpp"
#include "graph/runtime.hpp"
#include "io/source.hpp"
#include "lang/ast.hpp"
#include "sdk/packet_state.hpp"
#include "sdk/registry.hpp"

namespace {

constexpr const char* kGraph = R"(
a = rx | defrag fragments=16 | reassemble flows=256 held=8192 segments=16 pool=64 depth=65536
a | bpf "tcp port 80 or udp or ip6 or vlan" | count
m = a | match "GET " "HTTP/1.1" nocase=yes
m |1 count
m |2 count
a | regex "[a-z]+=[0-9]{2,}" "^\x16\x03" | count
p = a | ipproto
p |6 count
p |else count
d = a | dport
d |80 count
d |else sample 2 | count
s = a | sport
s |53 head 1000 | count
v = a | vlan
v |5 count
v |else count
a | stream-match "admin" "passwd" keep=flow | count
a | stream-regex "x{3,}y" "^GET /[a-z]*" keep=packet | count
)";

struct Packet {
    const uint8_t* data;
    uint32_t captured;
    uint32_t wire_len;
    uint64_t timestamp_ns;
};

// Hands the graph the current input's packets once per walk.
class FuzzSource final : public sl::io::Source {
public:
    explicit FuzzSource(rte_mempool* pool) : pool_(pool) {}
    void arm(const std::vector<Packet>* packets, uint16_t segment) {
        packets_ = packets;
        segment_ = segment;
    }
    uint16_t read(rte_mbuf** out, uint16_t max, uint16_t& input) noexcept override {
        input = 0;
        uint16_t n = 0;
        if (!packets_) return 0;
        for (const Packet& p : *packets_) {
            if (n == max) break;
            rte_mbuf* m = chained(p);
            if (!m) continue;
            sl::detail::set_timestamp_ns(m, p.timestamp_ns);
            sl::detail::mutable_meta(m).wire_len = p.wire_len;
            sl::detail::PacketBookkeeping::mark_unparsed(m);
            sl::detail::PacketBookkeeping::first_reference(m);
            out[n++] = m;
        }
        packets_ = nullptr;
        return n;
    }
    bool done() const noexcept override { return false; }

private:
    rte_mbuf* chained(const Packet& p) noexcept {
        rte_mbuf* head = nullptr;
        uint32_t at = 0;
        do {
            rte_mbuf* seg = rte_pktmbuf_alloc(pool_);
            if (!seg) break;
            uint32_t n = std::min<uint32_t>(p.captured - at, segment_);
            std::memcpy(rte_pktmbuf_append(seg, static_cast<uint16_t>(n)), p.data + at, n);
            at += n;
            if (!head) head = seg;
            else if (rte_pktmbuf_chain(head, seg) != 0) {
                rte_pktmbuf_free(seg);
                break;
            }
        } while (at < p.captured);
        if (head && at < p.captured) {
            rte_pktmbuf_free(head);
            return nullptr;
        }
        return head;
    }

    rte_mempool* pool_;
    const std::vector<Packet>* packets_ = nullptr;
    uint16_t segment_ = 2048;
};

struct Graph {
    std::unique_ptr<sl::graph::Plan> plan;
    std::unique_ptr<sl::graph::Runtime> runtime;
};

rte_mempool* g_pool;
std::unique_ptr<FuzzSource> g_source;
std::vector<Graph> g_graphs;
unsigned g_kept = 0;  // mbufs the graphs' filters may keep past a walk

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    sl_fuzz::start_dpdk("fuzz-filters");
    g_pool = rte_pktmbuf_pool_create("fuzz", 16383, 0, 0, 2048 + RTE_PKTMBUF_HEADROOM, 0);
    if (!g_pool) sl_fuzz::fail("rte_pktmbuf_pool_create");
    g_source = std::make_unique<FuzzSource>(g_pool);
    for (const char* policy : {"hybrid", "zero-copy", "copy-once", "prefetch"}) {
        std::string error;
        sl::graph::PlanOptions options;
        options.shadow = *sl::shadow::parse_policy(policy, error);
        Graph g;
        g.plan = std::make_unique<sl::graph::Plan>(
            sl::graph::plan(sl::lang::parse(kGraph, "fuzz"), sl::filter_registry(), options));
        sl::graph::WorkerContext context;
        sl::graph::Instances instances(*g.plan, context);
        g_kept += sl::graph::packet_needs(*g.plan, instances).kept;
        g.runtime = std::make_unique<sl::graph::Runtime>(*g.plan, std::move(instances), *g_source);
        g.runtime->select_inputs();
        g_graphs.push_back(std::move(g));
    }
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 1) return 0;
    auto segment = static_cast<uint16_t>(std::min(64u << (data[0] % 8), 2048u));
    std::vector<Packet> packets;
    uint64_t now = 1'700'000'000'000'000'000ull;
    for (size_t at = 1; at + 4 <= size && packets.size() < sl::kMaxBurst;) {
        uint32_t captured = std::min<uint32_t>(uint32_t{data[at]} << 8 | data[at + 1], 9000);
        uint8_t lie = data[at + 2];
        now += uint64_t{data[at + 3]} * 1'000'000'000;
        at += 4;
        captured = static_cast<uint32_t>(std::min<size_t>(captured, size - at));
        uint32_t wire = lie & 0x80 ? captured - std::min<uint32_t>(captured, lie & 0x7f) : captured + lie;
        packets.push_back({data + at, captured, wire, now});
        at += captured;
    }
    for (Graph& g : g_graphs) {
        g_source->arm(&packets, segment);
        g.runtime->walk();
    }
    // Filters keep fragments and held segments across walks, within their
    // bounds; everything else is back.
    if (rte_mempool_in_use_count(g_pool) > g_kept) std::abort();
    return 0;
}
