#include "core/eal.hpp"

#include <sched.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_log.h>
#include <rte_mbuf.h>
#include <spdlog/spdlog.h>

#include <sl/error.hpp>

#include "sdk/packet_state.hpp"

namespace sl::core {
namespace {
bool g_running = false;
std::string g_runtime_dir;

// The folder DPDK keeps a file prefix's runtime files in, as the EAL
// chooses it (eal_create_runtime_dir): where another process may be using
// the same prefix.
std::string runtime_dir_for(const std::vector<std::string>& args) {
    std::string prefix = "rte";
    for (size_t i = 0; i < args.size(); i++) {
        if (args[i].starts_with("--file-prefix=")) prefix = args[i].substr(14);
        else if (args[i] == "--file-prefix" && i + 1 < args.size()) prefix = args[i + 1];
    }
    const char* runtime = std::getenv("XDG_RUNTIME_DIR");
    std::string base = getuid() == 0 ? "/var/run" : runtime ? runtime : "/tmp";
    return base + "/dpdk/" + prefix;
}

// Only a folder this process created: its sockets go first (telemetry
// unlinks its own only at exit), then the folder if nothing else is in it.
// A folder that was there before belongs to whoever made it.
void remove_runtime_dir() noexcept {
    if (g_runtime_dir.empty()) return;
    std::error_code ec;
    namespace fs = std::filesystem;
    for (fs::directory_iterator it(g_runtime_dir, ec), end; !ec && it != end; it.increment(ec)) {
        std::string name = it->path().filename().string();
        std::error_code type_ec;
        if (it->is_socket(type_ec) && (name.starts_with("dpdk_telemetry") || name == "mp_socket"))
            fs::remove(it->path(), type_ec);
    }
    ::rmdir(g_runtime_dir.c_str());
    g_runtime_dir.clear();
}
std::atomic<unsigned> g_prefix_counter{0};

// The telemetry socket gives whoever may connect to it every counter and
// the configuration, and takes commands: its owner only (connecting to a
// socket takes write access to it).
void restrict_telemetry(const std::string& dir) noexcept {
    std::error_code ec;
    namespace fs = std::filesystem;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
        std::error_code type_ec;
        if (it->is_socket(type_ec) && it->path().filename().string().starts_with("dpdk_telemetry"))
            ::chmod(it->path().c_str(), 0600);
    }
}

std::vector<int> allowed_cpus() {
    std::vector<int> cpus;
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof(set), &set) == 0)
        for (int cpu = 0; cpu < CPU_SETSIZE; cpu++)
            if (CPU_ISSET(cpu, &set)) cpus.push_back(cpu);
    if (cpus.empty()) cpus.push_back(0);
    return cpus;
}

// True when some PCI device is bound to a driver DPDK can use; otherwise a
// PCI scan only finds the kernel's own devices and complains about them.
bool dpdk_bound_pci_devices() {
    for (const char* driver : {"vfio-pci", "uio_pci_generic", "igb_uio"}) {
        std::error_code ec;
        for (const auto& entry :
             std::filesystem::directory_iterator(std::string("/sys/bus/pci/drivers/") + driver, ec))
            if (entry.path().filename().string().find(':') != std::string::npos) return true;
    }
    return false;
}

// True when `args` holds one of the options (as "--opt", "--opt=..." or a
// short option with its value attached or following).
bool has_option(const std::vector<std::string>& args, std::initializer_list<std::string_view> options) {
    for (const auto& a : args)
        for (std::string_view o : options) {
            if (a == o) return true;
            if (o.size() > 2 && o.substr(0, 2) == "--" && a.size() > o.size() && a.compare(0, o.size(), o) == 0 &&
                a[o.size()] == '=')
                return true;
            if (o.size() == 2 && o[0] == '-' && o[1] != '-' && a.size() > 2 && a.compare(0, 2, o) == 0) return true;
        }
    return false;
}

}  // namespace

unsigned allowed_cpu_count() { return static_cast<unsigned>(allowed_cpus().size()); }

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

std::vector<std::string> complete_eal_args(const EalConfig& config) {
    std::vector<std::string> args = config.user_args;
    const auto& user = config.user_args;
    if (!has_option(user, {"-l", "-c", "--lcores"})) {
        auto cpus = allowed_cpus();
        if (!config.all_cpus) cpus.resize(1);
        if (config.max_lcores > 0 && config.max_lcores < cpus.size()) cpus.resize(config.max_lcores);
        std::string list;
        if (config.max_lcores > cpus.size()) {
            // More lcores than CPUs: lcore i runs on the (i mod n)-th CPU.
            for (unsigned lcore = 0; lcore < config.max_lcores; lcore++)
                list += fmt::format("{}{}@{}", lcore ? "," : "", lcore, cpus[lcore % cpus.size()]);
            args.insert(args.end(), {"--lcores", list});
        } else {
            for (int cpu : cpus) {
                if (!list.empty()) list += ',';
                list += std::to_string(cpu);
            }
            args.insert(args.end(), {"-l", list});
        }
    }
    if (!has_option(user, {"--file-prefix", "--in-memory"}))
        args.push_back(fmt::format("--file-prefix=sl-{}-{}", getpid(), g_prefix_counter++));
    if (!has_option(user, {"--no-shconf", "--in-memory"})) args.push_back("--no-shconf");
    if (!has_option(user, {"--no-huge", "-m", "--socket-mem", "--huge-dir"}) && !hugepages_available())
        args.insert(args.end(), {"--no-huge", "-m", std::to_string(config.memory_mb)});
    if (!(config.pci && dpdk_bound_pci_devices()) && !has_option(user, {"--no-pci", "-a", "--allow", "-b", "--block"}))
        args.push_back("--no-pci");
    if (!config.telemetry && !has_option(user, {"--no-telemetry", "--telemetry"})) args.push_back("--no-telemetry");
    if (!config.verbose && !has_option(user, {"--log-level"}))
        args.insert(args.end(), {"--log-level=lib.eal:warning", "--log-level=lib.telemetry:warning"});
    return args;
}

void start_eal(const char* program, const EalConfig& config) {
    if (g_running) return;
    std::vector<std::string> args = {program};
    auto completed = complete_eal_args(config);
    args.insert(args.end(), completed.begin(), completed.end());
    spdlog::debug("EAL arguments: {}", fmt::join(args, " "));
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    // DPDK makes a runtime folder per file prefix and leaves it behind; with
    // a prefix per run, a day of runs would leave thousands.
    std::error_code ec;
    bool existed = std::filesystem::exists(runtime_dir_for(args), ec);
    int rc = rte_eal_init(static_cast<int>(args.size()), argv.data());
    g_runtime_dir = existed ? std::string() : std::string(rte_eal_get_runtime_dir());
    if (rc < 0) {
        int err = rte_errno;
        remove_runtime_dir();
        if (err == EINVAL) throw ConfigError(fmt::format("DPDK rejected the EAL arguments: {}", rte_strerror(err)));
        throw RuntimeError(fmt::format("DPDK could not start: {}", rte_strerror(err)));
    }
    g_running = true;
    restrict_telemetry(rte_eal_get_runtime_dir());
    detail::register_packet_fields();
}

void stop_eal() {
    if (!g_running) return;
    rte_eal_cleanup();
    g_running = false;
    remove_runtime_dir();
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
