#include "core/forward.hpp"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <mutex>
#include <utility>

#include <fmt/format.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_telemetry.h>
#include <spdlog/spdlog.h>

#include "core/metrics.hpp"
#include "core/port_source.hpp"

namespace sl::core {
namespace {

// The largest frame a port may deliver (a jumbo frame, chained or not): it
// sizes each worker's shadow memory.
constexpr uint32_t kLargestFrame = 9728;

using Clock = std::chrono::steady_clock;

class PortIo;

// The PortIo that telemetry asks, while its graphs run. Telemetry callbacks
// run on DPDK's telemetry thread.
std::mutex g_telemetry_lock;
PortIo* g_telemetry_io = nullptr;

class PortIo final : public PacketIo {
public:
    explicit PortIo(const ForwardOptions& options) : options_(options) {}

    void configure_eal(EalConfig& eal) const override {
        eal.pci = true;
        eal.all_cpus = true;
        eal.telemetry = true;
    }

    // Every worker lcore walks a graph; without one, the main lcore forwards.
    std::vector<unsigned> worker_lcores() const override {
        std::vector<unsigned> lcores;
        unsigned lcore;
        RTE_LCORE_FOREACH_WORKER(lcore) lcores.push_back(lcore);
        if (lcores.empty()) lcores.push_back(rte_get_main_lcore());
        return lcores;
    }

    void check(unsigned workers) override {
        port_count_ = rte_eth_dev_count_avail();
        if (port_count_ == 0)
            throw RuntimeError(
                "DPDK found no ports: bind NICs to vfio-pci (scripts/bind-nics.sh) or add virtual devices "
                "(--vdev=net_pcap0,rx_pcap=IN.pcap,tx_pcap=OUT.pcap)");
        if (options_.tx_queues && options_.tx_queues < workers)
            throw ConfigError(fmt::format("--txq {}: each of the {} workers needs its own transmit queue",
                                          options_.tx_queues, workers));
    }

    unsigned input_count() const override { return port_count_; }
    bool live() const override { return true; }

    void describe(graph::WorkerContext& worker) const override {
        // Worker w owns transmit queue w of every port.
        worker.tx_queues.assign(port_count_, static_cast<int>(worker.worker));
        worker.largest_packet = kLargestFrame;
        worker.input_names.clear();
        for (uint16_t p = 0; p < port_count_; p++) {
            char name[RTE_ETH_NAME_MAX_LEN] = "";
            rte_eth_dev_get_name_by_port(p, name);
            worker.input_names.emplace_back(name);
        }
    }

    void start(unsigned workers, const io::PacketNeeds& needs, const std::atomic<bool>* stop) override {
        // First: an address that cannot be listened on ends the run before
        // any port starts.
        if (!options_.metrics.empty()) {
            metrics_ = std::make_unique<MetricsServer>(options_.metrics, metrics_text);
            if (options_.session.verbosity >= 0) spdlog::info("metrics: {}", metrics_->url());
        }
        PortOptions port_options = options_.ports;
        port_options.workers = workers;
        port_options.kept_per_worker = needs.kept;
        port_options.rss_by_addresses = needs.deal_by_addresses;
        port_options.tx_queues = static_cast<uint16_t>(options_.tx_queues);
        ports_ = std::make_unique<Ports>(port_options);
        for (unsigned w = 0; w < workers; w++) {
            std::vector<RxQueue> mine;
            for (const auto& q : ports_->rx_queues())
                if (q.worker == w) mine.push_back(q);
            sources_.push_back(std::make_unique<PortSource>(std::move(mine), options_.ports.burst,
                                                                options_.ports.gather, stop, needs));
        }
    }

    io::Source& source(unsigned worker) override { return *sources_[worker]; }
    bool reloads() const override { return true; }

    void running(Session& session) override {
        session_ = &session;
        ports_before_ = ports_->stats();
        graph_before_ = session.merged_report();
        last_print_ = Clock::now();
        next_print_ = options_.stats_interval;
        // DPDK refuses a help text of 128 characters or more.
        if (rte_telemetry_register_cmd("/sl/stats", telemetry_stats,
                                       "Totals; per node in, out, dropped; drops by reason; per port rx, tx, "
                                       "missed, no mbuf; mbufs out per pool") != 0)
            spdlog::warn("telemetry: /sl/stats could not be registered");
        if (rte_telemetry_register_cmd("/sl/graph", telemetry_graph,
                                       "The graph's nodes and its edges as \"a -> b\"") != 0)
            spdlog::warn("telemetry: /sl/graph could not be registered");
        {
            std::lock_guard guard(g_telemetry_lock);
            g_telemetry_io = this;
        }
        telemetry_line_ = telemetry_socket_line();
        if (!telemetry_line_.empty() && options_.session.verbosity > 0)
            spdlog::info("{}", std::exchange(telemetry_line_, {}));  // said once
    }

    void tick(Session& session, double seconds) override {
        if (options_.duration > 0 && seconds >= options_.duration) session.stop();
        if (options_.stats_interval > 0 && seconds >= next_print_) {
            print_rates(session, seconds);
            next_print_ += options_.stats_interval;
        }
    }

