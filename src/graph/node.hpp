// What the runtime keeps per node, shared by the files that make it up:
// binding (runtime.cpp), the per-packet callbacks (nodes.cpp), reload
// (reload.cpp) and reports (report.cpp). Outside graph/ only the unit tests
// touch these fields.
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <rte_graph.h>

#include <sl/filter.hpp>

#include "graph/routing.hpp"
#include "shadow/copy_engine.hpp"
#include "shadow/policy.hpp"

namespace sl::shadow {
class Shadows;
}
namespace sl::packet {
class Parser;
}

namespace sl::graph {

// The final count of a graph's packets: read, then written or dropped by reason.
struct Ledger {
    uint64_t read = 0;
    uint64_t written = 0;
    std::array<uint64_t, 256> drops{};
    // Packets filters made (defrag's datagrams): read + made = written +
    // the drops, once the run is over.
    uint64_t made = 0;
};

}  // namespace sl::graph

// What Burst::taken() and hand_over() need of the node a sink runs in.
struct sl::detail::SinkState {
    bool ends_paths = false;  // every path through the node ends there
    bool one_branch = false;  // no packet is ever on two branches: the graph is a chain
    graph::Ledger* ledger = nullptr;
    bool after_sink = false;  // in a chain: every packet here was written already
    // The node's own counts, for Burst::keep() and replace().
    std::array<uint64_t, 256>* node_drops = nullptr;
    uint64_t* node_made = nullptr;
};

namespace sl::graph {

struct RuntimeNode {
    // From the plan.
    std::string name;
    const FilterType* type = nullptr;  // null for the parse node
    std::string signature;
    shadow::PolicyConfig policy;
    bool pulls_ahead = false;
    std::vector<size_t> successors;
    Routing routing;

    // From the instances.
    std::unique_ptr<Filter> filter;
    std::deque<std::pair<std::string, uint64_t>> counters;
    std::vector<std::pair<std::string, uint64_t>> info;
    Access access = Access::metadata;
    size_t adopts = SIZE_MAX;

    // Decided when the graph is bound, from the plan and the instance.
    // Parses the packets that reach it unparsed, before its filter runs.
    packet::Parser* parser = nullptr;
    // Whether the headers the parse reads are made local before it (where
    // the policy copies headers); what the shadows must make local before
    // the filter runs, and whether that can be anything.
    bool pull_for_parse = false;
    Access bring_in = Access::none;
    bool may_pull = false;
    bool keeps = false;  // its type has kKeepsPackets: forget the shadows of what it made
    // In a chain the node settles the fate of what it lets go of and frees
    // it (the release node is for packets on several branches); after a
    // sink, every packet it lets go of was written.
    bool settles = false;
    bool after_sink = false;
    // In a chain: what leaves the graph here having passed was written (the
    // node is a sink, or follows one).
    bool passes_written = false;
    // The input node: where this walk's burst came from (io::Source).
    const uint16_t* walk_input = nullptr;

    // The run.
    shadow::Shadows* shadows = nullptr;  // the worker's
    detail::SinkState sink;
    uint64_t in = 0;
    uint64_t out = 0;
    uint64_t made = 0;  // packets its filter made (Burst::replace)
    uint64_t earlier_calls = 0;  // from the graphs this one replaced
    uint64_t earlier_cycles = 0;
    std::array<uint64_t, 256> drops{};
    shadow::Counters shadow;
    rte_node_t id = RTE_NODE_ID_INVALID;
    rte_node* rte = nullptr;
    alignas(64) std::array<uint32_t, RTE_GRAPH_BURST_SIZE> verdicts{};

    const char* filter_name() const noexcept { return type ? type->name : "parse"; }
};

}  // namespace sl::graph
