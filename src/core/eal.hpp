// DPDK start-up and shutdown, with defaults that work on any Linux machine.
#pragma once

#include <string>
#include <vector>

#include <rte_mempool.h>

namespace sl::core {

struct EalConfig {
    std::vector<std::string> user_args;  // the EAL arguments the user gave, if any
    size_t memory_mb = 256;              // for the defaults without hugepages
    bool telemetry = false;
    bool verbose = false;                // keep DPDK's own start-up log
};

// True when the kernel has free hugepages to give.
bool hugepages_available();

// The EAL arguments used when the user gave none: no PCI scan, no shared
// config, a unique file prefix, one lcore from this process's CPU set, and
// --no-huge with a fixed memory size when there are no hugepages.
std::vector<std::string> default_eal_args(const EalConfig& config);

// Starts the EAL once per process and registers the packet metadata field.
// Throws sl::ConfigError for bad arguments, sl::RuntimeError otherwise.
void start_eal(const char* program, const EalConfig& config);
void stop_eal();
bool eal_running();

// A pktmbuf pool of `count` mbufs with the default data room.
rte_mempool* create_packet_pool(const std::string& name, unsigned count, int socket);

}  // namespace sl::core
