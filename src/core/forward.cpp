#include "core/forward.hpp"


#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <memory>
#include <mutex>
#include <thread>

#include <fmt/format.h>
#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_telemetry.h>
#include <spdlog/spdlog.h>

#include "core/command_line.hpp"
#include "core/eal.hpp"
#include "core/port_source.hpp"
#include "shadow/engines.hpp"
#include "graph/registry.hpp"
#include "graph/report.hpp"
#include "graph/runtime.hpp"
#include "lang/ast.hpp"

namespace sl::core {
namespace {

std::atomic<bool> g_stop{false};
std::atomic<bool> g_reload{false};
void on_stop(int) { g_stop.store(true); }
void on_hangup(int) { g_reload.store(true); }

using Clock = std::chrono::steady_clock;


// One worker lcore and the graph it walks. A reload hands it the next graph
// through `next`; the worker switches between two walks, so no packet is
// ever inside a graph that is being replaced.
struct Worker {
    unsigned lcore = 0;
    unsigned index = 0;
    std::unique_ptr<PortSource> source;
    std::unique_ptr<graph::Runtime> runtime;  // owned; replaced by the control thread after a switch
    graph::Runtime* walking = nullptr;        // what the worker walks
    std::atomic<graph::Runtime*> next{nullptr};

    // Between walks: take the next graph if one is waiting.
    void switch_if_asked() noexcept {
        graph::Runtime* n = next.load(std::memory_order_acquire);
        if (!n) return;
        n->take_over();
        walking = n;
        next.store(nullptr, std::memory_order_release);
    }
};

int worker_loop(void* arg) {
    auto* w = static_cast<Worker*>(arg);
    while (!g_stop.load(std::memory_order_relaxed)) {
        w->switch_if_asked();
        w->walking->walk();
    }
    return 0;
}

class Session {
public:
    Session(const ForwardOptions& options, const char* program) : options_(options), program_(program) {}
    int run();

    // Telemetry callbacks run on DPDK's telemetry thread.
    static int telemetry_stats(const char*, const char*, rte_tel_data* d);
    static int telemetry_graph(const char*, const char*, rte_tel_data* d);

private:
    lang::Program read_config() const;
    std::vector<std::unique_ptr<graph::Runtime>> build(const lang::Program& config, bool reload);
    void reload();
    graph::Report merged() const;
    void print_live(double since_start);
    bool main_forwards() const { return workers_.size() == 1 && workers_[0]->lcore == rte_get_main_lcore(); }

