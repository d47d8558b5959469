// Turns a parsed configuration into an rte_graph and runs it.
//
// Every filter instance becomes a node cloned from its filter type's base node
// ("sl_bpf" -> "bpf#1"). Edge 0 of every node leads to one drop node, which
// releases mbufs and keeps the final fate of each packet; the other edges come
// from the pipes and classifier edges of the configuration. A source node feeds
// a parse node whose class is the packet's input port, so that `rx` and
// `rx N` are ordinary edges out of it.
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <rte_graph.h>
#include <rte_graph_worker.h>

#include "lang/ast.hpp"
#include "shadow/copy_engine.hpp"
#include "shadow/policy.hpp"
#include <sl/filter.hpp>

namespace sl::shadow {
class Shadows;
}

namespace sl::graph {

// Fills bursts of mbufs: capture files in sl-replay, ports in sl-forward.
class Source {
public:
    virtual ~Source() = default;
    // Up to `max` packets with data, port and PacketMeta timestamp/wire_len set.
    virtual uint16_t read(rte_mbuf** packets, uint16_t max) noexcept = 0;
};

struct BuildOptions {
    int dlt = 1;               // DLT_EN10MB
    uint32_t linktype = 1;     // written into pcap outputs
    std::string output_dir;    // where relative sink paths go; "" = current folder
    unsigned input_count = 1;  // `rx N` needs N < input_count
    int socket = 0;
    unsigned worker = 0;       // this graph's worker, of `workers`
    unsigned workers = 1;
    bool live = false;         // rx reads DPDK ports
    std::vector<int> tx_queues;  // by port id: this worker's queue, or -1
    shadow::PolicyConfig shadow;         // how filters' reads are served
    uint32_t largest_packet = 65535;     // sizes the shadow memory
    shadow::CopyEngine* copy_engine = nullptr;  // this worker's; null: the CPU copies
};

struct NodeReport {
    std::string name;
    std::string filter;
    uint64_t packets_in = 0;
    uint64_t packets_out = 0;
    std::map<std::string, uint64_t> drops;
    std::vector<std::pair<std::string, uint64_t>> counters;
    std::vector<std::pair<std::string, uint64_t>> info;  // facts, not summed
    uint64_t calls = 0;
    uint64_t cycles = 0;
    std::string access;  // what the filter reads: metadata, headers, payload, write
    std::string policy;  // the shadow policy its reads are served under
    shadow::Counters shadow;
    uint64_t dropped() const;
    double cycles_per_packet() const { return packets_in ? double(cycles) / double(packets_in) : 0.0; }
};

struct Report {
    std::vector<NodeReport> nodes;
    uint64_t packets_read = 0;
    uint64_t packets_written = 0;
    std::map<std::string, uint64_t> drops;  // final fate of packets not written
    std::string shadow_policy;
    std::string copy_engine;
    shadow::Counters shadow;  // every node's, summed
    uint64_t dropped() const;
};

class Runtime {
public:
    // Resolves names, checks the graph and constructs every filter. Throws
    // ConfigError pointing into the configuration; reads no packet.
    //
    // With `previous` (a reload), nodes equal to one of the previous graph's
    // (same name, filter and arguments) construct nothing: take_over() later
    // moves the previous filter in, with its state and open files.
    Runtime(const lang::Program& program, const BuildOptions& options, Runtime* previous = nullptr);
    ~Runtime();
    Runtime(const Runtime&) = delete;
    Runtime& operator=(const Runtime&) = delete;

    // Registers the nodes and creates the graph, reading from `source`.
    void start(Source& source);
    // One pass: the source fills a burst and every node runs until idle.
    void walk() noexcept { rte_graph_walk(graph_); }
    // Runs each filter's finish() (flushes sinks). Throws RuntimeError.
    void finish();
    // Called by the worker between two walks, when this graph replaces
    // `previous`: takes over its equal filters and continues the counters of
    // every node with the same name, and the totals. The previous graph is
    // no longer walked afterwards; finish() then closes only what it kept.
    void take_over() noexcept;

    Report report() const;
    // Each node by name, with the names of the nodes it feeds.
    std::vector<std::pair<std::string, std::vector<std::string>>> edges() const;
    void export_dot(const std::string& path) const;
    uint64_t packets_read() const noexcept { return totals_.read; }
    // True when some filter declares write access, so packets must live in
    // memory of their own rather than in a read-only capture mapping.
    bool writes_packets() const noexcept;

    // Implementation details shared with the node callbacks.
    struct Node;
    struct Totals : detail::Ledger {
        uint64_t read = 0;
    };

private:
    void build(const lang::Program& program);
    void construct_filters();
    void check_acyclic() const;
    void compute_routing();
    size_t add_node(const lang::Stage& stage, const std::string& share_key, const shadow::PolicyConfig& policy);

    BuildOptions options_;
    Runtime* previous_ = nullptr;
    std::vector<std::unique_ptr<Node>> nodes_;  // nodes_[0] is the parse node
    Totals totals_;
    Source* source_ = nullptr;
    rte_node_t source_id_ = RTE_NODE_ID_INVALID;
    rte_node_t drop_id_ = RTE_NODE_ID_INVALID;
    unsigned generation_ = 0;
    std::string graph_name_;
    rte_graph_t graph_id_ = RTE_GRAPH_ID_INVALID;
    rte_graph* graph_ = nullptr;
    rte_node* source_node_ = nullptr;
    rte_node* drop_node_ = nullptr;
    bool finished_ = false;
    std::unique_ptr<shadow::Shadows> shadows_;
    shadow::Counters rx_shadow_;  // prefetch's pulls as packets enter

    friend struct NodeCallbacks;
};

const char* access_name(Access access);

// The parse node's filter: parses each packet and sets its class to the input
// port, so that `rx N` is the class-N edge. Counts malformed packets by reason.
std::unique_ptr<Filter> make_parse_filter(FilterContext& ctx);

}  // namespace sl::graph
