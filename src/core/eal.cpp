#include "core/eal.hpp"

#include <sched.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <string>

#include <fmt/format.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_log.h>
#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>

#include <sl/error.hpp>
#include <sl/packet.hpp>

namespace sl::detail {
int packet_meta_offset = -1;
}

namespace sl::core {
namespace {
bool g_running = false;
std::atomic<unsigned> g_prefix_counter{0};

int first_allowed_cpu() {
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof(set), &set) == 0)
        for (int cpu = 0; cpu < CPU_SETSIZE; cpu++)
            if (CPU_ISSET(cpu, &set)) return cpu;
    return 0;
}

void register_packet_meta() {
    static const rte_mbuf_dynfield field = {"sl_packet_meta", sizeof(PacketMeta), alignof(PacketMeta), 0};
    int offset = rte_mbuf_dynfield_register(&field);
    if (offset < 0)
        throw RuntimeError(fmt::format("cannot register the packet metadata field: {}", rte_strerror(rte_errno)));
    detail::packet_meta_offset = offset;
}
}  // namespace

bool hugepages_available() {
    std::ifstream in("/proc/meminfo");
    std::string key;
    long value = 0;
    while (in >> key >> value) {
        if (key == "HugePages_Free:") return value > 0;
        in.ignore(256, '\n');
    }
    return false;
}

std::vector<std::string> default_eal_args(const EalConfig& config) {
    std::vector<std::string> args = {
        "-l", std::to_string(first_allowed_cpu()),
        "--no-pci",
        "--no-shconf",
        fmt::format("--file-prefix=sl-{}-{}", getpid(), g_prefix_counter++),
    };
    if (!hugepages_available()) {
        args.push_back("--no-huge");
        args.push_back("-m");
        args.push_back(std::to_string(config.memory_mb));
    }
    if (!config.telemetry) args.push_back("--no-telemetry");
    if (!config.verbose) args.push_back("--log-level=lib.eal:warning");
    return args;
}

void start_eal(const char* program, const EalConfig& config) {
    if (g_running) return;
    std::vector<std::string> args = {program};
    if (config.user_args.empty()) {
        auto defaults = default_eal_args(config);
        args.insert(args.end(), defaults.begin(), defaults.end());
    } else {
        args.insert(args.end(), config.user_args.begin(), config.user_args.end());
    }
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    int rc = rte_eal_init(static_cast<int>(args.size()), argv.data());
    if (rc < 0) {
        int err = rte_errno;
        if (err == EINVAL) throw ConfigError(fmt::format("DPDK rejected the EAL arguments: {}", rte_strerror(err)));
        throw RuntimeError(fmt::format("DPDK could not start: {}", rte_strerror(err)));
    }
    g_running = true;
    register_packet_meta();
}

void stop_eal() {
    if (!g_running) return;
    rte_eal_cleanup();
    g_running = false;
}

bool eal_running() { return g_running; }

rte_mempool* create_packet_pool(const std::string& name, unsigned count, int socket) {
    // A per-lcore cache of 256 keeps the pool's ring off the fast path.
    rte_mempool* pool = rte_pktmbuf_pool_create(name.c_str(), count, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE, socket);
    if (!pool)
        throw RuntimeError(fmt::format("cannot create mempool '{}' of {} mbufs: {}", name, count,
                                       rte_strerror(rte_errno)));
    return pool;
}

}  // namespace sl::core
