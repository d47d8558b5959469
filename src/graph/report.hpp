// What a graph reports: per node, packets in, out and dropped by reason,
// counters and facts, cycles, and what its reads cost; and the run's totals.
// core/ turns it into the table and the JSON.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "shadow/copy_engine.hpp"

namespace sl::graph {

struct NodeReport {
    std::string name;
    std::string filter;
    uint64_t packets_in = 0;
    uint64_t packets_out = 0;
    uint64_t packets_made = 0;  // made by its filter (defrag's datagrams)
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
    uint64_t packets_made = 0;  // by filters: read + made = written + dropped
    std::map<std::string, uint64_t> drops;  // final fate of packets not written
    std::string shadow_policy;
    std::string copy_engine;
    shadow::Counters shadow;  // every node's, summed
    uint64_t dropped() const;
};

// Adds `from` (another worker's graph of the same configuration) into `into`,
// node by node.
void merge(Report& into, const Report& from);

}  // namespace sl::graph
