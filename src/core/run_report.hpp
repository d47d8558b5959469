// The end of a run: the graphs' report with what the session adds (ports,
// pools, workers, time), printed as the per-node table and written as
// --stats-json.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "graph/report.hpp"

namespace sl::core {

struct PoolReport {
    std::string name;
    unsigned size = 0;
    unsigned in_use = 0;  // mbufs not back in the pool at the end
};

struct PortReport {
    uint16_t port = 0;
    std::string name;
    uint64_t rx_packets = 0, tx_packets = 0, tx_dropped = 0;
    uint64_t rx_missed = 0;   // the device's receive ring was full
    uint64_t rx_no_mbuf = 0;  // the pool had no mbuf to receive into
};

struct RunReport {
    graph::Report graph;  // every worker's, merged
    double elapsed_s = 0;
    uint64_t tsc_hz = 0;
    std::vector<PoolReport> pools;
    std::vector<PortReport> ports;  // sl-forward, and sl-replay sending to ports
    struct Worker {
        unsigned lcore;
        uint64_t packets_read;
    };
    std::vector<Worker> workers;  // sl-forward: how the load spread
};

std::string format_table(const RunReport& report);
std::string format_json(const RunReport& report);
// The table on stdout unless `quiet`, and the JSON when a path is given.
// Returns false (after saying why) when the JSON could not be written.
bool publish(const RunReport& report, bool quiet, const std::string& json_path);

}  // namespace sl::core
