// A reload replaces a worker's graph between two walks. Nothing is in flight
// then, so the new graph can take the old one's filters (their state, open
// files and counters) and carry its figures on.
#include "graph/runtime.hpp"

namespace sl::graph {

void Runtime::take_over(Runtime& previous) noexcept {
    select_inputs();
    ledger_ = previous.ledger_;
    rx_shadow_ = previous.rx_shadow_;
    for (auto& node : nodes_) {
        RuntimeNode* old = nullptr;
        size_t index = 0;
        for (size_t k = 0; k < previous.nodes_.size(); k++)
            if (previous.nodes_[k]->name == node->name) {
                old = previous.nodes_[k].get();
                index = k;
            }
        if (!old) continue;
        node->in = old->in;
        node->out = old->out;
        node->drops = old->drops;
        node->made = old->made;
        node->shadow = old->shadow;
        node->earlier_calls = old->earlier_calls + (old->rte ? old->rte->total_calls : 0);
        node->earlier_cycles = old->earlier_cycles + (old->rte ? old->rte->total_cycles : 0);
        if (node->adopts == index && old->filter) {
            // The filter keeps its state, its open files and its counters
            // (a deque moves without moving its elements, which the filter
            // holds references to).
            node->filter = std::move(old->filter);
            node->counters = std::move(old->counters);
            node->info = std::move(old->info);
            continue;
        }
        for (auto& [name, value] : node->counters)
            for (const auto& [old_name, old_value] : old->counters)
                if (old_name == name) value += old_value;
    }
}

}  // namespace sl::graph
