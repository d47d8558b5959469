// The per-node table printed at the end of a run, and --stats-json.
#pragma once

#include <string>
#include <vector>

#include "graph/runtime.hpp"

namespace sl::graph {

struct PoolReport {
    std::string name;
    unsigned size = 0;
    unsigned in_use = 0;  // mbufs not back in the pool at the end
};

struct PortReport {
    uint16_t port = 0;
    std::string name;
    uint64_t rx_packets = 0, tx_packets = 0, rx_missed = 0, tx_dropped = 0;
};

struct RunReport {
    Report graph;
    double elapsed_s = 0;
    double tsc_hz = 0;
    std::vector<PoolReport> pools;
    std::vector<PortReport> ports;  // sl-forward, and sl-replay sending to ports
    struct Worker {
        unsigned lcore;
        uint64_t packets_read;
    };
    std::vector<Worker> workers;  // sl-forward: how the load spread
};

// Adds `from` (another worker's graph of the same configuration) into `into`,
// node by node.
void merge(Report& into, const Report& from);

std::string format_table(const RunReport& report);
std::string format_json(const RunReport& report);
void write_json(const RunReport& report, const std::string& path);
// The end of a run: the table on stdout unless `quiet`, and the JSON when a
// path is given. Returns 1 (after saying why) when the JSON could not be
// written, else 0.
int publish(const RunReport& report, bool quiet, const std::string& json_path);

}  // namespace sl::graph
