// The life of a run, the same for both apps: read the configuration, start
// DPDK, plan the graph and construct each worker's filters (every
// configuration error is said before a device starts), start the inputs,
// walk the graphs until the inputs end or a signal comes, finish the filters,
// check that every mbuf came home, and publish the report.
//
// What differs between the apps is where packets come from and go: capture
// files (sl-replay) or DPDK ports (sl-forward). That is a PacketIo.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "core/eal.hpp"
#include "core/run_report.hpp"
#include "graph/instances.hpp"
#include "graph/plan.hpp"
#include "graph/runtime.hpp"
#include "io/source.hpp"
#include "plugin/loader.hpp"
#include "shadow/engines.hpp"

namespace sl::core {

// What both apps take.
struct SessionOptions {
    std::vector<std::string> eal_args;  // completed with defaults that work anywhere
    std::string config_file;            // -c
    std::string config_text;            // -e
    std::string output_dir;             // -o: relative pcap "FILE" outputs
    std::string stats_json;             // --stats-json
    std::string dot_file;               // --dot
    shadow::ShadowOptions shadow;       // --shadow, --dma, --dma-min-bytes
    int verbosity = 0;                  // -1 quiet, 0 normal, 1 verbose
    // What a reload opens first: plugins put in the folders since the last
    // (those opened before are not opened again).
    plugin::PluginOptions plugins;
};

class Session;


// Where a session's packets come from and go. A run calls these in the order
// they are declared (reloads() when signals are installed); a reload asks
// input_count(), live() and describe() again.
class PacketIo {
public:
    virtual ~PacketIo() = default;
    // Before DPDK starts: open what the user named. Throws RuntimeError.
    virtual void open() {}
    virtual void configure_eal(EalConfig& eal) const = 0;
    // After the EAL started: the lcores that walk a graph each (the first
    // may be the main lcore), and the checks that need the EAL. Throws.
    virtual std::vector<unsigned> worker_lcores() const = 0;
    virtual void check(unsigned workers) { (void)workers; }
    // `rx N` reads input N; true when inputs are ports rather than files.
    virtual unsigned input_count() const = 0;
    virtual bool live() const = 0;
    // Fills what a worker's graph needs to know of the inputs and outputs:
    // link type, transmit queues, the largest packet.
    virtual void describe(graph::WorkerContext& worker) const = 0;
    // Once every worker's filters exist: the devices, pools and sources.
    // Throws.
    virtual void start(unsigned workers, const io::PacketNeeds& needs, const std::atomic<bool>* stop) = 0;
    virtual io::Source& source(unsigned worker) = 0;
    // On the main lcore: once the graphs run, every ~20 ms (or every 1024
    // walks where the main lcore walks), and once they stopped.
    virtual void running(Session& session) { (void)session; }
    virtual void tick(Session& session, double seconds) { (void)session, (void)seconds; }
    virtual void stopped(Session& session) { (void)session; }
    // SIGHUP reads the configuration again (sl-forward).
    virtual bool reloads() const { return false; }
    // After the graphs are gone, on every way out of a session (also where
    // nothing was started): the devices' counters and the pools into
    // `report`, then the devices and pools freed before the EAL stops.
    // Returns how many mbufs were not back.
    virtual unsigned close(RunReport& report) noexcept = 0;
    // What went wrong with the inputs (a capture cut short), or "".
    virtual std::string error() const { return {}; }
};

class Session {
public:
    Session(const SessionOptions& options, PacketIo& io, const char* program);
    ~Session();
    Session(const Session&) = delete;
    Session& operator=(const Session&) = delete;

    // Exit status: 0 success, 1 runtime error, 2 configuration error.
    int run();

    // For PacketIo, from any thread: every worker's report, merged, and the
    // graph's edges; consistent with a reload in progress.
    graph::Report merged_report() const;
    std::vector<std::pair<std::string, std::vector<std::string>>> edges() const;
    // Asks the loop to end, as SIGINT does.
    void stop() noexcept;

private:
    struct Worker;
    lang::Program read_config() const;
    graph::PlanOptions plan_options() const;
    graph::WorkerContext worker_context(const Worker& w) const;
    std::vector<graph::Instances> instantiate(const graph::Plan& plan, bool reload) const;
    void loop(double& elapsed_s);
    void reload();
    bool main_walks() const;

    const SessionOptions& options_;
    PacketIo& io_;
    const char* program_;
    // Declared first: the EAL stops after everything below is gone.
    EalSession eal_session_;
    std::unique_ptr<shadow::CopyEngines> engines_;  // outlive the graphs that copy through them
    std::vector<std::unique_ptr<Worker>> workers_;
    bool io_closed_ = false;
    io::PacketNeeds started_needs_;  // what the first graph asked of the inputs
    // Held by the main lcore while it replaces graphs, and by readers of
    // the reports on other threads (telemetry).
    mutable std::mutex control_;
};

}  // namespace sl::core
