// sl-replay: replays pcap/pcapng captures through pipeline configurations.
#include <getopt.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "core/replay.hpp"
#include "graph/registry.hpp"
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
    "  --shadow POLICY       zero-copy (default): packets point into the mapped\n"
    "                        capture; copy-once: each record is copied into mbuf\n"
    "                        memory (always so when a filter writes packets)\n"
    "  --dot FILE            write the graph in Graphviz dot format\n"
    "  --filters             list the filters and exit\n"
    "  -q, --quiet           no table, no progress line\n"
    "  -v, --verbose         DPDK's start-up log and debug messages\n"
    "  -h, --help            this text\n"
    "\n"
    "Without EAL arguments, DPDK starts with --no-huge (when no hugepages are\n"
    "free), --no-pci and a unique --file-prefix: nothing to set up.\n"
    "Exit status: 0 success, 1 runtime error, 2 usage or configuration error.\n";

int usage_error(const std::string& message) {
    std::fprintf(stderr, "sl-replay: %s\n%s", message.c_str(), kUsage);
    return 2;
}

}  // namespace

int main(int argc, char** argv) {
    sl::core::ReplayOptions options;
    int first = 1;
    for (int i = 1; i < argc; i++)
        if (std::strcmp(argv[i], "--") == 0) {
            for (int j = 1; j < i; j++) options.eal_args.push_back(argv[j]);
            first = i + 1;
            break;
        }

    enum { kStatsJson = 1000, kSpeed, kLoop, kDot, kFilters, kShadow };
    static const option long_options[] = {
        {"stats-json", required_argument, nullptr, kStatsJson},
        {"speed", required_argument, nullptr, kSpeed},
        {"loop", required_argument, nullptr, kLoop},
        {"shadow", required_argument, nullptr, kShadow},
        {"dot", required_argument, nullptr, kDot},
        {"filters", no_argument, nullptr, kFilters},
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
    while ((c = getopt_long(nargs, args.data(), "+c:e:o:qvh", long_options, nullptr)) != -1) {
        switch (c) {
        case 'c': options.config_file = optarg; break;
        case 'e': options.config_text = optarg; break;
        case 'o': options.output_dir = optarg; break;
        case 'q': options.verbosity = -1; break;
        case 'v': options.verbosity = 1; break;
        case 'h': std::fputs(kUsage, stdout); return 0;
        case kStatsJson: options.stats_json = optarg; break;
        case kDot: options.dot_file = optarg; break;
        case kFilters:
            for (const auto& name : sl::graph::filter_type_names()) {
                const sl::FilterType* t = sl::graph::find_filter_type(name);
                std::printf("%-10s %-28s %s\n", t->name, t->usage, t->summary);
            }
            return 0;
        case kLoop: {
            auto n = sl::Args::parse_uint(optarg);
            if (!n || *n == 0) return usage_error(fmt::format("--loop takes a positive number, not '{}'", optarg));
            options.loops = *n;
            break;
        }
        case kShadow: {
            std::string s = optarg;
            if (s == "zero-copy") options.record_mode = sl::io::RecordMode::attach;
            else if (s == "copy-once") options.record_mode = sl::io::RecordMode::copy;
            else return usage_error(fmt::format("--shadow takes zero-copy or copy-once, not '{}'", s));
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
    for (int i = optind; i < nargs; i++) options.captures.push_back(args[static_cast<size_t>(i)]);
    if (options.config_file.empty() == options.config_text.empty())
        return usage_error("give the pipelines with either -c FILE or -e PIPELINES");
    if (options.captures.empty()) return usage_error("no capture to replay");
    return sl::core::run_replay(options, argv[0]);
}
