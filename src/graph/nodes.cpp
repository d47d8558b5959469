// The hot path: what each node does with a burst. No allocation, lock, log or
// exception here; problems become counted drops.
#include "graph/nodes.hpp"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <exception>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "graph/runtime.hpp"
#include "packet/parse_filter.hpp"
#include "sdk/burst_access.hpp"
#include "sdk/packet_state.hpp"
#include "sdk/registry.hpp"
#include "shadow/shadows.hpp"

namespace sl::graph {
namespace {

using detail::kDropBit;
using detail::kHandedOverBit;
using Bookkeeping = detail::PacketBookkeeping;

// The node whose filter's process() this thread is in, for the terminate
// handler. initial-exec: one store per burst, no __tls_get_addr call.
__attribute__((tls_model("initial-exec"))) thread_local const RuntimeNode* t_in_process = nullptr;
std::terminate_handler g_previous_terminate = nullptr;

[[noreturn]] void on_terminate() {
    if (const RuntimeNode* n = t_in_process) {
        std::string what = "an exception that is not a std::exception";
        if (std::exception_ptr e = std::current_exception()) {
            try {
                std::rethrow_exception(e);
            } catch (const std::exception& x) {
                what = x.what();
            } catch (...) {
            }
        }
        const std::string& origin = n->type ? filter_registry().origin(n->type->name) : std::string();
        spdlog::critical("filter '{}' (node {}{}) threw from process(), which must not throw: {}", n->filter_name(),
                         n->name, origin.empty() ? "" : fmt::format(", plugin {}", origin), what);
    }
    if (g_previous_terminate) g_previous_terminate();
    std::abort();
}

template <typename T>
T* context_of(const rte_node* node) {
    T* p;
    std::memcpy(&p, node->ctx, sizeof(p));
    return p;
}

// The packets this node lets go of, for `reason`. In a chain (no packet is
// ever on two branches) the node holds each one's only graph reference: it
// settles their fate and frees them itself, a burst at a time. Elsewhere
// the release node does, once every branch let go.
void let_go(rte_graph* graph, rte_node* node, RuntimeNode& n, rte_mbuf** packets, uint16_t count,
            DropReason reason, bool passed = false) {
    if (n.settles) {
        if (passed ? n.passes_written : n.after_sink) n.sink.ledger->written += count;
        else n.sink.ledger->drops[reason] += count;
        rte_pktmbuf_free_bulk(packets, count);
        return;
    }
    for (uint16_t i = 0; i < count; i++) Bookkeeping::let_go(packets[i], reason);
    rte_node_enqueue(graph, node, 0, reinterpret_cast<void**>(packets), count);
}

// Makes local what the shadow policy wants local before the filter reads.
// A packet whose pull failed is dropped as dma_error (the shadows moved it to
// the end); returns how many packets the filter gets.
uint16_t bring_in(rte_graph* graph, rte_node* node, RuntimeNode& n, rte_mbuf** packets, uint16_t count,
                  Access access) {
    uint16_t kept = n.shadows->prepare(packets, count, access, n.policy, n.shadow);
    if (kept == count) return count;
    static const DropReason dma_error = drop_reason_id("dma_error");
    uint16_t failed = static_cast<uint16_t>(count - kept);
    n.in += failed;
    n.drops[dma_error] += failed;
    let_go(graph, node, n, packets + kept, failed, dma_error);
    return kept;
}

// What must happen before the filter reads: the packets it reads parsed
// (headers made local first where the policy copies them), and the bytes
// its access reaches made local. Returns how many packets the filter gets.
uint16_t prepare(rte_graph* graph, rte_node* node, RuntimeNode& n, rte_mbuf** packets, uint16_t count) {
    if (n.parser) {
        if (n.pull_for_parse) count = bring_in(graph, node, n, packets, count, Access::headers);
        n.parser->parse_unparsed(packets, count, n.shadows->table());
    }
    return n.may_pull ? bring_in(graph, node, n, packets, count, n.bring_in) : count;
}

Burst run_filter(RuntimeNode& n, rte_mbuf** packets, uint16_t count) {
    std::memset(n.verdicts.data(), 0, sizeof(uint32_t) * count);
    shadow::Shadows& shadows = *n.shadows;
    Burst burst = detail::BurstAccess::make(packets, n.verdicts.data(), count, shadows.table(), n.access, &n.sink);
    t_in_process = &n;
    n.filter->process(burst);
    t_in_process = nullptr;
    n.in += count;
    if (n.keeps) {
        // What the keeper kept may be freed already: only the packets that
        // go on are looked at. Those it made (Burst::replace leaves them
        // unparsed) have stale shadows; the others keep theirs.
        for (uint16_t i = 0; i < count; i++) {
            if (n.verdicts[i] & detail::kHandedOverBit) continue;
            if (reads_bytes(n.access)) shadows.account_in_place(packets + i, 1, n.access, n.shadow);
            if (!Bookkeeping::parsed(packets[i])) shadows.forget(packets + i, 1);
        }
        return burst;
    }
    if (reads_bytes(n.access)) shadows.account_in_place(packets, count, n.access, n.shadow);
    // Written in place: their shadows are stale.
    if (n.access == Access::write) shadows.forget(packets, count);
    return burst;
}

// Fan-out shares the packet by reference count; nothing is copied. Every
// segment holds its own count, so chains are counted whole.
void share(rte_mbuf* m, size_t branches) {
    rte_pktmbuf_refcnt_update(m, static_cast<int16_t>(branches - 1));
    Bookkeeping::graph_refs(m) = static_cast<uint8_t>(Bookkeeping::graph_refs(m) + branches - 1);
}

// Passes every packet of the burst on by class `cls`: one lookup and bulk
// moves. `whole_stream`: the burst is all the node received.
void pass_all(rte_graph* graph, rte_node* node, RuntimeNode& n, rte_mbuf** packets, uint16_t count, uint32_t cls,
              bool whole_stream) {
    n.out += count;
    const Targets& t = n.routing.lookup(cls);
    size_t k = t.edges.size();
    if (k == 0) {
        let_go(graph, node, n, packets, count, t.end_reason, true);
        return;
    }
    if (k == 1 && whole_stream) {
        rte_node_next_stream_move(graph, node, t.edges[0]);
        return;
    }
    if (k > 1)
        for (uint16_t i = 0; i < count; i++) share(packets[i], k);
    for (Edge e : t.edges) rte_node_enqueue(graph, node, e, reinterpret_cast<void**>(packets), count);
}

// The common case of a burst whose packets all got the same verdict (one
// class, or the same drop): one lookup and bulk moves instead of a lookup and
// an enqueue per packet. False when the verdicts differ.
bool route_uniform(rte_graph* graph, rte_node* node, RuntimeNode& n, rte_mbuf** packets, uint16_t count,
                   bool whole_stream) {
    const uint32_t v = n.verdicts[0];
    uint32_t differ = 0;
    for (uint16_t i = 1; i < count; i++) differ |= n.verdicts[i] ^ v;
    if (differ) return false;
    if (v & kHandedOverBit) {  // a device holds them now; nothing to release
        if (v & kDropBit) n.drops[v & 0xff] += count;
        else n.out += count;
        return true;
    }
    if (v & kDropBit) {
        auto reason = static_cast<DropReason>(v & 0xff);
        n.drops[reason] += count;
        let_go(graph, node, n, packets, count, reason);
        return true;
    }
    pass_all(graph, node, n, packets, count, v, whole_stream);
    return true;
}

void route(rte_graph* graph, rte_node* node, RuntimeNode& n, rte_mbuf** packets, uint16_t count) {
    // Where the node settles fates itself (a chain), what it lets go of is
    // freed together at the end.
    rte_mbuf* gone[RTE_GRAPH_BURST_SIZE];
    uint16_t gone_count = 0;
    auto let_go_one = [&](rte_mbuf* m, DropReason reason, bool passed) {
        if (n.settles) {
            if (passed ? n.passes_written : n.after_sink) n.sink.ledger->written++;
            else n.sink.ledger->drops[reason]++;
            gone[gone_count++] = m;
            return;
        }
        Bookkeeping::let_go(m, reason);
        rte_node_enqueue_x1(graph, node, 0, m);
    };
    for (uint16_t i = 0; i < count; i++) {
        rte_mbuf* m = packets[i];
        uint32_t v = n.verdicts[i];
        if (v & kHandedOverBit) {  // a device holds it now; nothing to release
            if (v & kDropBit) n.drops[v & 0xff]++;
            else n.out++;
            continue;
        }
        if (v & kDropBit) {
            auto reason = static_cast<DropReason>(v & 0xff);
            n.drops[reason]++;
            let_go_one(m, reason, false);
            continue;
        }
        n.out++;
        const Targets& t = n.routing.lookup(v);
        size_t k = t.edges.size();
        if (k == 0) {
            let_go_one(m, t.end_reason, true);
            continue;
        }
        if (k > 1) share(m, k);
        for (Edge e : t.edges) rte_node_enqueue_x1(graph, node, e, m);
    }
    if (gone_count) rte_pktmbuf_free_bulk(gone, gone_count);
}

}  // namespace

Runtime* NodeCallbacks::creating = nullptr;

void install_terminate_handler() {
    static const bool installed = [] {
        g_previous_terminate = std::set_terminate(on_terminate);
        return true;
    }();
    (void)installed;
}

int NodeCallbacks::init(const rte_graph*, rte_node* node) {
    Runtime* rt = creating;
    if (!rt) return -EINVAL;
    if (node->id == rt->source_id_ || node->id == rt->release_id_) {
        std::memcpy(node->ctx, &rt, sizeof(rt));
        if (node->id == rt->source_id_) rt->source_node_ = node;
        return 0;
    }
    for (auto& n : rt->nodes_)
        if (n->id == node->id) {
            RuntimeNode* p = n.get();
            std::memcpy(node->ctx, &p, sizeof(p));
            n->rte = node;
            return 0;
        }
    return -ENOENT;
}

uint16_t NodeCallbacks::source(rte_graph* graph, rte_node* node, void**, uint16_t) {
    Runtime* rt = context_of<Runtime>(node);
    detail::walk_serial++;
    void** out = rte_node_next_stream_get(graph, node, 0, RTE_GRAPH_BURST_SIZE);
    auto** packets = reinterpret_cast<rte_mbuf**>(out);
    uint16_t n = rt->source_->read(packets, RTE_GRAPH_BURST_SIZE, rt->walk_input_);
    rt->shadows_->begin_walk(packets, n, rt->rx_shadow_);
    rt->ledger_.read += n;
    if (n) rte_node_next_stream_put(graph, node, 0, n);
    return n;
}

uint16_t NodeCallbacks::input(rte_graph* graph, rte_node* node, void** objs, uint16_t count) {
    RuntimeNode& n = *context_of<RuntimeNode>(node);
    n.in += count;
    if (n.routing.single) {  // no `rx N` edge: every packet goes one way
        n.out += count;
        rte_node_next_stream_move(graph, node, n.routing.single);
        return count;
    }
    auto** packets = reinterpret_cast<rte_mbuf**>(objs);
    if (*n.walk_input != io::Source::kMixedInputs) {
        pass_all(graph, node, n, packets, count, *n.walk_input, true);
        return count;
    }
    run_filter(n, packets, count);  // class = each packet's input
    n.in -= count;                  // run_filter counted them again
    if (!route_uniform(graph, node, n, packets, count, true)) route(graph, node, n, packets, count);
    return count;
}

uint16_t NodeCallbacks::filter(rte_graph* graph, rte_node* node, void** objs, uint16_t count) {
    RuntimeNode& n = *context_of<RuntimeNode>(node);
    auto** packets = reinterpret_cast<rte_mbuf**>(objs);
    // A node with several predecessors can receive more than one burst at
    // once; filters always see at most RTE_GRAPH_BURST_SIZE packets.
    if (count <= RTE_GRAPH_BURST_SIZE) {
        uint16_t kept = prepare(graph, node, n, packets, count);
        if (kept == 0) return count;
        Burst burst = run_filter(n, packets, kept);
        if (kept == count && burst.drop_count() == 0 && n.routing.single) {
            n.out += count;
            rte_node_next_stream_move(graph, node, n.routing.single);
            return count;
        }
        if (!route_uniform(graph, node, n, packets, kept, kept == count)) route(graph, node, n, packets, kept);
        return count;
    }
    for (uint16_t done = 0; done < count;) {
        uint16_t chunk = std::min<uint16_t>(RTE_GRAPH_BURST_SIZE, count - done);
        uint16_t kept = prepare(graph, node, n, packets + done, chunk);
        if (kept) {
            run_filter(n, packets + done, kept);
            if (!route_uniform(graph, node, n, packets + done, kept, false)) route(graph, node, n, packets + done, kept);
        }
        done += chunk;
    }
    return count;
}

// The last reference decides the packet's fate: written by some sink, or
// dropped for the reason the last branch gave. The mbufs are freed in bulk,
// which drops one mbuf reference per appearance, in order (a packet on
// several branches may appear several times; a NIC's transmit ring may still
// hold one).
uint16_t NodeCallbacks::release(rte_graph*, rte_node* node, void** objs, uint16_t count) {
    Runtime* rt = context_of<Runtime>(node);
    auto** packets = reinterpret_cast<rte_mbuf**>(objs);
    for (uint16_t i = 0; i < count; i++) {
        rte_mbuf* m = packets[i];
        if (--Bookkeeping::graph_refs(m) == 0) {
            if (Bookkeeping::written(m)) rt->ledger_.written++;
            else rt->ledger_.drops[Bookkeeping::fate(m)]++;
        }
    }
    rte_pktmbuf_free_bulk(packets, count);
    return count;
}

}  // namespace sl::graph