    void stopped(Session&) override {
        {
            std::lock_guard guard(g_telemetry_lock);
            g_telemetry_io = nullptr;
        }
        metrics_.reset();
    }

    unsigned close(RunReport& report) noexcept override {
        if (!ports_) return 0;
        unsigned out = close_and_report(*ports_, report);
        sources_.clear();
        ports_.reset();
        return out;
    }

private:
    void print_rates(Session& session, double since_start);
    static std::string telemetry_socket_line();
    static std::string metrics_text();
    static int telemetry_stats(const char*, const char*, rte_tel_data* d);
    static int telemetry_graph(const char*, const char*, rte_tel_data* d);

    const ForwardOptions& options_;
    uint16_t port_count_ = 0;
    std::unique_ptr<Ports> ports_;
    std::string telemetry_line_;  // until the first stats report
    std::unique_ptr<MetricsServer> metrics_;
    std::vector<std::unique_ptr<PortSource>> sources_;
    Session* session_ = nullptr;
    // --stats-interval: the figures at the last print.
    std::vector<PortStats> ports_before_;
    graph::Report graph_before_;
    Clock::time_point last_print_;
    double next_print_ = 0;
};

// Each port's rx/tx rates and each node's packets/s and new drops since the
// last print.
// Where dpdk-telemetry.py finds this process, which depends on the file
// prefix the EAL was given or completed with: "telemetry:
// /var/run/dpdk/sl-42-0/dpdk_telemetry.v2 (dpdk-telemetry.py -f sl-42-0)".
// Empty when telemetry is off (--no-telemetry).
std::string PortIo::telemetry_socket_line() {
    std::string dir = rte_eal_get_runtime_dir();
    std::string socket = dir + "/dpdk_telemetry.v2";
    if (dir.empty() || ::access(socket.c_str(), F_OK) != 0) return {};
    return fmt::format("telemetry: {} (dpdk-telemetry.py -f {})", socket, dir.substr(dir.rfind('/') + 1));
}

namespace {

// "   missed 12   no mbuf 40": what a port dropped between two looks, by why.
std::string lost_since(const PortStats& a, const PortStats& b) {
    std::string out;
    if (b.rx_missed > a.rx_missed) out += fmt::format("   missed {}", b.rx_missed - a.rx_missed);
    if (b.rx_nombuf > a.rx_nombuf) out += fmt::format("   no mbuf {}", b.rx_nombuf - a.rx_nombuf);
    return out;
}

}  // namespace

void PortIo::print_rates(Session& session, double since_start) {
    auto now = Clock::now();
    double dt = std::chrono::duration<double>(now - last_print_).count();
    if (dt <= 0) return;
    std::vector<PortStats> ports;
    {
        // Drivers whose counters clear on read add them up unlocked: one
        // reader at a time (telemetry and --metrics take it too).
        std::lock_guard guard(g_telemetry_lock);
        ports = ports_->stats();
    }
    graph::Report graph = session.merged_report();
    // The first report says where to ask for more, once.
    std::string out = std::exchange(telemetry_line_, {});
    if (!out.empty()) out += '\n';
    out += fmt::format("[{:7.1f} s]\n", since_start);
    for (size_t i = 0; i < ports.size() && i < ports_before_.size(); i++) {
        const auto &a = ports_before_[i], &b = ports[i];
        out += fmt::format("  port {} {:<12} rx {:8.3f} Mpps {:9.1f} Mbit/s   tx {:8.3f} Mpps {:9.1f} Mbit/s{}\n",
                           b.port, b.name, double(b.rx_packets - a.rx_packets) / dt / 1e6,
                           double(b.rx_bytes - a.rx_bytes) * 8 / dt / 1e6,
                           double(b.tx_packets - a.tx_packets) / dt / 1e6, double(b.tx_bytes - a.tx_bytes) * 8 / dt / 1e6,
                           lost_since(a, b));
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

// The OpenMetrics exposition of what /sl/stats gives, by port and by node,
// with drops by reason and the shadow buffers' bytes. Counters only: every
// figure counts up from the start of the run.
std::string PortIo::metrics_text() {
    std::lock_guard guard(g_telemetry_lock);
    PortIo* io = g_telemetry_io;
    if (!io) return "# EOF\n";  // not forwarding yet, or any more
    graph::Report r = io->session_->merged_report();
    std::string out;
    auto family = [&](const char* name, const char* help) {
        out += fmt::format("# TYPE {} counter\n# HELP {} {}\n", name, name, help);
    };
    auto ports = io->ports_->stats();
    auto port_family = [&](const char* name, const char* help, auto figure) {
        family(name, help);
        for (const auto& p : ports)
            out += fmt::format("{}_total{{port=\"{}\",name=\"{}\"}} {}\n", name, p.port, metrics_label(p.name),
                               figure(p));
    };
    port_family("sl_port_rx_packets", "Packets the port received.", [](const PortStats& p) { return p.rx_packets; });
    port_family("sl_port_rx_bytes", "Bytes the port received.", [](const PortStats& p) { return p.rx_bytes; });
    port_family("sl_port_tx_packets", "Packets the port sent.", [](const PortStats& p) { return p.tx_packets; });
    port_family("sl_port_tx_bytes", "Bytes the port sent.", [](const PortStats& p) { return p.tx_bytes; });
    port_family("sl_port_rx_missed", "Packets the device dropped: its receive ring was full.",
                [](const PortStats& p) { return p.rx_missed; });
    port_family("sl_port_rx_nombuf", "Packets the device dropped: no mbuf to receive into.",
                [](const PortStats& p) { return p.rx_nombuf; });
    port_family("sl_port_tx_errors", "Packets the device failed to send.", [](const PortStats& p) { return p.tx_errors; });

    auto node_family = [&](const char* name, const char* help, auto figure) {
        family(name, help);
        for (const auto& n : r.nodes)
            out += fmt::format("{}_total{{node=\"{}\",filter=\"{}\"}} {}\n", name, metrics_label(n.name),
                               metrics_label(n.filter), figure(n));
    };
    node_family("sl_node_packets_in", "Packets that reached the node.",
                [](const graph::NodeReport& n) { return n.packets_in; });
    node_family("sl_node_packets_out", "Packets the node passed on.",
                [](const graph::NodeReport& n) { return n.packets_out; });
    family("sl_node_dropped", "Packets the node dropped, by reason.");
    for (const auto& n : r.nodes)
        for (const auto& [reason, count] : n.drops)
            out += fmt::format("sl_node_dropped_total{{node=\"{}\",reason=\"{}\"}} {}\n", metrics_label(n.name),
                               metrics_label(reason), count);
    family("sl_shadow_bytes", "Bytes filters read, by how the shadow buffers served them.");
    for (const auto& n : r.nodes) {
        const shadow::Counters& s = n.shadow;
        for (auto [how, bytes] : {std::pair{"zero_copy", s.bytes_zero_copy}, std::pair{"copied_cpu", s.bytes_copied_cpu},
                                  std::pair{"copied_dma", s.bytes_copied_dma}})
            out += fmt::format("sl_shadow_bytes_total{{node=\"{}\",how=\"{}\"}} {}\n", metrics_label(n.name), how,
                               bytes);
    }
    family("sl_packets_read", "Packets the graph read.");
    out += fmt::format("sl_packets_read_total {}\n", r.packets_read);
    family("sl_packets_written", "Packets some sink wrote or sent.");
    out += fmt::format("sl_packets_written_total {}\n", r.packets_written);
    family("sl_packets_dropped", "Packets no sink took, by the reason of their last branch.");
    for (const auto& [reason, count] : r.drops)
        out += fmt::format("sl_packets_dropped_total{{reason=\"{}\"}} {}\n", metrics_label(reason), count);
    return out + "# EOF\n";
}

int PortIo::telemetry_stats(const char*, const char*, rte_tel_data* d) {
    std::lock_guard guard(g_telemetry_lock);
    PortIo* io = g_telemetry_io;
    if (!io) return -1;
    graph::Report r = io->session_->merged_report();
    rte_tel_data_start_dict(d);
    rte_tel_data_add_dict_u64(d, "packets_read", r.packets_read);
    rte_tel_data_add_dict_u64(d, "packets_written", r.packets_written);
    rte_tel_data_add_dict_u64(d, "packets_made", r.packets_made);
    rte_tel_data_add_dict_u64(d, "packets_dropped", r.dropped());
    std::vector<std::string> names, reasons;
    std::vector<uint64_t> in, out, dropped, drop_counts, rx, tx, missed, no_mbuf;
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
    for (const auto& p : io->ports_->stats()) {
        rx.push_back(p.rx_packets);
        tx.push_back(p.tx_packets);
        missed.push_back(p.rx_missed);
        no_mbuf.push_back(p.rx_nombuf);
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
    add_container(d, "port_rx_no_mbuf", u64_array(no_mbuf));
    // What a soak watches: mbufs out of their pools (rings, bursts, what
    // filters keep) stay bounded.
    std::vector<std::string> pool_names;
    std::vector<uint64_t> pool_in_use;
    for (rte_mempool* pool : io->ports_->pools()) {
        pool_names.push_back(pool->name);
        pool_in_use.push_back(rte_mempool_in_use_count(pool));
    }
    add_container(d, "mempools", string_array(pool_names));
    add_container(d, "mempool_in_use", u64_array(pool_in_use));
    return 0;
}

int PortIo::telemetry_graph(const char*, const char*, rte_tel_data* d) {
    std::lock_guard guard(g_telemetry_lock);
    PortIo* io = g_telemetry_io;
    if (!io) return -1;
    std::vector<std::string> nodes, edges;
    for (const auto& [node, next] : io->session_->edges()) {
        nodes.push_back(node);
        for (const auto& n : next) edges.push_back(node + " -> " + n);
    }
    rte_tel_data_start_dict(d);
    add_container(d, "nodes", string_array(nodes));
    add_container(d, "edges", string_array(edges));
    return 0;
}

}  // namespace

int run_forward(const ForwardOptions& options, const char* program) {
    PortIo io(options);
    Session session(options.session, io, program);
    return session.run();
}

}  // namespace sl::core
