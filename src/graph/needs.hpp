// What a node needs of the runtime before its filter runs, and what the
// sources must stamp on every packet, decided once from the plan and the
// filters' declared access: work nobody reads is never done per packet.
#pragma once

#include <sl/burst.hpp>

#include "graph/instances.hpp"
#include "graph/plan.hpp"
#include "io/source.hpp"

namespace sl::graph {

struct NodeNeeds {
    bool parses = false;          // packets reaching it unparsed are parsed first
    bool pull_for_parse = false;  // the headers the parse reads are made local first
    Access bring_in = Access::none;  // what the shadows make local for the filter
    bool may_pull = false;           // whether that can ever be anything
};

// `access`: the instance's, which its arguments may have changed.
NodeNeeds needs_of(const PlanNode& node, Access access);

// What every packet must carry as it enters a worker's graph.
io::PacketNeeds packet_needs(const Plan& plan, const Instances& instances);

}  // namespace sl::graph