namespace sl {

using Bookkeeping = detail::PacketBookkeeping;

rte_mbuf** Burst::hand_over() noexcept {
    handed_over_ = true;
    if (!sink_->ends_paths) {
        // Other branches still hold the packets: the device gets a reference
        // of its own.
        for (uint16_t i = 0; i < size_; i++) rte_pktmbuf_refcnt_update(packets_[i], 1);
        return packets_;
    }
    // Every path ends here: the graph's references go to the device, so the
    // graph neither takes more references nor releases them.
    if (sink_->one_branch) {
        // Each packet's reference is the graph's only one: every packet's
        // fate is settled here, and nothing reads its count again.
        for (uint16_t w = 0; w < 4; w++) {
            unsigned bits = std::clamp<int>(size_ - w * 64, 0, 64);
            last_[w] = bits == 64 ? ~uint64_t{0} : (uint64_t{1} << bits) - 1;
        }
        sink_->ledger->written += size_;
        std::fill_n(verdicts_, size_, detail::kHandedOverBit);
        return packets_;
    }
    for (uint16_t i = 0; i < size_; i++) {
        rte_mbuf* m = packets_[i];
        uint8_t& refs = Bookkeeping::graph_refs(m);
        if (refs == 1) {
            // The graph lets go: the packet's fate is settled now, as written
            // unless taken() finds this copy refused.
            last_[i >> 6] |= uint64_t{1} << (i & 63);
            sink_->ledger->written++;
        }
        refs--;
        verdicts_[i] = detail::kHandedOverBit;
    }
    return packets_;
}

// The plan puts a keeping filter where no branch or sink came before it:
// the graph's reference to each packet is its only one, and its fate is
// settled here, as a device's would be (hand_over).
void Burst::keep(uint16_t i, DropReason reason) noexcept {
    if (verdicts_[i] & detail::kHandedOverBit) return;  // kept already
    drops_ += !(verdicts_[i] & detail::kDropBit);
    verdicts_[i] = detail::kHandedOverBit | detail::kDropBit | reason;
    sink_->ledger->drops[reason]++;
}

void Burst::replace(uint16_t i, rte_mbuf* m, DropReason reason) noexcept {
    rte_mbuf* old = packets_[i];
    if (verdicts_[i] & detail::kHandedOverBit) {  // kept already: routing will not count it now
        (*sink_->node_drops)[verdicts_[i] & 0xff]++;
        drops_--;
    } else {
        sink_->ledger->drops[reason]++;
        (*sink_->node_drops)[reason]++;
    }
    sink_->ledger->made++;
    (*sink_->node_made)++;
    if (m != old) {
        detail::set_timestamp_ns(m, timestamp_ns(old));
        Bookkeeping::set_sequence(m, Bookkeeping::sequence(old));
        Bookkeeping::set_shadow_slot(m, Bookkeeping::shadow_slot(old));
    }
    detail::mutable_meta(m).wire_len = m->pkt_len;
    Bookkeeping::mark_unparsed(m);
    Bookkeeping::first_reference(m);
    packets_[i] = m;
    verdicts_[i] = 0;
}

void Burst::taken(uint16_t count, DropReason reason) noexcept {
    count = std::min(count, size_);
    if (!handed_over_) {
        // A file sink copied them.
        for (uint16_t i = 0; i < count; i++) Bookkeeping::mark_written(packets_[i]);
        for (uint16_t i = count; i < size_; i++) drop(i, reason);
        return;
    }
    if (!sink_->ends_paths) {
        for (uint16_t i = 0; i < count; i++) Bookkeeping::mark_written(packets_[i]);
        for (uint16_t i = count; i < size_; i++) {
            rte_pktmbuf_refcnt_update(packets_[i], -1);  // the device did not take its reference
            drop(i, reason);
        }
        return;
    }
    auto is_last = [&](uint16_t i) { return (last_[i >> 6] >> (i & 63)) & 1; };
    // A copy that went out while the graph still holds its packet (fan-out
    // into this sink) marks it written for whichever branch lets go last.
    // When the packet's last copy is in this burst and went out too, the
    // device may have freed the mbuf already; that copy counted it.
    for (uint16_t i = 0; i < count; i++) {
        if (is_last(i)) continue;
        bool counted = false;
        for (uint16_t j = i + 1; j < size_ && !counted; j++)
            counted = packets_[j] == packets_[i] && is_last(j) && j < count;
        if (!counted) Bookkeeping::mark_written(packets_[i]);
    }
    for (uint16_t i = count; i < size_; i++) {
        rte_mbuf* m = packets_[i];  // alive: this refused copy's reference is still ours
        if (is_last(i)) {
            // Written after all when another branch, or a copy that went out
            // just now, wrote it. In a chain nothing keeps fates: only a sink
            // before this one can have written it.
            bool written = sink_->one_branch ? sink_->after_sink : Bookkeeping::written(m);
            if (!written) {
                sink_->ledger->written--;
                sink_->ledger->drops[reason]++;
            }
        } else {
            Bookkeeping::let_go(m, reason);
        }
        drops_++;
        verdicts_[i] = detail::kHandedOverBit | detail::kDropBit | reason;
    }
    rte_pktmbuf_free_bulk(packets_ + count, size_ - count);
}

}  // namespace sl
