#include "graph/needs.hpp"

namespace sl::graph {

NodeNeeds needs_of(const PlanNode& node, Access access) {
    NodeNeeds n;
    // A filter that pulls payloads under hybrid finds them by the parsed
    // payload offset, whether or not it reads parsed fields itself.
    bool by_offset = node.policy.policy == shadow::Policy::hybrid && node.policy.fixed_threshold == 0 &&
                     (access == Access::payload || access == Access::write);
    n.parses = node.reads_parsed || by_offset;
    n.pull_for_parse = n.parses && shadow::may_pull(node.policy, Access::headers);
    n.bring_in = node.pulls_ahead ? Access::payload : access;
    n.may_pull = shadow::may_pull(node.policy, n.bring_in);
    return n;
}

io::PacketNeeds packet_needs(const Plan& plan, const Instances& instances) {
    io::PacketNeeds p;
    p.bytes = p.writes = p.meta = p.unparsed = false;
    const auto& nodes = plan.nodes();
    for (size_t i = 0; i < nodes.size(); i++) {
        Access access = instances.node(i).access;
        NodeNeeds n = needs_of(nodes[i], access);
        p.writes |= access == Access::write;
        p.bytes |= reads_bytes(access) || n.parses;
        // Node 0 reads only the input port.
        p.meta |= i > 0 && access != Access::none;
        // Parsing checks the parse state; a header reader's view and the
        // shadows' accounting read it too.
        p.unparsed |= n.parses || reads_bytes(access);
        p.kept += instances.node(i).kept;
        p.deal_by_addresses |= nodes[i].type && (nodes[i].type->flags & kJoinsFragments);
    }
    // What a filter keeps past a walk must not point into a capture
    // reader's buffers, which the next records reuse.
    p.writes |= p.kept > 0;
    p.meta |= p.unparsed;
    // In a chain nothing counts references or reads a fate: each node
    // settles what it lets go of (nodes.cpp).
    p.references = plan.branches() > 1;
    return p;
}

}  // namespace sl::graph
