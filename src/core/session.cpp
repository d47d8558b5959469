#include "core/session.hpp"

#include <chrono>
#include <csignal>
#include <cstring>
#include <exception>
#include <thread>

#include <fmt/format.h>

#include <rte_cycles.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <spdlog/spdlog.h>

#include "core/command_line.hpp"
#include "core/diagnostics.hpp"
#include "graph/dot.hpp"
#include "graph/needs.hpp"
#include "sdk/registry.hpp"

namespace sl::core {
namespace {

std::atomic<bool> g_stop{false};
std::atomic<bool> g_reload{false};
void on_stop(int) { g_stop.store(true); }
void on_hangup(int) { g_reload.store(true); }

// Installs the session's signal handlers and puts the previous ones back.
class Signals {
public:
    explicit Signals(bool hangup) : hangup_(hangup) {
        g_stop.store(false);
        g_reload.store(false);
        int_ = std::signal(SIGINT, on_stop);
        term_ = std::signal(SIGTERM, on_stop);
        if (hangup_) hup_ = std::signal(SIGHUP, on_hangup);
    }
    ~Signals() {
        std::signal(SIGINT, int_);
        std::signal(SIGTERM, term_);
        if (hangup_) std::signal(SIGHUP, hup_);
    }
    Signals(const Signals&) = delete;
    Signals& operator=(const Signals&) = delete;

private:
    bool hangup_;
    void (*int_)(int) = SIG_DFL;
    void (*term_)(int) = SIG_DFL;
    void (*hup_)(int) = SIG_DFL;
};

using Clock = std::chrono::steady_clock;

}  // namespace

// One lcore and the graph it walks. A reload hands it the next graph through
// `next`; the worker switches between two walks, so no packet is ever inside
// a graph that is being replaced.
struct Session::Worker {
    unsigned lcore = 0;
    unsigned index = 0;
    io::Source* source = nullptr;
    std::unique_ptr<graph::Runtime> runtime;  // owned; replaced by the main lcore after a switch
    graph::Runtime* walking = nullptr;        // what the worker walks
    std::atomic<graph::Runtime*> next{nullptr};
    std::atomic<bool> finished{false};  // its loop on a worker lcore returned

    // Between walks: take the next graph if one is waiting.
    void switch_if_asked() noexcept {
        graph::Runtime* n = next.load(std::memory_order_acquire);
        if (!n) return;
        n->take_over(*walking);
        walking = n;
        next.store(nullptr, std::memory_order_release);
    }

