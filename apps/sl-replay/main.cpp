// sl-replay: replays pcap/pcapng captures through pipeline configurations.
#include <getopt.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "core/command_line.hpp"
#include "core/replay.hpp"
#include "lang/ast.hpp"
#include <sl/args.hpp>

namespace {

const char* kUsage =
    "usage: sl-replay [EAL-ARGS --] (-c FILE | -e PIPELINES) [options] CAPTURE...\n"
    "\n"
    "Replays pcap/pcapng captures through streamline pipelines. `rx` reads every\n"
    "capture (merged by time), `rx N` the N-th; `tx N` writes OUTDIR/tx-N.pcap.\n"
    "\n"
    "  -c FILE               read the pipelines from FILE\n"
    "  -e PIPELINES          pipelines inline (newlines or ';' between them)\n"
    "  -o OUTDIR             folder for tx-N.pcap and relative pcap \"FILE\" outputs\n"
    "  --stats-json FILE     write per-node statistics as JSON\n"
    "  --speed MODE          top (default), realtime, or xN (N times real time)\n"
    "  --loop N              replay the captures N times\n"
    "  --segment N           put each record in mbuf segments of at most N bytes\n"
    "                        (64..32768; default 32768), as a NIC with N-byte\n"
    "                        buffers chains a jumbo frame\n"
    SL_SHADOW_USAGE
    SL_PLUGIN_USAGE
    "  --dot FILE            write the graph in Graphviz dot format\n"
    "  -q, --quiet           no table, no progress line\n"
    "  -v, --verbose         DPDK's start-up log and debug messages\n"
    "  -h, --help            this text\n"
    "\n"
    "EAL arguments are completed with defaults that work anywhere: one lcore,\n"
    "a unique --file-prefix, --no-pci unless devices are named, and --no-huge\n"
    "when no hugepages are free. With ports (--vdev=...), tx N sends on port N.\n"
    "Exit status: 0 success, 1 runtime error, 2 usage or configuration error.\n";

int usage_error(const std::string& message) {
    std::fprintf(stderr, "sl-replay: %s\n%s", message.c_str(), kUsage);
    return 2;
}

}  // namespace

int main(int argc, char** argv) {
    sl::core::CommandLine line = sl::core::split_command_line(argc, argv);
    sl::core::ReplayOptions options;
    options.eal_args = line.eal_args;

    enum { kStatsJson = 1000, kSpeed, kLoop, kSegment, kDot };
    static const option long_options[] = {
        {"stats-json", required_argument, nullptr, kStatsJson},
        {"speed", required_argument, nullptr, kSpeed},
        {"loop", required_argument, nullptr, kLoop},
        {"segment", required_argument, nullptr, kSegment},
        SL_SHADOW_LONG_OPTIONS,
        SL_PLUGIN_LONG_OPTIONS,
        {"dot", required_argument, nullptr, kDot},
        {"quiet", no_argument, nullptr, 'q'},
        {"verbose", no_argument, nullptr, 'v'},
        {"help", no_argument, nullptr, 'h'},
        {nullptr, 0, nullptr, 0},
    };
    sl::core::PluginRequest plugins;
    opterr = 0;
    int c;
    while ((c = getopt_long(line.argc(), line.argv.data(), "+c:e:o:qvh", long_options, nullptr)) != -1) {
        switch (c) {
        case 'c': options.config_file = optarg; break;
        case 'e': options.config_text = optarg; break;
        case 'o': options.output_dir = optarg; break;
        case 'q': options.verbosity = -1; break;
        case 'v': options.verbosity = 1; break;
        case 'h': std::fputs(kUsage, stdout); return 0;
        case kStatsJson: options.stats_json = optarg; break;
        case kDot: options.dot_file = optarg; break;
        case kLoop: {
            auto n = sl::core::bounded_number(optarg, 1, UINT64_MAX);
            if (!n) return usage_error(fmt::format("--loop takes a positive number, not '{}'", optarg));
            options.loops = *n;
            break;
        }
        case kSegment: {
            auto n = sl::core::bounded_number(optarg, 64, sl::io::kMaxSegmentBytes);
            if (!n) return usage_error(fmt::format("--segment takes a number of bytes from 64 to {}, not '{}'",
                                                   sl::io::kMaxSegmentBytes, optarg));
            options.segment_bytes = static_cast<uint32_t>(*n);
            break;
        }
        case kSpeed: {
            std::string s = optarg;
            if (s == "top") {
                options.pacing.mode = sl::io::Pacing::Mode::top;
            } else if (s == "realtime") {
                options.pacing.mode = sl::io::Pacing::Mode::realtime;
            } else if (s.size() > 1 && s[0] == 'x') {
                char* end = nullptr;
                double f = std::strtod(s.c_str() + 1, &end);
                if (*end != '\0' || !(f > 0) || f > 1e6)
                    return usage_error(fmt::format("--speed x{}: the factor must be a number above 0", s.substr(1)));
                options.pacing = {sl::io::Pacing::Mode::realtime, f};
            } else {
                return usage_error(fmt::format("--speed takes top, realtime or xN, not '{}'", s));
            }
            break;
        }
        default:
            if (sl::core::is_shadow_option(c)) {
                if (auto error = sl::core::shadow_option(c, optarg, options.shadow)) return usage_error(*error);
                break;
            }
            if (sl::core::plugin_option(c, optarg, plugins)) break;
            return usage_error(sl::core::refused_option(line, optind, optopt, "ceo"));
        }
    }
    if (auto status = sl::core::load_plugins(plugins, "sl-replay")) return *status;
    for (int i = optind; i < line.argc(); i++) options.captures.push_back(line.argv[static_cast<size_t>(i)]);
    if (options.config_file.empty() == options.config_text.empty())
        return usage_error("give the pipelines with either -c FILE or -e PIPELINES");
    if (options.captures.empty()) return usage_error("no capture to replay");
    return sl::core::run_replay(options, argv[0]);
}
