// Binds a plan and one worker's filters to an rte_graph, and runs it.
//
// Every plan node becomes a graph node cloned from its filter type's base node
// ("sl_bpf" -> "bpf#1"). Edge 0 of every node leads to one release node,
// which frees mbufs and settles each packet's fate; the other edges are the
// plan's. A source node reads bursts from the io::Source into the parse node.
//
// The work is split as DPDK splits lib/graph: binding here (runtime.cpp),
// the per-packet callbacks in nodes.cpp, reload in reload.cpp, reports in
// report.cpp.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include <rte_graph.h>
#include <rte_graph_worker.h>

#include "graph/instances.hpp"
#include "graph/node.hpp"
#include "graph/plan.hpp"
#include "graph/report.hpp"
#include "io/source.hpp"

namespace sl::shadow {
class Shadows;
}

namespace sl::graph {

class Runtime {
public:
    // Creates the graph of `plan` with `instances` (its filters for this
    // worker), reading from `source`. Throws RuntimeError.
    Runtime(const Plan& plan, Instances instances, io::Source& source);
    ~Runtime();
    Runtime(const Runtime&) = delete;
    Runtime& operator=(const Runtime&) = delete;

    // One pass: the source fills a burst and every node runs until idle.
    void walk() noexcept { rte_graph_walk(graph_); }

    // A reload, called by the worker between two walks when this graph
    // replaces `previous`: takes over its filters that the instances adopted
    // and continues the counters of every node with the same name, and the
    // totals. `previous` is walked no more; finishing it then closes only
    // what it kept.
    void take_over(Runtime& previous) noexcept;
    // Tells the source which inputs this graph reads: by the thread that
    // walks it, before its first walk (take_over() does it on a reload).
    void select_inputs() noexcept { source_->read_only(inputs_read_); }

    Report report() const;
    // Each node by name, with the names of the nodes it feeds.
    std::vector<std::pair<std::string, std::vector<std::string>>> edges() const;
    uint64_t packets_read() const noexcept { return ledger_.read; }
    const std::vector<std::unique_ptr<RuntimeNode>>& nodes() const noexcept { return nodes_; }

private:
    friend struct NodeCallbacks;
    void bind();

    WorkerContext context_;
    std::vector<std::unique_ptr<RuntimeNode>> nodes_;  // nodes_[0] is the parse node
    Ledger ledger_;
    io::Source* source_;
    std::vector<bool> inputs_read_;  // Plan::inputs_read()
    uint16_t walk_input_ = io::Source::kMixedInputs;  // where this walk's burst came from
    std::unique_ptr<shadow::Shadows> shadows_;
    shadow::Counters rx_shadow_;  // prefetch's pulls as packets enter
    unsigned generation_ = 0;
    std::string graph_name_;
    rte_node_t source_id_ = RTE_NODE_ID_INVALID;
    rte_node_t release_id_ = RTE_NODE_ID_INVALID;
    rte_graph_t graph_id_ = RTE_GRAPH_ID_INVALID;
    rte_graph* graph_ = nullptr;
    rte_node* source_node_ = nullptr;
};

// The end of a run, or of the graphs a reload replaced: every filter's
// finish() on each worker's graph, then each node's merge_workers() once,
// over the instances of every worker. Throws RuntimeError naming the nodes
// that failed, after trying them all.
void finish(std::span<Runtime* const> workers);

}  // namespace sl::graph
