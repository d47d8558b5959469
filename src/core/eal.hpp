// DPDK start-up and shutdown, with defaults that work on any Linux machine.
#pragma once

#include <string>
#include <vector>

#include <rte_mempool.h>

namespace sl::core {

struct EalConfig {
    std::vector<std::string> user_args;  // the EAL arguments the user gave, if any
    size_t memory_mb = 512;              // for the defaults without hugepages
    bool telemetry = false;
    bool verbose = false;                // keep DPDK's own start-up log
    bool pci = false;                    // scan the PCI bus (sl-forward: NICs bound to vfio-pci)
    bool all_cpus = false;               // one lcore per allowed CPU, not just the first
    // With all_cpus: this many lcores (0: one per CPU); more than the CPUs
    // share them.
    unsigned max_lcores = 0;
};

// The CPUs this process may run on (its affinity mask).
unsigned allowed_cpu_count();

// True when the kernel has free hugepages to give.
bool hugepages_available();

// The user's EAL arguments completed with what makes DPDK start on any Linux
// machine, each only when the user did not choose it: lcores from this
// process's CPU set, a unique --file-prefix, --no-shconf, --no-huge with a
// fixed memory size when no hugepages are free, --no-pci unless PCI is wanted
// or the user names devices, --no-telemetry unless telemetry is wanted, and a
// quieter log.
std::vector<std::string> complete_eal_args(const EalConfig& config);

// Starts the EAL once per process and registers the packet metadata field.
// Throws sl::ConfigError for bad arguments, sl::RuntimeError otherwise.
void start_eal(const char* program, const EalConfig& config);
void stop_eal();
bool eal_running();

// Stops the EAL when it leaves scope, on every path out of a session: the
// devices it probed (a net_pcap port's open capture, say) are released.
// Declare it before anything that holds DPDK objects.
class EalSession {
public:
    EalSession() = default;
    ~EalSession() { stop_eal(); }
    EalSession(const EalSession&) = delete;
    EalSession& operator=(const EalSession&) = delete;
};

// A pktmbuf pool of `count` mbufs with the default data room.
rte_mempool* create_packet_pool(const std::string& name, unsigned count, int socket);

}  // namespace sl::core
