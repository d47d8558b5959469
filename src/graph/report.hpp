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

struct RunReport {
    Report graph;
    double elapsed_s = 0;
    double tsc_hz = 0;
    std::vector<PoolReport> pools;
};

std::string format_table(const RunReport& report);
std::string format_json(const RunReport& report);
void write_json(const RunReport& report, const std::string& path);

}  // namespace sl::graph
