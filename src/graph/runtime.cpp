#include "graph/runtime.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <map>

#include <fmt/format.h>
#include <rte_errno.h>
#include <rte_string_fns.h>

#include "graph/needs.hpp"
#include "graph/nodes.hpp"
#include "packet/parse_filter.hpp"
#include "shadow/shadows.hpp"

namespace sl::graph {
namespace {

unsigned g_generation = 0;

// Each filter type gets one base node, registered once per process; a graph's
// nodes are clones of it named after the plan's nodes.
rte_node_t base_node(const std::string& name, rte_node_process_t process, bool source) {
    static std::map<std::string, rte_node_t> bases;
    auto it = bases.find(name);
    if (it != bases.end()) return it->second;
    rte_node_register reg{};
    rte_strscpy(reg.name, name.c_str(), sizeof(reg.name));
    reg.flags = source ? RTE_NODE_SOURCE_F : 0;
    reg.process = process;
    reg.init = NodeCallbacks::init;
    reg.parent_id = RTE_NODE_ID_INVALID;
    rte_node_t id = __rte_node_register(&reg);
    if (id == RTE_NODE_ID_INVALID) throw RuntimeError(fmt::format("cannot register graph node '{}'", name));
    bases[name] = id;
    return id;
}

// rte_graph never forgets a node, so the graphs a reload builds carry a
// generation in their names ("bpf#1~2").
std::string clone_name(const std::string& display, unsigned generation) {
    return generation == 0 ? display : fmt::format("{}~{}", display, generation);
}

rte_node_t clone(rte_node_t base, const std::string& name) {
    rte_node_t id = rte_node_clone(base, name.c_str());
    if (id == RTE_NODE_ID_INVALID) throw RuntimeError(fmt::format("cannot create graph node '{}'", name));
    return id;
}

}  // namespace

Runtime::Runtime(const Plan& plan, Instances instances, io::Source& source)
    : context_(instances.context()), source_(&source), inputs_read_(plan.inputs_read()) {
    install_terminate_handler();
    generation_ = g_generation++;
    const auto& planned = plan.nodes();
    auto& built = instances.nodes();
    for (size_t i = 0; i < planned.size(); i++) {
        const PlanNode& p = planned[i];
        auto node = std::make_unique<RuntimeNode>();
        node->name = p.name;
        node->type = p.type;
        node->signature = p.signature;
        node->policy = p.policy;
        node->pulls_ahead = p.pulls_ahead;
        node->successors = p.successors;
        node->routing = p.routing;
        node->filter = std::move(built[i].filter);
        node->counters = std::move(built[i].counters);
        node->info = std::move(built[i].info);
        node->access = built[i].access;
        node->adopts = built[i].adopts;
        node->sink = {p.ends_paths(), plan.branches() == 1, &ledger_};
        node->sink.node_drops = &node->drops;
        node->sink.node_made = &node->made;
        nodes_.push_back(std::move(node));
    }
    auto* input = static_cast<packet::InputFilter*>(nodes_[0]->filter.get());
    input->classify_by_port(!nodes_[0]->routing.classes.empty());
    bool copies = plan.options().shadow.policy == shadow::Policy::prefetch;
    for (size_t i = 0; i < nodes_.size(); i++) {
        RuntimeNode& node = *nodes_[i];
        NodeNeeds needs = needs_of(planned[i], node.access);
        if (needs.parses) node.parser = &input->parser();
        node.pull_for_parse = needs.pull_for_parse;
        node.bring_in = needs.bring_in;
        node.may_pull = needs.may_pull;
        copies |= node.may_pull || node.pull_for_parse;
        node.settles = plan.branches() == 1;
        node.keeps = node.type && (node.type->flags & kKeepsPackets);
    }
    // In a chain each node has one predecessor: a packet past a sink was
    // taken by it (what the sink refused, it dropped itself).
    for (size_t pass = 0; pass < nodes_.size(); pass++)
        for (size_t i = 0; i < nodes_.size(); i++)
            for (size_t s : nodes_[i]->successors)
                nodes_[s]->after_sink |= nodes_[i]->after_sink || (nodes_[i]->type && (nodes_[i]->type->flags & kSink));
    for (auto& node : nodes_) {
        node->sink.after_sink = node->after_sink;
        node->passes_written = node->after_sink || (node->type && (node->type->flags & kSink));
    }
    nodes_[0]->walk_input = &walk_input_;
    shadows_ = std::make_unique<shadow::Shadows>(plan.options().shadow, copies, context_.largest_packet,
                                                 context_.socket, context_.copy_engine);
    for (auto& node : nodes_) node->shadows = shadows_.get();
    bind();
}

Runtime::~Runtime() {
    // A walk always runs until every stream is empty, so no packet is queued
    // here; rte_graph_destroy frees only the graph's own memory.
    if (graph_id_ != RTE_GRAPH_ID_INVALID) rte_graph_destroy(graph_id_);
}

void Runtime::bind() {
    std::string release_name = clone_name("drop", generation_);
    std::string source_name = clone_name("rx", generation_);
    // The runtime's own node types carry a ':' that no filter name can hold,
    // so that a filter called "drop" never shares the release node's type.
    release_id_ = clone(base_node("sl:release", NodeCallbacks::release, false), release_name);
    source_id_ = clone(base_node("sl:rx", NodeCallbacks::source, true), source_name);
    std::vector<std::string> full_names;
    for (auto& node : nodes_) {
        std::string base = node->type ? fmt::format("sl_{}", node->type->name) : "sl:parse";
        auto process = node->type ? NodeCallbacks::filter : NodeCallbacks::input;
        node->id = clone(base_node(base, process, false), clone_name(node->name, generation_));
        full_names.push_back(rte_node_id_to_name(node->id));
    }
    std::string release_full = rte_node_id_to_name(release_id_);
    std::string source_full = rte_node_id_to_name(source_id_);
    const char* parse_full = full_names[0].c_str();
    if (rte_node_edge_update(source_id_, 0, &parse_full, 1) != 1) throw RuntimeError("cannot connect the source node");
    for (size_t i = 0; i < nodes_.size(); i++) {
        std::vector<const char*> next = {release_full.c_str()};
        for (size_t s : nodes_[i]->successors) next.push_back(full_names[s].c_str());
        if (rte_node_edge_update(nodes_[i]->id, 0, next.data(), static_cast<uint16_t>(next.size())) != next.size())
            throw RuntimeError(fmt::format("cannot connect graph node '{}'", nodes_[i]->name));
    }

    std::vector<const char*> patterns = {source_full.c_str(), release_full.c_str()};
    for (const auto& n : full_names) patterns.push_back(n.c_str());
    graph_name_ = fmt::format("sl-{}", generation_);
    rte_graph_param param{};
    param.socket_id = context_.socket;
    param.nb_node_patterns = static_cast<uint16_t>(patterns.size());
    param.node_patterns = patterns.data();
    NodeCallbacks::creating = this;
    graph_id_ = rte_graph_create(graph_name_.c_str(), &param);
    NodeCallbacks::creating = nullptr;
    if (graph_id_ == RTE_GRAPH_ID_INVALID)
        throw RuntimeError(fmt::format("cannot create the graph: {}", rte_strerror(rte_errno)));
    graph_ = rte_graph_lookup(graph_name_.c_str());
}

std::vector<std::pair<std::string, std::vector<std::string>>> Runtime::edges() const {
    std::vector<std::pair<std::string, std::vector<std::string>>> out = {{"rx", {nodes_[0]->name}}};
    for (const auto& node : nodes_) {
        std::vector<std::string> next;
        for (size_t s : node->successors) next.push_back(nodes_[s]->name);
        out.emplace_back(node->name, std::move(next));
    }
    return out;
}

void finish(std::span<Runtime* const> workers) {
    std::string errors;
    auto failed = [&](const std::string& node, const std::string& what) {
        if (!errors.empty()) errors += '\n';
        errors += fmt::format("{}: {}", node, what);
    };
    for (Runtime* r : workers)
        for (const auto& node : r->nodes()) {
            if (!node->filter) continue;  // taken over by the next graph
            try {
                node->filter->finish();
            } catch (const std::exception& e) {
                failed(node->name, e.what());
            }
        }
    if (workers.empty()) return;
    // Every worker's graph comes from the same plan: node i is the same node
    // everywhere, and it kept its filter everywhere or nowhere.
    for (size_t i = 0; i < workers[0]->nodes().size(); i++) {
        std::vector<Filter*> instances;
        for (Runtime* r : workers)
            if (Filter* f = r->nodes()[i]->filter.get()) instances.push_back(f);
        if (instances.size() != workers.size()) continue;
        try {
            instances[0]->merge_workers(instances);
        } catch (const std::exception& e) {
            failed(workers[0]->nodes()[i]->name, e.what());
        }
    }
    if (!errors.empty()) throw RuntimeError(errors);
}

}  // namespace sl::graph
