// sl-forward: forwards packets between DPDK ports through pipeline configurations.
#include <getopt.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "core/forward.hpp"
#include <sl/args.hpp>

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

bool parse_seconds(const char* text, double& out) {
    char* end = nullptr;
    double v = std::strtod(text, &end);
    if (end == text || *end != '\0' || !(v > 0) || v > 1e7) return false;
    out = v;
    return true;
}

}  // namespace

int main(int argc, char** argv) {
    sl::core::ForwardOptions options;
    int first = 1;
    for (int i = 1; i < argc; i++)
        if (std::strcmp(argv[i], "--") == 0) {
            for (int j = 1; j < i; j++) options.eal_args.push_back(argv[j]);
            first = i + 1;
            break;
        }

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
        {"quiet", no_argument, nullptr, 'q'},
        {"verbose", no_argument, nullptr, 'v'},
        {"help", no_argument, nullptr, 'h'},
        {nullptr, 0, nullptr, 0},
    };
    std::vector<char*> args = {argv[0]};
    for (int i = first; i < argc; i++) args.push_back(argv[i]);
    args.push_back(nullptr);
    int nargs = static_cast<int>(args.size()) - 1;
    opterr = 0;
    int c;
    auto number = [&](const char* name, uint64_t min, uint64_t max, auto& out) -> bool {
        auto n = sl::Args::parse_uint(optarg);
        if (!n || *n < min || *n > max) return false;
        out = static_cast<std::remove_reference_t<decltype(out)>>(*n);
        (void)name;
        return true;
    };
    while ((c = getopt_long(nargs, args.data(), "+c:e:o:qvh", long_options, nullptr)) != -1) {
        switch (c) {
        case 'c': options.config_file = optarg; break;
        case 'e': options.config_text = optarg; break;
        case 'o': options.output_dir = optarg; break;
        case 'q': options.verbosity = -1; break;
        case 'v': options.verbosity = 1; break;
        case 'h': std::fputs(kUsage, stdout); return 0;
        case kRxq:
            if (!number("--rxq", 1, 1024, options.ports.rx_queues))
                return usage_error(fmt::format("--rxq takes 1 to 1024, not '{}'", optarg));
            break;
        case kTxq:
            if (!number("--txq", 1, 1024, options.tx_queues))
                return usage_error(fmt::format("--txq takes 1 to 1024, not '{}'", optarg));
            break;
        case kBurst:
            if (!number("--burst", 1, 256, options.ports.burst))
                return usage_error(fmt::format("--burst takes 1 to 256, not '{}'", optarg));
            break;
        case kMbufs:
            if (!number("--mbufs", 1, 1u << 30, options.ports.mbufs))
                return usage_error(fmt::format("--mbufs takes a positive number, not '{}'", optarg));
            break;
        case kMtu:
            if (!number("--mtu", 68, 65535, options.ports.mtu))
                return usage_error(fmt::format("--mtu takes 68 to 65535, not '{}'", optarg));
            break;
        case kPromisc: options.ports.promiscuous = true; break;
        case kStatsInterval:
            if (!parse_seconds(optarg, options.stats_interval))
                return usage_error(fmt::format("--stats-interval takes seconds above 0, not '{}'", optarg));
            break;
        case kStatsJson: options.stats_json = optarg; break;
        case kDuration:
            if (!parse_seconds(optarg, options.duration))
                return usage_error(fmt::format("--duration takes seconds above 0, not '{}'", optarg));
            break;
        case kDot: options.dot_file = optarg; break;
        case ':':
        case '?':
        default: {
            const char* arg = args[static_cast<size_t>(optind - 1)];
            if (optopt && std::strchr("ceo", optopt))
                return usage_error(fmt::format("option -{} needs a value", char(optopt)));
            return usage_error(fmt::format("unknown option '{}'", arg ? arg : "?"));
        }
        }
    }
    if (optind < nargs) return usage_error(fmt::format("unexpected argument '{}'", args[static_cast<size_t>(optind)]));
    if (options.config_file.empty() == options.config_text.empty())
        return usage_error("give the pipelines with either -c FILE or -e PIPELINES");
    return sl::core::run_forward(options, argv[0]);
}
