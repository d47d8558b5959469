// Where a node sends the packets it passes, by class. The plan decides it;
// the graph's node callbacks look it up once per burst (or per packet when
// the packets of a burst got different classes).
//
// A node's edges are numbered as rte_graph numbers them: edge 0 leads to the
// release node (a packet's fate is settled there), edges 1.. to the node's
// successors in the order the configuration first names them.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "sdk/registry.hpp"

namespace sl::graph {

using Edge = uint16_t;  // rte_edge_t

// Where a passed packet of one class goes: the edges, or (when there are
// none) the reason its branch ends with.
struct Targets {
    std::vector<Edge> edges;
    DropReason end_reason = kEndOfPipeline;
};

struct Routing {
    // Set when every packet goes to one edge whatever its class; then a burst
    // with no drops moves to the next node as a whole.
    Edge single = 0;
    std::vector<uint32_t> classes;  // sorted
    std::vector<Targets> class_targets;
    Targets otherwise;

    const Targets& lookup(uint32_t cls) const noexcept {
        if (classes.empty()) return otherwise;
        auto it = std::lower_bound(classes.begin(), classes.end(), cls);
        if (it != classes.end() && *it == cls) return class_targets[size_t(it - classes.begin())];
        return otherwise;
    }
};

}  // namespace sl::graph
