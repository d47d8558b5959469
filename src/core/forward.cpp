#include "core/forward.hpp"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <thread>

#include <fmt/format.h>
#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <spdlog/spdlog.h>

#include "core/eal.hpp"
#include "core/port_source.hpp"
#include "graph/registry.hpp"
#include "graph/report.hpp"
#include "graph/runtime.hpp"
#include "lang/ast.hpp"

namespace sl::core {
namespace {

std::atomic<bool> g_stop{false};
void on_stop(int) { g_stop.store(true); }

using Clock = std::chrono::steady_clock;

void print_error(const std::exception& e) {
    if (auto* c = dynamic_cast<const ConfigError*>(&e)) std::fprintf(stderr, "%s\n", c->format().c_str());
    else std::fprintf(stderr, "error: %s\n", e.what());
}

struct Worker {
    unsigned lcore;
    std::unique_ptr<PortSource> source;
    std::unique_ptr<graph::Runtime> runtime;
};

int worker_loop(void* arg) {
    auto* w = static_cast<Worker*>(arg);
    while (!g_stop.load(std::memory_order_relaxed)) w->runtime->walk();
    return 0;
}

graph::Report merged(const std::vector<Worker>& workers) {
    graph::Report r;
    for (const auto& w : workers) graph::merge(r, w.runtime->report());
    return r;
}

// The live view printed every --stats-interval seconds: rates since the last
// one, per port and per node, and the drops that grew.
class LiveStats {
public:
    LiveStats(const Ports& ports, const std::vector<Worker>& workers) : ports_(ports), workers_(workers) {
        ports_before_ = ports_.stats();
        graph_before_ = merged(workers_);
        last_ = Clock::now();
    }

