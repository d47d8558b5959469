// sl-forward: forwards packets between DPDK ports through pipeline configurations.
#include <string>
#include <vector>

#include <fmt/format.h>

#include "core/command_line.hpp"
#include "core/diagnostics.hpp"
#include "core/forward.hpp"
#include "core/options.hpp"

int main(int argc, char** argv) {
    using namespace sl::core;
    setup_diagnostics("sl-forward", 0);
    CommandLine line = split_command_line(argc, argv);
    ForwardOptions options;
    SessionOptions& session = options.session;
    session.eal_args = line.eal_args;
    PluginRequest plugins;

    OptionTable table("sl-forward", "[EAL-ARGS] -- (-c FILE | -e PIPELINES) [options]",
                      "Forwards packets between the DPDK ports the EAL found through streamline\n"
                      "pipelines: `rx` reads every port, `rx N` port N, `tx N` sends on port N.\n"
                      "Each worker lcore runs its own copy of the graph.\n",
                      "EAL arguments are completed with defaults that work anywhere: every CPU\n"
                      "this process may use (the first is the main lcore, the others workers), a\n"
                      "unique --file-prefix, and --no-huge when no hugepages are free.\n"
                      "Exit status: 0 success, 1 runtime error, 2 usage or configuration error.\n");
    add_pipeline_options(table, session.config_file, session.config_text);
    table.text("", 'o', "OUTDIR", "folder for relative pcap \"FILE\" outputs", session.output_dir)
        .number("rxq", "N", "receive queues per port, spread by RSS (default 1)", 1, 1024, options.ports.rx_queues)
        .number("txq", "N", "transmit queues per port (default and minimum: one per worker)", 1, 1024,
                options.tx_queues)
        .number("burst", "N", "packets per receive call, 1 to 256 (default 32)", 1, 256, options.ports.burst)
        .number("gather", "N", "packets a walk reads from a queue that keeps filling bursts (default 64)", 1, 256,
                options.ports.gather)
        .number("rxd", "N", "receive descriptors per queue (default 1024; the device may round it)", 32, 32768,
                options.ports.rx_descriptors)
        .number("txd", "N", "transmit descriptors per queue (default 1024; the device may round it)", 32, 32768,
                options.ports.tx_descriptors)
        .number("mbufs", "N", "mbufs per socket (default: what the rings and workers need)", 1, 1u << 30,
                options.ports.mbufs)
        .number("mtu", "N", "set every port's MTU", 68, 65535, options.ports.mtu)
        .flag("promisc", 0, "promiscuous mode on every port", [&] { options.ports.promiscuous = true; })
        .seconds("stats-interval", "S", "print rates per port and per node every S seconds", options.stats_interval)
        .text("stats-json", 0, "FILE", "write the final statistics as JSON", session.stats_json)
        .seconds("duration", "S", "stop after S seconds (default: at SIGINT or SIGTERM)", options.duration)
        .text("metrics", 0, "ADDR:PORT", "serve OpenMetrics for Prometheus at http://ADDR:PORT/metrics",
              options.metrics);
    add_shadow_options(table, session.shadow);
    add_plugin_options(table, plugins);
    table.text("dot", 0, "FILE", "write the graph in Graphviz dot format", session.dot_file)
        .flag("quiet", 'q', "no final table", [&] { session.verbosity = -1; })
        .flag("verbose", 'v', "DPDK's start-up log and port details", [&] { session.verbosity = 1; })
        .flag("version", 0, "streamline's version, the SDK ABI, DPDK's and libpcap's", [] {})
        .flag("help", 'h', "this text", [] {});

    std::vector<std::string> rest;
    if (auto status = table.parse(line.args, rest)) return *status;
    if (auto status = after_options(table, session.verbosity, plugins, session.config_file, session.config_text))
        return *status;
    session.plugins = plugins.plugins;
    if (options.ports.gather != 0 && options.ports.gather < options.ports.burst) {
        command_line_usage(fmt::format("--gather {} is less than one burst (--burst {})", options.ports.gather,
                                       options.ports.burst),
                           table.usage());
        return 2;
    }
    if (!rest.empty()) {
        command_line_usage(fmt::format("unexpected argument '{}'", rest[0]), table.usage());
        return 2;
    }
    return run_forward(options, argv[0]);
}
