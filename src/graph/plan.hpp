// The plan: what a configuration means, decided before anything runs.
//
// plan() resolves the streams a configuration names, creates one node per
// filter instance (a shared sink once), checks the graph (unknown names,
// loops, too many branches, class edges) and decides, per node, its routing,
// the access its type declares, the shadow policy its reads are served under
// and whether it reads what the parser finds (packets are parsed at the
// first node that does, and only there). It needs no EAL and runs no
// filter code, so its errors (file:line:col) and decisions are tested alone.
//
// Node 0 is the input node ("parse" in reports): the source feeds it every
// packet, and its class is the packet's input, so that `rx N` is its class-N
// edge.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include <sl/filter.hpp>

#include "graph/routing.hpp"
#include "lang/ast.hpp"
#include "sdk/registry.hpp"
#include "shadow/policy.hpp"

namespace sl::graph {

struct PlanOptions {
    unsigned input_count = 1;     // `rx N` needs N < input_count
    bool live = false;            // inputs are ports, not capture files (in messages)
    shadow::PolicyConfig shadow;  // --shadow: for what no `shadow` statement names
};

struct PlanNode {
    // An edge as the configuration wrote it.
    struct Out {
        lang::Edge::Kind kind;
        uint32_t cls;
        size_t target;  // node index
        Location where;
    };

    std::string name;                  // "bpf#1", or its name=
    const FilterType* type = nullptr;  // null for the parse node
    Args args;                         // without name=
    Location where;                    // the filter's name in the configuration
    // The filter and its arguments: nodes with equal signatures construct
    // equal filters, so a reload keeps the filter of such a node.
    std::string signature;
    Access access = Access::metadata;  // what the type declares; a filter may change it
    bool reads_parsed = false;         // reads what the parser finds: not kNoParse
    shadow::PolicyConfig policy;       // --shadow, or its stream's `shadow NAME POLICY`
    // The first filter after a stream whose policy is prefetch: it pulls
    // every packet whole, whatever it reads itself.
    bool pulls_ahead = false;
    std::vector<Out> outs;
    std::vector<size_t> successors;  // edge e (from 1) leads to successors[e - 1]
    unsigned ways_in = 1;            // paths from rx to this node (at most 255)
    int only_input = -1;             // the one input (`rx N`) all its packets come from, or -1
    Routing routing;

    const char* filter_name() const noexcept { return type ? type->name : "parse"; }
    bool ends_paths() const noexcept { return outs.empty(); }
};

class Plan {
public:
    const std::vector<PlanNode>& nodes() const noexcept { return nodes_; }
    const PlanNode* find(std::string_view name) const noexcept;
    const PlanOptions& options() const noexcept { return options_; }
    // The most branches a packet can be on at once (paths from rx to the
    // ends of the graph): 1 when the graph is one chain.
    uint64_t branches() const noexcept { return branches_; }
    // The first node whose filter counts the packets of the input in order
    // (kInputOrder), or null.
    const PlanNode* counts_input_order() const noexcept;
    // By input: whether a pipeline reads it (`rx` reads all, `rx N` input N).
    std::vector<bool> inputs_read() const;

private:
    friend class Planner;
    PlanOptions options_;
    std::vector<PlanNode> nodes_;
    uint64_t branches_ = 1;
};

// Throws ConfigError pointing into the configuration.
Plan plan(const lang::Program& program, const Registry& registry, const PlanOptions& options);

}  // namespace sl::graph