    void print(double since_start) {
        auto now = Clock::now();
        double dt = std::chrono::duration<double>(now - last_).count();
        if (dt <= 0) return;
        auto ports = ports_.stats();
        graph::Report graph = merged(workers_);
        std::string out = fmt::format("[{:7.1f} s]\n", since_start);
        for (size_t i = 0; i < ports.size() && i < ports_before_.size(); i++) {
            const auto &a = ports_before_[i], &b = ports[i];
            out += fmt::format("  port {} {:<12} rx {:8.3f} Mpps {:9.1f} Mbit/s   tx {:8.3f} Mpps {:9.1f} Mbit/s{}\n",
                               b.port, b.name, double(b.rx_packets - a.rx_packets) / dt / 1e6,
                               double(b.rx_bytes - a.rx_bytes) * 8 / dt / 1e6,
                               double(b.tx_packets - a.tx_packets) / dt / 1e6,
                               double(b.tx_bytes - a.tx_bytes) * 8 / dt / 1e6,
                               b.rx_missed > a.rx_missed ? fmt::format("   missed {}", b.rx_missed - a.rx_missed) : "");
        }
        for (const auto& n : graph.nodes) {
            auto before = std::find_if(graph_before_.nodes.begin(), graph_before_.nodes.end(),
                                       [&](const graph::NodeReport& x) { return x.name == n.name; });
            uint64_t in0 = before == graph_before_.nodes.end() ? 0 : before->packets_in;
            std::string drops;
            for (const auto& [reason, count] : n.drops) {
                uint64_t c0 = 0;
                if (before != graph_before_.nodes.end()) {
                    auto it = before->drops.find(reason);
                    if (it != before->drops.end()) c0 = it->second;
                }
                if (count > c0) drops += fmt::format(" {}={}", reason, count - c0);
            }
            out += fmt::format("  {:<16} {:8.3f} Mpps{}{}\n", n.name, double(n.packets_in - in0) / dt / 1e6,
                               drops.empty() ? "" : "   dropped", drops);
        }
        std::fputs(out.c_str(), stdout);
        std::fflush(stdout);
        ports_before_ = std::move(ports);
        graph_before_ = std::move(graph);
        last_ = now;
    }

private:
    const Ports& ports_;
    const std::vector<Worker>& workers_;
    std::vector<PortStats> ports_before_;
    graph::Report graph_before_;
    Clock::time_point last_;
};

}  // namespace

int run_forward(const ForwardOptions& options, const char* program) {
    spdlog::set_level(options.verbosity > 0 ? spdlog::level::debug : spdlog::level::warn);
    for (const auto& e : graph::registration_errors()) std::fprintf(stderr, "warning: %s\n", e.c_str());

    lang::Program config;
    try {
        config = options.config_file.empty() ? lang::parse(options.config_text, "command-line")
                                             : lang::parse_file(options.config_file);
    } catch (const std::exception& e) {
        print_error(e);
        return 2;
    }
    if (!options.output_dir.empty()) {
        std::error_code ec;
        std::filesystem::create_directories(options.output_dir, ec);
        if (ec) {
            std::fprintf(stderr, "error: %s: %s\n", options.output_dir.c_str(), ec.message().c_str());
            return 1;
        }
    }

    // DPDK, then the graphs (every configuration error is reported before a
    // port starts), then the ports.
    EalSession eal_session;
    std::vector<Worker> workers;
    std::unique_ptr<Ports> ports;
    try {
        EalConfig eal;
        eal.user_args = options.eal_args;
        eal.verbose = options.verbosity > 0;
        eal.pci = true;
        eal.all_cpus = true;
        eal.telemetry = true;
        start_eal(program, eal);
        unsigned lcore;
        RTE_LCORE_FOREACH_WORKER(lcore) workers.push_back({lcore, nullptr, nullptr});
        // Without worker lcores the main lcore forwards itself.
        if (workers.empty()) workers.push_back({rte_get_main_lcore(), nullptr, nullptr});
        uint16_t port_count = rte_eth_dev_count_avail();
        if (port_count == 0)
            throw RuntimeError(
                "DPDK found no ports: bind NICs to vfio-pci (scripts/bind-nics.sh) or add virtual devices "
                "(--vdev=net_pcap0,rx_pcap=IN.pcap,tx_pcap=OUT.pcap)");
        unsigned txq = options.tx_queues ? options.tx_queues : static_cast<unsigned>(workers.size());
        if (txq < workers.size())
            throw ConfigError(fmt::format("--txq {}: each of the {} workers needs its own transmit queue", txq,
                                          workers.size()));
        for (unsigned w = 0; w < workers.size(); w++) {
            graph::BuildOptions build;
            build.output_dir = options.output_dir;
            build.input_count = port_count;
            build.socket = static_cast<int>(rte_lcore_to_socket_id(workers[w].lcore));
            build.worker = w;
            build.workers = static_cast<unsigned>(workers.size());
            build.live = true;
            build.tx_queues.assign(port_count, static_cast<int>(w));
            workers[w].runtime = std::make_unique<graph::Runtime>(config, build);
            if (workers[w].runtime->writes_packets() && workers.size() > 1)
                spdlog::debug("a filter writes packets; each worker writes its own");
        }
        PortOptions port_options = options.ports;
        port_options.workers = static_cast<unsigned>(workers.size());
        port_options.verbose = options.verbosity > 0;
        ports = std::make_unique<Ports>(port_options);
    } catch (const ConfigError& e) {
        print_error(e);
        return 2;
    } catch (const std::exception& e) {
        print_error(e);
        return 1;
    }

    int status = 0;
    g_stop.store(false);
    auto previous_int = std::signal(SIGINT, on_stop);
    auto previous_term = std::signal(SIGTERM, on_stop);
    graph::RunReport report;
    bool launched = false;
    try {
        for (unsigned w = 0; w < workers.size(); w++) {
            std::vector<RxQueue> mine;
            for (const auto& q : ports->rx_queues())
                if (q.worker == w) mine.push_back(q);
            workers[w].source = std::make_unique<PortSource>(std::move(mine), options.ports.burst, &g_stop);
            workers[w].runtime->start(*workers[w].source);
        }
        if (!options.dot_file.empty()) workers[0].runtime->export_dot(options.dot_file);

        auto start = Clock::now();
        auto seconds = [&] { return std::chrono::duration<double>(Clock::now() - start).count(); };
        LiveStats live(*ports, workers);
        double next_stats = options.stats_interval;
        auto tick = [&] {
            double t = seconds();
            if (options.duration > 0 && t >= options.duration) g_stop.store(true);
            if (options.stats_interval > 0 && t >= next_stats) {
                live.print(t);
                next_stats += options.stats_interval;
            }
        };
        if (workers[0].lcore == rte_get_main_lcore()) {
            uint64_t walks = 0;
            while (!g_stop.load(std::memory_order_relaxed)) {
                workers[0].runtime->walk();
                if ((++walks & 1023) == 0) tick();
            }
        } else {
            for (auto& w : workers) rte_eal_remote_launch(worker_loop, &w, w.lcore);
            launched = true;
            while (!g_stop.load()) {
                std::this_thread::sleep_for(std::chrono::milliseconds(20));
                tick();
            }
            rte_eal_mp_wait_lcore();
            launched = false;
        }
        report.elapsed_s = seconds();
        // Every walk ran to the end, so no packet is inside a graph now; the
        // sinks flush what they buffered.
        for (auto& w : workers) w.runtime->finish();
    } catch (const std::exception& e) {
        g_stop.store(true);
        if (launched) rte_eal_mp_wait_lcore();
        print_error(e);
        status = 1;
    }
    std::signal(SIGINT, previous_int);
    std::signal(SIGTERM, previous_term);

    report.graph = merged(workers);
    report.tsc_hz = double(rte_get_tsc_hz());
    auto port_stats = ports->stats();
    std::map<uint16_t, uint64_t> tx_full;
    for (const auto& n : report.graph.nodes) {
        if (n.filter != "tx") continue;
        auto port = std::find_if(n.counters.begin(), n.counters.end(), [](const auto& c) { return c.first == "port"; });
        auto full = n.drops.find("tx_full");
        if (port != n.counters.end() && full != n.drops.end()) tx_full[static_cast<uint16_t>(port->second)] += full->second;
    }
    for (const auto& s : port_stats)
        report.ports.push_back({s.port, s.name, s.rx_packets, s.tx_packets, s.rx_missed + s.rx_nombuf,
                                s.tx_errors + tx_full[s.port]});
    // The NICs give back what their rings hold; then every mbuf must be home.
    ports->close();
    for (const auto& [socket, pool] : ports->pools()) {
        unsigned in_use = rte_mempool_in_use_count(pool);
        report.pools.push_back({pool->name, pool->size, in_use});
        if (in_use != 0) {
            std::fprintf(stderr, "error: %u mbufs of %s were not returned\n", in_use, pool->name);
            status = 1;
        }
    }
    if (options.verbosity >= 0) std::fputs(graph::format_table(report).c_str(), stdout);
    if (!options.stats_json.empty()) {
        try {
            graph::write_json(report, options.stats_json);
        } catch (const std::exception& e) {
            print_error(e);
            status = 1;
        }
    }
    workers.clear();
    ports.reset();
    return status;
}

}  // namespace sl::core
