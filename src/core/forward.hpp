// A live session: DPDK ports in, the configured pipelines on every worker
// lcore, ports and files out, until a signal or --duration ends it.
#pragma once

#include <string>
#include <vector>

#include "core/ports.hpp"
#include "shadow/engines.hpp"

namespace sl::core {

struct ForwardOptions {
    std::vector<std::string> eal_args;  // completed with working defaults
    std::string config_file;            // -c
    std::string config_text;            // -e
    std::string output_dir;             // -o: relative pcap "FILE" outputs
    std::string stats_json;             // --stats-json
    std::string dot_file;               // --dot
    PortOptions ports;                  // --rxq, --burst, --mtu, --promisc, --mbufs
    shadow::ShadowOptions shadow;       // --shadow, --dma, --dma-min-bytes
    unsigned tx_queues = 0;             // --txq; 0: one per worker
    double stats_interval = 0;          // --stats-interval; 0: none
    double duration = 0;                // --duration; 0: until a signal
    int verbosity = 0;
};

// Exit codes as sl-replay: 0 success, 1 runtime error, 2 usage or config.
int run_forward(const ForwardOptions& options, const char* program);

}  // namespace sl::core
