#include "core/replay.hpp"

#include <unistd.h>
#include <sys/stat.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <memory>

#include <fmt/format.h>
#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <spdlog/spdlog.h>

#include "core/command_line.hpp"
#include "core/eal.hpp"
#include "core/ports.hpp"
#include "graph/registry.hpp"
#include "graph/report.hpp"
#include "graph/runtime.hpp"
#include "io/capture_reader.hpp"
#include "lang/ast.hpp"
#include "packet/parser.hpp"
#include "shadow/engines.hpp"
#include "shadow/imported_region.hpp"

namespace sl::core {
namespace {

std::atomic<bool> g_stop{false};
void on_signal(int) { g_stop.store(true); }

// Everything in flight is released by the end of each walk (one burst through
// the whole graph), so the pool needs one burst plus the per-lcore cache plus
// room for chains: a 256 KiB record copied into 2 KiB segments takes 128. When
// a burst of such records runs the pool dry, the source ends the burst early
// and the next walk continues; a bigger pool would only cost start-up time.
constexpr unsigned kReplayPoolSize = 2047;
// How far ahead of the records being read prefetch asks the kernel for the
// file: enough for the disk to stream while the graph works.
constexpr uint64_t kPrefetchReadAhead = 64u << 20;


class ProgressLine {
public:
    explicit ProgressLine(bool enabled) : enabled_(enabled), start_(std::chrono::steady_clock::now()) {}
    void update(uint64_t packets, double fraction) {
        if (!enabled_) return;
        auto now = std::chrono::steady_clock::now();
        if (now - last_ < std::chrono::milliseconds(500)) return;
        last_ = now;
        double elapsed = std::chrono::duration<double>(now - start_).count();
        double eta = fraction > 0 ? elapsed * (1 - fraction) / fraction : 0;
        std::fprintf(stderr, "\r%llu packets, %.2f Mpps, %3.0f%%, ETA %.0f s   ", (unsigned long long)packets,
                     elapsed > 0 ? double(packets) / elapsed / 1e6 : 0.0, fraction * 100, eta);
        shown_ = true;
    }
    ~ProgressLine() {
        if (shown_) std::fprintf(stderr, "\r%60s\r", "");
    }

private:
    bool enabled_;
    bool shown_ = false;
    std::chrono::steady_clock::time_point start_, last_{};
};

}  // namespace

int run_replay(const ReplayOptions& options, const char* program) {
    spdlog::set_level(options.verbosity > 0 ? spdlog::level::debug : spdlog::level::warn);
    for (const auto& e : graph::registration_errors()) std::fprintf(stderr, "warning: %s\n", e.c_str());

    // 1. The configuration, before anything is opened.
    lang::Program config;
    try {
        config = read_pipelines(options.config_file, options.config_text);
    } catch (const std::exception& e) {
        print_error(e);
        return 2;
    }

    // 2. The captures: libpcap's reason in one line when one cannot be read.
    std::vector<std::unique_ptr<io::CaptureReader>> readers;
    try {
        for (const auto& path : options.captures) readers.push_back(std::make_unique<io::CaptureReader>(path));
    } catch (const std::exception& e) {
        print_error(e);
        return 1;
    }
    for (const auto& r : readers)
        if (r->dlt() != readers[0]->dlt()) {
            std::fprintf(stderr, "error: %s and %s have different link types (%d and %d); replay them separately\n",
                         readers[0]->path().c_str(), r->path().c_str(), readers[0]->dlt(), r->dlt());
            return 1;
        }
    if (!packet::link_type_supported(readers[0]->dlt()) && options.verbosity >= 0)
        std::fprintf(stderr, "warning: link type %d is not parsed; filters see raw frames only\n", readers[0]->dlt());

    if (!create_output_dir(options.output_dir)) return 1;

    // 3. DPDK, then the graph: every filter is built before a packet is read.
    EalSession eal_session;
    std::vector<std::unique_ptr<shadow::ImportedRegion>> imported;  // unregistered before the EAL stops
    std::unique_ptr<shadow::CopyEngines> engines;  // outlives the graph that copies through it
    rte_mempool* pool = nullptr;
    std::unique_ptr<Ports> ports;  // when the EAL has ports, `tx N` sends on them
    std::unique_ptr<graph::Runtime> runtime;
    try {
        EalConfig eal;
        eal.user_args = options.eal_args;
        eal.verbose = options.verbosity > 0;
        start_eal(program, eal);
        engines = std::make_unique<shadow::CopyEngines>(options.shadow, 1, static_cast<int>(rte_socket_id()),
                                                        options.verbosity > 0);
        graph::BuildOptions build;
        build.shadow = options.shadow.policy;
        build.largest_packet = io::CaptureReader::kMaxSnaplen;
        build.copy_engine = engines->for_worker(0);
        build.dlt = readers[0]->dlt();
        build.linktype = readers[0]->linktype();
        build.output_dir = options.output_dir;
        build.input_count = static_cast<unsigned>(readers.size());
        build.socket = static_cast<int>(rte_socket_id());
        uint16_t port_count = rte_eth_dev_count_avail();
        build.tx_queues.assign(port_count, 0);
        runtime = std::make_unique<graph::Runtime>(config, build);
        unsigned pool_size = kReplayPoolSize;
        if (port_count > 0) {
            PortOptions port_options;
            port_options.verbose = options.verbosity > 0;
            ports = std::make_unique<Ports>(port_options);
            // The transmit rings keep what they send until the NIC is done.
            pool_size += port_count * port_options.tx_descriptors;
        }
        pool = create_packet_pool("sl_replay", pool_size, build.socket);
    } catch (const std::exception& e) {
        return exit_status_after(e);
    }

    g_stop.store(false);
    auto previous_int = std::signal(SIGINT, on_signal);
    auto previous_term = std::signal(SIGTERM, on_signal);
    // A NIC sends from mbuf memory it can reach by DMA, not from a mapped file.
    // Every policy reads the records where the file is mapped (the imported
    // segment); prefetch also asks the kernel for the file further ahead.
    io::RecordMode mode = runtime->writes_packets() || ports ? io::RecordMode::copy : io::RecordMode::attach;
    if (mode == io::RecordMode::attach)
        for (auto& r : readers) {
            imported.push_back(std::make_unique<shadow::ImportedRegion>(r->mapping(), r->size()));
            spdlog::debug("{}: {}", r->path(), imported.back()->why());
        }
    if (options.shadow.policy.policy == shadow::Policy::prefetch)
        for (auto& r : readers) r->set_read_ahead(kPrefetchReadAhead);
    io::CaptureSource source(readers, pool, mode, options.pacing, options.loops, &g_stop, options.segment_bytes);
    int status = 0;
    graph::RunReport report;
    try {
        runtime->start(source);
        if (!options.dot_file.empty()) runtime->export_dot(options.dot_file);
        ProgressLine progress(options.verbosity >= 0 && isatty(STDERR_FILENO));
        auto start = std::chrono::steady_clock::now();
        uint64_t walks = 0;
        while (!source.done()) {
            runtime->walk();
            if ((++walks & 1023) == 0) progress.update(runtime->packets_read(), source.progress());
        }
        report.elapsed_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        runtime->finish();
    } catch (const std::exception& e) {
        print_error(e);
        status = 1;
    }
    std::signal(SIGINT, previous_int);
    std::signal(SIGTERM, previous_term);

    report.graph = runtime->report();
    report.tsc_hz = double(rte_get_tsc_hz());
    runtime.reset();
    unsigned in_use = 0;
    if (ports) in_use += close_and_report(*ports, report);
    unsigned replay_in_use = rte_mempool_in_use_count(pool);
    report.pools.push_back({"sl_replay", pool->size, replay_in_use});
    in_use += replay_in_use;

    if (!source.error().empty()) {
        std::fprintf(stderr, "error: %s\n", source.error().c_str());
        status = 1;
    }
    if (in_use != 0) {
        std::fprintf(stderr, "error: %u mbufs were not returned to the pool\n", in_use);
        status = 1;
    }
    if (graph::publish(report, options.verbosity < 0, options.stats_json) != 0) status = 1;
    rte_mempool_free(pool);
    return status;
}

}  // namespace sl::core