    static int loop(void* self) {
        auto* w = static_cast<Worker*>(self);
        while (!w->source->done()) {
            w->switch_if_asked();
            w->walking->walk();
        }
        w->finished.store(true, std::memory_order_release);
        return 0;
    }
};

Session::Session(const SessionOptions& options, PacketIo& io, const char* program)
    : options_(options), io_(io), program_(program) {}

Session::~Session() {
    // A run that ended early still gives its devices and pools back before
    // the EAL stops.
    if (!io_closed_) {
        RunReport ignored;
        io_.close(ignored);
    }
}

lang::Program Session::read_config() const { return read_pipelines(options_.config_file, options_.config_text); }

graph::PlanOptions Session::plan_options() const {
    return {io_.input_count(), io_.live(), options_.shadow.policy};
}

graph::WorkerContext Session::worker_context(const Worker& w) const {
    graph::WorkerContext c;
    c.output_dir = options_.output_dir;
    c.socket = static_cast<int>(rte_lcore_to_socket_id(w.lcore));
    c.worker = w.index;
    c.workers = static_cast<unsigned>(workers_.size());
    c.live = io_.live();
    c.copy_engine = engines_->for_worker(w.index);
    io_.describe(c);
    return c;
}

std::vector<graph::Instances> Session::instantiate(const graph::Plan& plan, bool reload) const {
    std::vector<graph::Instances> all;
    for (const auto& w : workers_) all.emplace_back(plan, worker_context(*w), reload ? w->runtime.get() : nullptr);
    return all;
}

bool Session::main_walks() const { return !workers_.empty() && workers_[0]->lcore == rte_get_main_lcore(); }

graph::Report Session::merged_report() const {
    std::lock_guard guard(control_);
    graph::Report r;
    for (const auto& w : workers_)
        if (w->runtime) graph::merge(r, w->runtime->report());
    return r;
}

std::vector<std::pair<std::string, std::vector<std::string>>> Session::edges() const {
    std::lock_guard guard(control_);
    if (workers_.empty() || !workers_[0]->runtime) return {};
    return workers_[0]->runtime->edges();
}

void Session::stop() noexcept { g_stop.store(true); }

int Session::run() {
    for (const auto& e : registration_errors()) spdlog::warn("{}", e);
    lang::Program config;
    try {
        config = read_config();
    } catch (const std::exception& e) {
        report_error(e);
        return 2;
    }
    try {
        io_.open();
    } catch (const std::exception& e) {
        return exit_status_after(e);  // 2 for inputs that cannot go together
    }
    if (!create_output_dir(options_.output_dir)) return 1;

    // DPDK, then the plan and every worker's filters (each configuration
    // error is said before a device starts), then the devices and sources.
    std::vector<graph::Instances> instances;
    std::unique_ptr<graph::Plan> plan;
    try {
        EalConfig eal;
        eal.user_args = options_.eal_args;
        eal.verbose = options_.verbosity > 0;
        io_.configure_eal(eal);
        start_eal(program_, eal);
        std::vector<unsigned> lcores = io_.worker_lcores();
        io_.check(static_cast<unsigned>(lcores.size()));
        plan = std::make_unique<graph::Plan>(graph::plan(config, filter_registry(), plan_options()));
        // Records are dealt to replay workers by flow; a filter that counts
        // the input's packets in order needs all of them on one graph.
        if (const graph::PlanNode* counting = plan->counts_input_order(); counting && !io_.live() && lcores.size() > 1) {
            spdlog::debug("{} counts packets in input order: one worker walks the graph", counting->name);
            lcores.resize(1);
        }
        for (unsigned lcore : lcores) {
            auto w = std::make_unique<Worker>();
            w->lcore = lcore;
            w->index = static_cast<unsigned>(workers_.size());
            workers_.push_back(std::move(w));
        }
        engines_ = std::make_unique<shadow::CopyEngines>(options_.shadow, static_cast<unsigned>(workers_.size()),
                                                         static_cast<int>(rte_socket_id()));
        instances = instantiate(*plan, false);
        started_needs_ = graph::packet_needs(*plan, instances[0]);
        io_.start(static_cast<unsigned>(workers_.size()), started_needs_, &g_stop);
    } catch (const std::exception& e) {
        return exit_status_after(e);
    }

    int status = 0;
    RunReport report;
    {
        Signals signals(io_.reloads());
        bool running = false;
        std::exception_ptr failure;
        try {
            for (auto& w : workers_) {
                w->source = &io_.source(w->index);
                w->runtime = std::make_unique<graph::Runtime>(*plan, std::move(instances[w->index]), *w->source);
                w->walking = w->runtime.get();
                w->walking->select_inputs();  // no lcore walks yet
            }
            if (!options_.dot_file.empty()) graph::write_dot(*plan, options_.dot_file);
            running = true;
            io_.running(*this);
            loop(report.elapsed_s);
            // Every walk ran to the end, so no packet is inside a graph now;
            // the sinks flush what they buffered.
            std::vector<graph::Runtime*> graphs;
            for (auto& w : workers_) graphs.push_back(w->runtime.get());
            graph::finish(graphs);
        } catch (...) {
            failure = std::current_exception();
        }
        // What the io shows while running (a progress line) goes before
        // anything is said about how the run ended.
        if (running) io_.stopped(*this);
        if (failure) {
            try {
                std::rethrow_exception(failure);
            } catch (const std::exception& e) {
                report_error(e);
            }
            status = 1;
        }
    }

    report.graph = merged_report();
    report.tsc_hz = rte_get_tsc_hz();
    if (io_.live() || workers_.size() > 1)
        for (const auto& w : workers_) report.workers.push_back({w->lcore, w->runtime ? w->runtime->packets_read() : 0});
    {
        std::lock_guard guard(control_);
        for (auto& w : workers_) w->runtime.reset();
    }
    // The devices give back what their rings hold; then every mbuf must be home.
    unsigned in_use = io_.close(report);
    io_closed_ = true;
    if (std::string error = io_.error(); !error.empty()) {
        spdlog::error("{}", error);
        status = 1;
    }
    if (in_use != 0) {
        spdlog::error("{} mbufs were not returned to their pools", in_use);
        status = 1;
    }
    if (!publish(report, options_.verbosity < 0, options_.stats_json)) status = 1;
    workers_.clear();
    return status;
}

void Session::loop(double& elapsed_s) {
    auto start = Clock::now();
    auto seconds = [&] { return std::chrono::duration<double>(Clock::now() - start).count(); };
    auto tick = [&] {
        if (g_reload.exchange(false) && io_.reloads()) reload();
        io_.tick(*this, seconds());
    };
    auto all_done = [&] {
        for (auto& w : workers_)
            if (!w->finished.load(std::memory_order_acquire)) return false;
        return true;
    };
    try {
        for (auto& w : workers_)
            if (w->lcore != rte_get_main_lcore())
                if (int rc = rte_eal_remote_launch(Worker::loop, w.get(), w->lcore); rc != 0)
                    throw RuntimeError(fmt::format("cannot start a worker on lcore {}: {}", w->lcore, std::strerror(-rc)));
        // The main lcore walks its graph between ticks (a reload switches
        // it in tick()), then waits for the others.
        if (main_walks()) {
            Worker& w = *workers_[0];
            uint64_t walks = 0;
            while (!w.source->done()) {
                w.walking->walk();
                if ((++walks & 1023) == 0) tick();
            }
            w.finished.store(true, std::memory_order_release);
        }
        // Looked at every millisecond, so that the run ends when its last
        // worker does; ticks every 20.
        for (unsigned waits = 1; !all_done(); waits++) {
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
            // Once stopping, the workers end within a walk: nothing to
            // reload or print meanwhile.
            if (waits % 20 == 0 && !g_stop.load()) tick();
        }
    } catch (...) {
        g_stop.store(true);
        rte_eal_mp_wait_lcore();
        throw;
    }
    rte_eal_mp_wait_lcore();
    elapsed_s = seconds();
}

// SIGHUP: read the configuration again, build every worker's next graph, and
// have the workers switch between two walks. A configuration with errors
// changes nothing.
void Session::reload() {
    std::vector<std::unique_ptr<graph::Runtime>> next;
    try {
        // A plugin dropped into a plugin folder is there for the new graph;
        // one that cannot be opened refuses the reload, with its reason.
        plugin::load_plugins(options_.plugins);
        lang::Program config = read_config();
        graph::Plan plan = graph::plan(config, filter_registry(), plan_options());
        auto instances = instantiate(plan, true);
        // The pools and the way records become mbufs were chosen at start.
        io::PacketNeeds needs = graph::packet_needs(plan, instances[0]);
        if (needs.kept > started_needs_.kept)
            throw ConfigError(fmt::format("the new graph's filters keep up to {} mbufs per worker; the pools were "
                                          "sized at start for {}: restart to change that",
                                          needs.kept, started_needs_.kept));
        if (needs.writes && !started_needs_.writes)
            throw ConfigError("the new graph changes or keeps packets and the running one does not: restart to "
                              "give packets memory of their own");
        for (auto& w : workers_)
            next.push_back(std::make_unique<graph::Runtime>(plan, std::move(instances[w->index]), *w->source));
    } catch (const std::exception& e) {
        spdlog::warn("reload refused, the running graph stays:");
        report_error(e);
        return;
    }
    std::lock_guard guard(control_);
    for (size_t i = 0; i < workers_.size(); i++) workers_[i]->next.store(next[i].get(), std::memory_order_release);
    for (auto& w : workers_) {
        // The main lcore is between two of its walks here.
        if (w->lcore == rte_get_main_lcore()) w->switch_if_asked();
        while (w->next.load(std::memory_order_acquire) != nullptr) {
            // A worker that stopped meanwhile switches no more; the graph
            // is taken over here, where nothing walks it.
            if (w->finished.load(std::memory_order_acquire)) {
                w->switch_if_asked();
                break;
            }
            std::this_thread::sleep_for(std::chrono::microseconds(100));
        }
    }
    // The previous graphs are walked no more: close what they did not hand on.
    std::vector<graph::Runtime*> previous;
    for (auto& w : workers_) previous.push_back(w->runtime.get());
    try {
        graph::finish(previous);
    } catch (const std::exception& e) {
        report_error(e);
    }
    for (size_t i = 0; i < workers_.size(); i++) workers_[i]->runtime = std::move(next[i]);
    spdlog::info("reloaded {}", options_.config_file.empty() ? "the command-line pipelines" : options_.config_file);
}

}  // namespace sl::core
