// sl-forward's side of a session: DPDK ports in and out, the configured
// pipelines on every worker lcore, until a signal or --duration ends it.
#pragma once

#include "core/ports.hpp"
#include "core/session.hpp"

namespace sl::core {

struct ForwardOptions {
    SessionOptions session;
    PortOptions ports;          // --rxq, --burst, --mtu, --promisc, --mbufs
    unsigned tx_queues = 0;     // --txq; 0: one per worker
    double stats_interval = 0;  // --stats-interval; 0: none
    double duration = 0;        // --duration; 0: until a signal
    std::string metrics;        // --metrics ADDR:PORT; "": no HTTP endpoint
};

// Exit codes as sl-replay: 0 success, 1 runtime error, 2 usage or config.
int run_forward(const ForwardOptions& options, const char* program);

}  // namespace sl::core
