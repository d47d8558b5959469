// sl-replay: replays pcap/pcapng captures through pipeline configurations.
#include <cstdlib>
#include <string>

#include <fmt/format.h>
#include <rte_config.h>

#include "core/command_line.hpp"
#include "core/diagnostics.hpp"
#include "core/options.hpp"
#include "core/replay.hpp"

int main(int argc, char** argv) {
    using namespace sl::core;
    setup_diagnostics("sl-replay", 0);
    CommandLine line = split_command_line(argc, argv);
    ReplayOptions options;
    SessionOptions& session = options.session;
    session.eal_args = line.eal_args;
    PluginRequest plugins;

    OptionTable table("sl-replay", "[EAL-ARGS --] (-c FILE | -e PIPELINES) [options] CAPTURE...",
                      "Replays pcap/pcapng captures through streamline pipelines. `rx` reads every\n"
                      "capture (merged by time), `rx N` the N-th; `tx N` writes OUTDIR/tx-N.pcap.\n",
                      "EAL arguments are completed with defaults that work anywhere: an lcore\n"
                      "per CPU (each walks a graph; records are dealt to them by flow, and the\n"
                      "outputs are those of one graph), a unique --file-prefix, --no-pci unless\n"
                      "devices are named, and --no-huge when no hugepages are free. With ports\n"
                      "(--vdev=...), tx N sends on port N.\n"
                      "Exit status: 0 success, 1 runtime error, 2 usage or configuration error.\n");
    add_pipeline_options(table, session.config_file, session.config_text);
    table.text("", 'o', "OUTDIR", "folder for tx-N.pcap and relative pcap \"FILE\" outputs", session.output_dir)
        .text("stats-json", 0, "FILE", "write per-node statistics as JSON", session.stats_json)
        .add({"speed", 0, "MODE", "top (default), realtime, or xN (N times real time)",
              [&](const char* v) -> std::optional<std::string> {
                  std::string s = v;
                  if (s == "top") options.pacing.mode = sl::io::Pacing::Mode::top;
                  else if (s == "realtime") options.pacing.mode = sl::io::Pacing::Mode::realtime;
                  else if (s.size() > 1 && s[0] == 'x') {
                      char* end = nullptr;
                      double f = std::strtod(s.c_str() + 1, &end);
                      if (*end != '\0' || !(f > 0) || f > 1e6)
                          return fmt::format("--speed x{}: the factor must be a number above 0", s.substr(1));
                      options.pacing = {sl::io::Pacing::Mode::realtime, f};
                  } else {
                      return fmt::format("--speed takes top, realtime or xN, not '{}'", s);
                  }
                  return std::nullopt;
              }})
        .add({"loop", 0, "N", "replay the captures N times", [&](const char* v) -> std::optional<std::string> {
                  auto n = OptionTable::bounded_number(v, 1, UINT64_MAX);
                  if (!n) return fmt::format("--loop takes a positive number, not '{}'", v);
                  options.loops = *n;
                  return std::nullopt;
              }})
        .flag("follow", 'f',
              "replay records as they are appended to the captures,\n"
              "like tail -f, until SIGINT",
              [&] { options.follow = true; })
        .add({"workers", 0, "N",
              "walk N graphs on N lcores (default: one per CPU this\n"
              "process may run on; 1 walks one graph)",
              [&](const char* v) -> std::optional<std::string> {
                  auto n = OptionTable::bounded_number(v, 1, RTE_MAX_LCORE);
                  if (!n) return fmt::format("--workers takes a number from 1 to {}, not '{}'", RTE_MAX_LCORE, v);
                  options.workers = static_cast<unsigned>(*n);
                  return std::nullopt;
              }})
        .add({"segment", 0, "N",
              "put each record in mbuf segments of at most N bytes\n"
              "(64..32768; default 32768), as a NIC with N-byte\n"
              "buffers chains a jumbo frame",
              [&](const char* v) -> std::optional<std::string> {
                  auto n = OptionTable::bounded_number(v, 64, sl::io::kMaxSegmentBytes);
                  if (!n)
                      return fmt::format("--segment takes a number of bytes from 64 to {}, not '{}'",
                                         sl::io::kMaxSegmentBytes, v);
                  options.segment_bytes = static_cast<uint32_t>(*n);
                  return std::nullopt;
              }});
    add_shadow_options(table, session.shadow);
    add_plugin_options(table, plugins);
    table.text("dot", 0, "FILE", "write the graph in Graphviz dot format", session.dot_file)
        .flag("quiet", 'q', "no table, no progress line", [&] { session.verbosity = -1; })
        .flag("verbose", 'v', "DPDK's start-up log and debug messages", [&] { session.verbosity = 1; })
        .flag("version", 0, "streamline's version, the SDK ABI, DPDK's and libpcap's", [] {})
        .flag("help", 'h', "this text", [] {});

    if (auto status = table.parse(line.args, options.captures)) return *status;
    if (auto status = after_options(table, session.verbosity, plugins, session.config_file, session.config_text))
        return *status;
    if (options.captures.empty()) {
        command_line_usage("no capture to replay", table.usage());
        return 2;
    }
    if (options.follow && options.loops > 1) {
        command_line_usage("--follow and --loop cannot go together: a followed capture has no end to loop at",
                           table.usage());
        return 2;
    }
    return run_replay(options, argv[0]);
}
