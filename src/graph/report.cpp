#include "graph/report.hpp"

#include <algorithm>

#include "graph/runtime.hpp"
#include "sdk/registry.hpp"
#include "shadow/shadows.hpp"

namespace sl::graph {
namespace {

std::map<std::string, uint64_t> named(const std::array<uint64_t, 256>& drops) {
    std::map<std::string, uint64_t> out;
    for (size_t i = 0; i < drops.size(); i++)
        if (drops[i]) out[drop_reason_name(static_cast<DropReason>(i))] = drops[i];
    return out;
}

uint64_t sum(const std::map<std::string, uint64_t>& counts) {
    uint64_t n = 0;
    for (const auto& [reason, count] : counts) n += count;
    return n;
}

}  // namespace

uint64_t NodeReport::dropped() const { return sum(drops); }
uint64_t Report::dropped() const { return sum(drops); }

Report Runtime::report() const {
    Report r;
    r.packets_read = ledger_.read;
    r.packets_written = ledger_.written;
    r.packets_made = ledger_.made;
    r.drops = named(ledger_.drops);
    r.shadow_policy = shadow::policy_name(nodes_[0]->policy);
    r.copy_engine = shadows_->engine().name();
    NodeReport rx;
    rx.access = "metadata";
    rx.policy = r.shadow_policy;
    rx.shadow = rx_shadow_;
    r.shadow.add(rx_shadow_);
    rx.name = "rx";
    rx.filter = "rx";
    rx.packets_in = rx.packets_out = ledger_.read;
    // Polling ports spends cycles on empty queues too; per packet that says
    // nothing, so a live source shows none.
    if (source_node_ && !context_.live) {
        rx.calls = source_node_->total_calls;
        rx.cycles = source_node_->total_cycles;
    }
    r.nodes.push_back(rx);
    for (const auto& node : nodes_) {
        NodeReport n;
        n.name = node->name;
        n.filter = node->filter_name();
        n.packets_in = node->in;
        n.packets_out = node->out;
        n.packets_made = node->made;
        n.drops = named(node->drops);
        n.counters.assign(node->counters.begin(), node->counters.end());
        n.info = node->info;
        n.access = access_name(node->access);
        n.policy = shadow::policy_name(node->policy);
        n.shadow = node->shadow;
        r.shadow.add(node->shadow);
        n.calls = node->earlier_calls + (node->rte ? node->rte->total_calls : 0);
        n.cycles = node->earlier_cycles + (node->rte ? node->rte->total_cycles : 0);
        r.nodes.push_back(std::move(n));
    }
    return r;
}

void merge(Report& into, const Report& from) {
    if (into.nodes.empty()) {
        into = from;
        return;
    }
    into.packets_read += from.packets_read;
    into.packets_written += from.packets_written;
    into.packets_made += from.packets_made;
    into.shadow.add(from.shadow);
    for (const auto& [reason, n] : from.drops) into.drops[reason] += n;
    for (const auto& f : from.nodes) {
        auto it = std::find_if(into.nodes.begin(), into.nodes.end(), [&](const NodeReport& n) { return n.name == f.name; });
        if (it == into.nodes.end()) {
            into.nodes.push_back(f);
            continue;
        }
        it->packets_in += f.packets_in;
        it->packets_out += f.packets_out;
        it->packets_made += f.packets_made;
        it->calls += f.calls;
        it->cycles += f.cycles;
        it->shadow.add(f.shadow);
        for (const auto& [reason, n] : f.drops) it->drops[reason] += n;
        for (const auto& counter : f.counters) {
            auto c = std::find_if(it->counters.begin(), it->counters.end(),
                                  [&](const auto& x) { return x.first == counter.first; });
            if (c == it->counters.end()) it->counters.push_back(counter);
            else c->second += counter.second;
        }
    }
}

}  // namespace sl::graph