    const ForwardOptions& options_;
    const char* program_;
    // Declared first: the EAL stops after everything below is gone.
    EalSession eal_session_;
    // Before the workers: their graphs copy through these engines.
    std::unique_ptr<shadow::CopyEngines> engines_;
    std::vector<std::unique_ptr<Worker>> workers_;
    std::unique_ptr<Ports> ports_;
    uint16_t port_count_ = 0;
    // Held by the control thread while graphs change, and by telemetry.
    mutable std::mutex control_;
    // The live view: the figures at the last print.
    std::vector<PortStats> ports_before_;
    graph::Report graph_before_;
    Clock::time_point last_print_;
};

Session* g_session = nullptr;

// The largest frame a port may deliver (a jumbo frame, chained or not): it
// sizes each worker's shadow memory.
constexpr uint32_t kLargestFrame = 9728;

lang::Program Session::read_config() const {
    return read_pipelines(options_.config_file, options_.config_text);
}

std::vector<std::unique_ptr<graph::Runtime>> Session::build(const lang::Program& config, bool reload) {
    std::vector<std::unique_ptr<graph::Runtime>> graphs;
    for (auto& w : workers_) {
        graph::BuildOptions b;
        b.output_dir = options_.output_dir;
        b.input_count = port_count_;
        b.socket = static_cast<int>(rte_lcore_to_socket_id(w->lcore));
        b.worker = w->index;
        b.workers = static_cast<unsigned>(workers_.size());
        b.live = true;
        b.tx_queues.assign(port_count_, static_cast<int>(w->index));  // worker w owns queue w of every port
        b.shadow = options_.shadow.policy;
        b.largest_packet = kLargestFrame;
        b.copy_engine = engines_->for_worker(w->index);
        graphs.push_back(std::make_unique<graph::Runtime>(config, b, reload ? w->runtime.get() : nullptr));
    }
    return graphs;
}

graph::Report Session::merged() const {
    graph::Report r;
    for (const auto& w : workers_) graph::merge(r, w->runtime->report());
    return r;
}

// SIGHUP: read the configuration again, build every worker's next graph,
// and have the workers switch between two walks. A configuration with errors
// changes nothing.
void Session::reload() {
    std::vector<std::unique_ptr<graph::Runtime>> next;
    try {
        lang::Program config = read_config();
        next = build(config, true);
        for (size_t i = 0; i < workers_.size(); i++) next[i]->start(*workers_[i]->source);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "reload refused, the running graph stays:\n");
        print_error(e);
        return;
    }
    std::lock_guard guard(control_);
    if (main_forwards()) {
        workers_[0]->next.store(next[0].get());
        workers_[0]->switch_if_asked();
    } else {
        for (size_t i = 0; i < workers_.size(); i++) workers_[i]->next.store(next[i].get(), std::memory_order_release);
        for (auto& w : workers_) {
            while (w->next.load(std::memory_order_acquire) != nullptr) {
                // A worker that stopped meanwhile switches no more; the graph
                // is taken over here, where nothing walks it.
                if (rte_eal_get_lcore_state(w->lcore) != RUNNING) {
                    w->switch_if_asked();
                    break;
                }
                std::this_thread::sleep_for(std::chrono::microseconds(100));
            }
        }
    }
    // The previous graphs are walked no more: close what they did not hand on.
    for (size_t i = 0; i < workers_.size(); i++) {
        try {
            workers_[i]->runtime->finish();
        } catch (const std::exception& e) {
            print_error(e);
        }
        workers_[i]->runtime = std::move(next[i]);
    }
    std::fprintf(stderr, "reloaded %s\n",
                 options_.config_file.empty() ? "the command-line pipelines" : options_.config_file.c_str());
}

void Session::print_live(double since_start) {
    auto now = Clock::now();
    double dt = std::chrono::duration<double>(now - last_print_).count();
    if (dt <= 0) return;
    auto ports = ports_->stats();
    graph::Report graph = merged();
    std::string out = fmt::format("[{:7.1f} s]\n", since_start);
    for (size_t i = 0; i < ports.size() && i < ports_before_.size(); i++) {
        const auto &a = ports_before_[i], &b = ports[i];
        out += fmt::format("  port {} {:<12} rx {:8.3f} Mpps {:9.1f} Mbit/s   tx {:8.3f} Mpps {:9.1f} Mbit/s{}\n",
                           b.port, b.name, double(b.rx_packets - a.rx_packets) / dt / 1e6,
                           double(b.rx_bytes - a.rx_bytes) * 8 / dt / 1e6,
                           double(b.tx_packets - a.tx_packets) / dt / 1e6, double(b.tx_bytes - a.tx_bytes) * 8 / dt / 1e6,
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
    last_print_ = now;
}

// Telemetry names may hold only letters, digits, '_' and '/', and containers
// are flat arrays; node names hold more, so nodes and their figures are
// parallel arrays, and edges are "a -> b" strings.
rte_tel_data* u64_array(const std::vector<uint64_t>& values) {
    rte_tel_data* a = rte_tel_data_alloc();
    if (!a) return nullptr;
    rte_tel_data_start_array(a, RTE_TEL_U64_VAL);
    for (uint64_t v : values) rte_tel_data_add_array_u64(a, v);
    return a;
}

rte_tel_data* string_array(const std::vector<std::string>& values) {
    rte_tel_data* a = rte_tel_data_alloc();
    if (!a) return nullptr;
    rte_tel_data_start_array(a, RTE_TEL_STRING_VAL);
    for (const auto& v : values) rte_tel_data_add_array_string(a, v.c_str());
    return a;
}

void add_container(rte_tel_data* d, const char* name, rte_tel_data* container) {
    if (container && rte_tel_data_add_dict_container(d, name, container, 0) != 0) rte_tel_data_free(container);
}

int Session::telemetry_stats(const char*, const char*, rte_tel_data* d) {
    Session* s = g_session;
    if (!s) return -1;
    std::lock_guard guard(s->control_);
    graph::Report r = s->merged();
    rte_tel_data_start_dict(d);
    rte_tel_data_add_dict_u64(d, "packets_read", r.packets_read);
    rte_tel_data_add_dict_u64(d, "packets_written", r.packets_written);
    rte_tel_data_add_dict_u64(d, "packets_dropped", r.dropped());
    std::vector<std::string> names, reasons;
    std::vector<uint64_t> in, out, dropped, drop_counts, rx, tx, missed;
    for (const auto& n : r.nodes) {
        names.push_back(n.name);
        in.push_back(n.packets_in);
        out.push_back(n.packets_out);
        dropped.push_back(n.dropped());
    }
    for (const auto& [reason, n] : r.drops) {
        reasons.push_back(reason);
        drop_counts.push_back(n);
    }
    for (const auto& p : s->ports_->stats()) {
        rx.push_back(p.rx_packets);
        tx.push_back(p.tx_packets);
        missed.push_back(p.rx_missed + p.rx_nombuf);
    }
    add_container(d, "nodes", string_array(names));
    add_container(d, "node_packets_in", u64_array(in));
    add_container(d, "node_packets_out", u64_array(out));
    add_container(d, "node_dropped", u64_array(dropped));
    add_container(d, "drop_reasons", string_array(reasons));
    add_container(d, "drop_counts", u64_array(drop_counts));
    add_container(d, "port_rx_packets", u64_array(rx));
    add_container(d, "port_tx_packets", u64_array(tx));
    add_container(d, "port_rx_missed", u64_array(missed));
    return 0;
}

int Session::telemetry_graph(const char*, const char*, rte_tel_data* d) {
    Session* s = g_session;
    if (!s) return -1;
    std::lock_guard guard(s->control_);
    std::vector<std::string> nodes, edges;
    for (const auto& [node, next] : s->workers_[0]->runtime->edges()) {
        nodes.push_back(node);
        for (const auto& n : next) edges.push_back(node + " -> " + n);
    }
    rte_tel_data_start_dict(d);
    add_container(d, "nodes", string_array(nodes));
    add_container(d, "edges", string_array(edges));
    return 0;
}

int Session::run() {
    lang::Program config;
    try {
        config = read_config();
    } catch (const std::exception& e) {
        print_error(e);
        return 2;
    }
    if (!create_output_dir(options_.output_dir)) return 1;

    // DPDK, then the graphs (every configuration error is reported before a
    // port starts), then the ports.
    try {
        EalConfig eal;
        eal.user_args = options_.eal_args;
        eal.verbose = options_.verbosity > 0;
        eal.pci = true;
        eal.all_cpus = true;
        eal.telemetry = true;
        start_eal(program_, eal);
        auto add_worker = [&](unsigned lcore) {
            auto w = std::make_unique<Worker>();
            w->lcore = lcore;
            w->index = static_cast<unsigned>(workers_.size());
            workers_.push_back(std::move(w));
        };
        unsigned lcore;
        RTE_LCORE_FOREACH_WORKER(lcore) add_worker(lcore);
        // Without worker lcores the main lcore forwards itself.
        if (workers_.empty()) add_worker(rte_get_main_lcore());
        port_count_ = rte_eth_dev_count_avail();
        if (port_count_ == 0)
            throw RuntimeError(
                "DPDK found no ports: bind NICs to vfio-pci (scripts/bind-nics.sh) or add virtual devices "
                "(--vdev=net_pcap0,rx_pcap=IN.pcap,tx_pcap=OUT.pcap)");
        if (options_.tx_queues && options_.tx_queues < workers_.size())
            throw ConfigError(fmt::format("--txq {}: each of the {} workers needs its own transmit queue",
                                          options_.tx_queues, workers_.size()));
        engines_ = std::make_unique<shadow::CopyEngines>(options_.shadow, static_cast<unsigned>(workers_.size()),
                                                         static_cast<int>(rte_socket_id()), options_.verbosity > 0);
        auto graphs = build(config, false);
        for (size_t i = 0; i < workers_.size(); i++) {
            workers_[i]->runtime = std::move(graphs[i]);
            workers_[i]->walking = workers_[i]->runtime.get();
        }
        PortOptions port_options = options_.ports;
        port_options.workers = static_cast<unsigned>(workers_.size());
        port_options.tx_queues = static_cast<uint16_t>(options_.tx_queues);
        port_options.verbose = options_.verbosity > 0;
        ports_ = std::make_unique<Ports>(port_options);
    } catch (const std::exception& e) {
        return exit_status_after(e);
    }

    int status = 0;
    g_stop.store(false);
    g_reload.store(false);
    auto previous_int = std::signal(SIGINT, on_stop);
    auto previous_term = std::signal(SIGTERM, on_stop);
    auto previous_hup = std::signal(SIGHUP, on_hangup);
    graph::RunReport report;
    bool launched = false;
    try {
        for (auto& w : workers_) {
            std::vector<RxQueue> mine;
            for (const auto& q : ports_->rx_queues())
                if (q.worker == w->index) mine.push_back(q);
            w->source = std::make_unique<PortSource>(std::move(mine), options_.ports.burst, &g_stop);
            w->runtime->start(*w->source);
        }
        if (!options_.dot_file.empty()) workers_[0]->runtime->export_dot(options_.dot_file);
        g_session = this;
        rte_telemetry_register_cmd("/sl/stats", telemetry_stats,
                                   "Totals; per node (parallel arrays) packets in, out and dropped; drops by "
                                   "reason; per port rx, tx and missed packets");
        rte_telemetry_register_cmd("/sl/graph", telemetry_graph, "The graph's nodes and its edges as \"a -> b\"");

        auto start = Clock::now();
        auto seconds = [&] { return std::chrono::duration<double>(Clock::now() - start).count(); };
        ports_before_ = ports_->stats();
        graph_before_ = merged();
        last_print_ = Clock::now();
        double next_print = options_.stats_interval;
        auto tick = [&] {
            double t = seconds();
            if (options_.duration > 0 && t >= options_.duration) g_stop.store(true);
            if (g_reload.exchange(false)) reload();
            if (options_.stats_interval > 0 && t >= next_print) {
                print_live(t);
                next_print += options_.stats_interval;
            }
        };
        if (main_forwards()) {
            uint64_t walks = 0;
            while (!g_stop.load(std::memory_order_relaxed)) {
                workers_[0]->walking->walk();
                if ((++walks & 1023) == 0) tick();
            }
        } else {
            for (auto& w : workers_) rte_eal_remote_launch(worker_loop, w.get(), w->lcore);
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
        for (auto& w : workers_) w->runtime->finish();
    } catch (const std::exception& e) {
        g_stop.store(true);
        if (launched) rte_eal_mp_wait_lcore();
        print_error(e);
        status = 1;
    }
    std::signal(SIGINT, previous_int);
    std::signal(SIGTERM, previous_term);
    std::signal(SIGHUP, previous_hup);

    {
        std::lock_guard guard(control_);
        g_session = nullptr;
    }
    report.graph = merged();
    report.tsc_hz = double(rte_get_tsc_hz());
    for (const auto& w : workers_) report.workers.push_back({w->lcore, w->runtime->packets_read()});
    // The NICs give back what their rings hold; then every mbuf must be home.
    if (unsigned out = close_and_report(*ports_, report)) {
        std::fprintf(stderr, "error: %u mbufs were not returned to their pools\n", out);
        status = 1;
    }
    if (graph::publish(report, options_.verbosity < 0, options_.stats_json) != 0) status = 1;
    workers_.clear();
    ports_.reset();
    return status;
}

}  // namespace

int run_forward(const ForwardOptions& options, const char* program) {
    spdlog::set_level(options.verbosity > 0 ? spdlog::level::debug : spdlog::level::warn);
    for (const auto& e : graph::registration_errors()) std::fprintf(stderr, "warning: %s\n", e.c_str());
    Session session(options, program);
    return session.run();
}

}  // namespace sl::core
