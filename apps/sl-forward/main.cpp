// sl-forward: forwards packets between DPDK ports through pipeline configurations.
#include <getopt.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "core/command_line.hpp"
#include "core/forward.hpp"

namespace {

const char* kUsage =
    "usage: sl-forward [EAL-ARGS] -- (-c FILE | -e PIPELINES) [options]\n"
    "\n"
    "Forwards packets between the DPDK ports the EAL found through streamline\n"
    "pipelines: `rx` reads every port, `rx N` port N, `tx N` sends on port N.\n"
    "Each worker lcore runs its own copy of the graph.\n"
    "\n"
    "  -c FILE               read the pipelines from FILE\n"
    "  -e PIPELINES          pipelines inline (newlines or ';' between them)\n"
    "  -o OUTDIR             folder for relative pcap \"FILE\" outputs\n"
    "  --rxq N               receive queues per port, spread by RSS (default 1)\n"
    "  --txq N               transmit queues per port (default and minimum: one per worker)\n"
    "  --burst N             packets per receive call, 1 to 256 (default 32)\n"
    "  --mbufs N             mbufs per socket (default: what the rings and workers need)\n"
    "  --mtu N               set every port's MTU\n"
    "  --promisc             promiscuous mode on every port\n"
    "  --stats-interval S    print rates per port and per node every S seconds\n"
    "  --stats-json FILE     write the final statistics as JSON\n"
    "  --duration S          stop after S seconds (default: at SIGINT or SIGTERM)\n"
    SL_SHADOW_USAGE
    SL_PLUGIN_USAGE
    "  --dot FILE            write the graph in Graphviz dot format\n"
    "  -q, --quiet           no final table\n"
    "  -v, --verbose         DPDK's start-up log and port details\n"
    "  -h, --help            this text\n"
    "\n"
    "EAL arguments are completed with defaults that work anywhere: every CPU\n"
    "this process may use (the first is the main lcore, the others workers), a\n"
    "unique --file-prefix, and --no-huge when no hugepages are free.\n"
    "Exit status: 0 success, 1 runtime error, 2 usage or configuration error.\n";

int usage_error(const std::string& message) {
    std::fprintf(stderr, "sl-forward: %s\n%s", message.c_str(), kUsage);
    return 2;
}

}  // namespace

int main(int argc, char** argv) {
    sl::core::CommandLine line = sl::core::split_command_line(argc, argv);
    sl::core::ForwardOptions options;
    options.eal_args = line.eal_args;

    enum { kRxq = 1000, kTxq, kBurst, kMbufs, kMtu, kPromisc, kStatsInterval, kStatsJson, kDuration, kDot };
    static const option long_options[] = {
        {"rxq", required_argument, nullptr, kRxq},
        {"txq", required_argument, nullptr, kTxq},
        {"burst", required_argument, nullptr, kBurst},
        {"mbufs", required_argument, nullptr, kMbufs},
        {"mtu", required_argument, nullptr, kMtu},
        {"promisc", no_argument, nullptr, kPromisc},
        {"stats-interval", required_argument, nullptr, kStatsInterval},
        {"stats-json", required_argument, nullptr, kStatsJson},
        {"duration", required_argument, nullptr, kDuration},
        {"dot", required_argument, nullptr, kDot},
        SL_SHADOW_LONG_OPTIONS,
        SL_PLUGIN_LONG_OPTIONS,
        {"quiet", no_argument, nullptr, 'q'},
        {"verbose", no_argument, nullptr, 'v'},
        {"help", no_argument, nullptr, 'h'},
        {nullptr, 0, nullptr, 0},
    };
    // An option's whole number within its range, or false after saying so.
    auto number = [&](const char* name, uint64_t min, uint64_t max, auto& out) {
        auto n = sl::core::bounded_number(optarg, min, max);
        if (n) out = static_cast<std::remove_reference_t<decltype(out)>>(*n);
        else usage_error(fmt::format("{} takes {} to {}, not '{}'", name, min, max, optarg));
        return n.has_value();
    };
    auto duration = [&](const char* name, double& out) {
        auto s = sl::core::seconds(optarg);
        if (s) out = *s;
        else usage_error(fmt::format("{} takes seconds above 0, not '{}'", name, optarg));
        return s.has_value();
    };
    sl::core::PluginRequest plugins;
    opterr = 0;
    int c;
    bool ok = true;
    while (ok && (c = getopt_long(line.argc(), line.argv.data(), "+c:e:o:qvh", long_options, nullptr)) != -1) {
        switch (c) {
        case 'c': options.config_file = optarg; break;
        case 'e': options.config_text = optarg; break;
        case 'o': options.output_dir = optarg; break;
        case 'q': options.verbosity = -1; break;
        case 'v': options.verbosity = 1; break;
        case 'h': std::fputs(kUsage, stdout); return 0;
        case kRxq: ok = number("--rxq", 1, 1024, options.ports.rx_queues); break;
        case kTxq: ok = number("--txq", 1, 1024, options.tx_queues); break;
        case kBurst: ok = number("--burst", 1, 256, options.ports.burst); break;
        case kMbufs: ok = number("--mbufs", 1, 1u << 30, options.ports.mbufs); break;
        case kMtu: ok = number("--mtu", 68, 65535, options.ports.mtu); break;
        case kPromisc: options.ports.promiscuous = true; break;
        case kStatsInterval: ok = duration("--stats-interval", options.stats_interval); break;
        case kStatsJson: options.stats_json = optarg; break;
        case kDuration: ok = duration("--duration", options.duration); break;
        case kDot: options.dot_file = optarg; break;
        default:
            if (sl::core::is_shadow_option(c)) {
                if (auto error = sl::core::shadow_option(c, optarg, options.shadow)) return usage_error(*error);
                break;
            }
            if (sl::core::plugin_option(c, optarg, plugins)) break;
            return usage_error(sl::core::refused_option(line, optind, optopt, "ceo"));
        }
    }
    if (!ok) return 2;
    if (auto status = sl::core::load_plugins(plugins, "sl-forward")) return *status;
    if (optind < line.argc())
        return usage_error(fmt::format("unexpected argument '{}'", line.argv[static_cast<size_t>(optind)]));
    if (options.config_file.empty() == options.config_text.empty())
        return usage_error("give the pipelines with either -c FILE or -e PIPELINES");
    return sl::core::run_forward(options, argv[0]);
}
