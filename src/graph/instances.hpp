// A plan's filters, constructed for one worker.
//
// Every worker lcore runs its own instance of every filter. Constructing them
// runs filter code (compiling a bpf expression, opening an output file), so
// it happens after the EAL started and before any port does: a filter that
// refuses its arguments is a configuration error that names the filter, and
// for a plugin, the plugin.
#pragma once

#include <deque>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <sl/filter.hpp>

#include "graph/plan.hpp"
#include "shadow/copy_engine.hpp"

namespace sl::graph {

class Runtime;

// Where one worker's graph runs and what its filters may ask of it.
struct WorkerContext {
    int dlt = 1;               // the input's link type (DLT_EN10MB)
    uint32_t linktype = 1;     // written into pcap outputs
    uint32_t snaplen = 262144; // written into pcap outputs: the inputs' largest
    bool byte_swapped = false; // the (first) capture was saved in the other byte order
    std::vector<std::string> input_names;  // by input: a port's device name; none for captures
    std::string output_dir;    // where relative sink paths go; "" = current folder
    int socket = 0;
    unsigned worker = 0;       // this graph's worker, of `workers`
    unsigned workers = 1;
    bool live = false;         // rx reads DPDK ports
    std::vector<int> tx_queues;                 // by port id: this worker's queue, or -1
    uint32_t largest_packet = 65535;            // sizes the shadow memory
    shadow::CopyEngine* copy_engine = nullptr;  // this worker's; null: the CPU copies
};

// One node's filter and what it registered.
struct Instance {
    std::unique_ptr<Filter> filter;  // null for a reload's node that takes over its predecessor's
    // The filter holds references to its counters: a deque never moves its
    // elements, not even when the deque itself is moved.
    std::deque<std::pair<std::string, uint64_t>> counters;
    std::vector<std::pair<std::string, uint64_t>> info;  // facts, not summed
    Access access = Access::metadata;  // the type's, or what the filter set from its arguments
    // A reload: the index of the previous graph's node whose filter, state
    // and counters this node takes over (same name, filter and arguments).
    static constexpr size_t kNone = SIZE_MAX;
    size_t adopts = kNone;
    uint32_t kept = 0;  // FilterContext::keeps_packets()
};

class Instances {
public:
    // Constructs the filter of every node of `plan`. With `previous` (a
    // reload), a node equal to one of the previous graph's constructs
    // nothing: it adopts that filter when the new graph takes over.
    // Throws ConfigError pointing into the configuration.
    Instances(const Plan& plan, const WorkerContext& context, const Runtime* previous = nullptr);

    const WorkerContext& context() const noexcept { return context_; }
    std::vector<Instance>& nodes() noexcept { return nodes_; }
    const Instance& node(size_t i) const noexcept { return nodes_[i]; }
    // True when some filter declares write access, so packets must live in
    // memory of their own rather than in a read-only capture mapping.
    bool writes_packets() const noexcept;

private:
    WorkerContext context_;
    std::vector<Instance> nodes_;  // by plan node
};

const char* access_name(Access access);

}  // namespace sl::graph
