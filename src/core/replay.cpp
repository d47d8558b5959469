#include "core/replay.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <thread>

#include <fmt/format.h>
#include <pcap/pcap.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <spdlog/spdlog.h>

#include "core/diagnostics.hpp"
#include "core/ports.hpp"
#include "io/capture_reader.hpp"
#include "packet/flow_hash.hpp"
#include "packet/parser.hpp"
#include "sdk/link_type.hpp"
#include "shadow/imported_region.hpp"

namespace sl::core {
namespace {

// Everything in flight is released by the end of each walk (one burst through
// the whole graph), so a worker needs one burst plus its lcore's cache plus
// room for chains: a 256 KiB record copied into 2 KiB segments takes 128. When
// a burst of such records runs the pool dry, the source ends the burst early
// and the next walk continues; a bigger pool would only cost start-up time.
constexpr unsigned kReplayPoolSize = 2047;
// How far ahead of the records being read prefetch asks the kernel for the
// file: enough for the disk to stream while the graph works.
constexpr uint64_t kPrefetchReadAhead = 64u << 20;

uint32_t flow_hash(const uint8_t* data, uint32_t captured, int dlt) noexcept {
    return packet::flow_hash(data, captured, captured, dlt);
}

uint32_t flow_hash_by_addresses(const uint8_t* data, uint32_t captured, int dlt) noexcept {
    return packet::flow_hash(data, captured, captured, dlt, false);
}

// "1234 packets, 2.5 Mpps, 40%, ETA 3 s" on a terminal, rewritten in place.
class ProgressLine {
public:
    explicit ProgressLine(bool enabled) : enabled_(enabled), start_(std::chrono::steady_clock::now()) {}
    void update(uint64_t packets, double fraction) {
        if (!enabled_) return;
        auto now = std::chrono::steady_clock::now();
        if (now - last_ < std::chrono::milliseconds(500)) return;
        last_ = now;
        double elapsed = std::chrono::duration<double>(now - start_).count();
        double rate = elapsed > 0 ? double(packets) / elapsed / 1e6 : 0.0;
        // A followed capture has no end to be a fraction of.
        if (fraction < 0) {
            std::fprintf(stderr, "\r%llu packets, %.2f Mpps, following   ", (unsigned long long)packets, rate);
        } else {
            double eta = fraction > 0 ? elapsed * (1 - fraction) / fraction : 0;
            std::fprintf(stderr, "\r%llu packets, %.2f Mpps, %3.0f%%, ETA %.0f s   ", (unsigned long long)packets,
                         rate, fraction * 100, eta);
        }
        shown_ = true;
    }
    void clear() {
        if (shown_) std::fprintf(stderr, "\r%60s\r", "");
        shown_ = false;
    }

private:
    bool enabled_;
    bool shown_ = false;
    std::chrono::steady_clock::time_point start_, last_{};
};

// A followed capture: a capture program writes the file's header with its
// first buffer of records, so the file may not hold a whole header yet
// (pcap's 24 bytes, pcapng's section and first interface). While libpcap
// cannot open a file that more bytes could make whole, wait, saying why
// once. Anything else (a file that is not there, not a capture, one that
// cannot be read) is an error at once, as for `tail -f`.
constexpr off_t kLargestHeader = 64 << 10;

bool header_may_be_coming(const std::string& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return false;
    if (st.st_size < 24) return true;
    // A pcapng section and its interfaces may take more.
    uint8_t magic[4] = {};
    FILE* f = std::fopen(path.c_str(), "rb");
    if (!f) return false;
    bool pcapng = std::fread(magic, 1, 4, f) == 4 && magic[0] == 0x0a && magic[1] == 0x0d && magic[2] == 0x0d &&
                  magic[3] == 0x0a;
    std::fclose(f);
    return pcapng && st.st_size < kLargestHeader;
}

std::unique_ptr<io::CaptureReader> open_followed(const std::string& path, bool quiet) {
    bool said = false;
    while (true) {
        bool small = header_may_be_coming(path);
        try {
            auto reader = std::make_unique<io::CaptureReader>(path);
            reader->follow();
            return reader;
        } catch (const RuntimeError& e) {
            if (!small) throw;
            if (!said && !quiet) spdlog::info("waiting for a whole capture header ({})", e.what());
            said = true;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
}

// As the file's header says it, in libpcap's words: "EN10MB (Ethernet)".
std::string link_type_name(const io::CaptureReader& r) { return sl::link_type_name(r.dlt()); }

class CaptureIo final : public PacketIo {
public:
    explicit CaptureIo(const ReplayOptions& options)
        : options_(options), progress_(options.session.verbosity >= 0 && isatty(STDERR_FILENO)) {}

    // The captures: libpcap's reason in one line when one cannot be read.
    void open() override {
        for (const auto& path : options_.captures)
            readers_.push_back(options_.follow ? open_followed(path, options_.session.verbosity < 0)
                                               : std::make_unique<io::CaptureReader>(path));
        const io::CaptureReader& first = *readers_[0];
        for (const auto& r : readers_)
            if (r->dlt() != first.dlt())
                throw ConfigError(fmt::format("{} is {} and {} is {}: captures of different link types cannot be "
                                              "replayed together; replay them separately",
                                              first.path(), link_type_name(first), r->path(),
                                              link_type_name(*r)));
    }

    // One lcore per CPU this process may use, or --workers of them.
    void configure_eal(EalConfig& eal) const override {
        if (unsigned cpus = allowed_cpu_count(); options_.workers > cpus && options_.session.verbosity >= 0)
            spdlog::warn("--workers {}: this process may run on {} CPU{}; workers will take turns", options_.workers,
                         cpus, cpus == 1 ? "" : "s");
        eal.all_cpus = true;
        eal.max_lcores = options_.workers;
    }

    // Every lcore walks a graph, the main lcore first.
    std::vector<unsigned> worker_lcores() const override {
        std::vector<unsigned> lcores;
        unsigned lcore;
        RTE_LCORE_FOREACH(lcore) lcores.push_back(lcore);
        if (options_.workers > lcores.size())
            throw ConfigError(fmt::format("--workers {}: the EAL has {} lcore{} (-l)", options_.workers, lcores.size(),
                                          lcores.size() == 1 ? "" : "s"));
        if (options_.workers > 0) lcores.resize(options_.workers);
        // `tx N` on a port: each worker sends on a transmit queue of its own.
        uint16_t port;
        RTE_ETH_FOREACH_DEV(port) {
            rte_eth_dev_info info{};
            if (rte_eth_dev_info_get(port, &info) == 0 && info.max_tx_queues > 0 && info.max_tx_queues < lcores.size()) {
                if (options_.workers > info.max_tx_queues)
                    throw ConfigError(fmt::format("--workers {}: port {} has {} transmit queue{}, one per worker",
                                                  options_.workers, port, info.max_tx_queues,
                                                  info.max_tx_queues == 1 ? "" : "s"));
                lcores.resize(info.max_tx_queues);
            }
        }
        return lcores;
    }

    unsigned input_count() const override { return static_cast<unsigned>(readers_.size()); }
    bool live() const override { return false; }

    void describe(graph::WorkerContext& worker) const override {
        worker.dlt = readers_[0]->dlt();
        worker.linktype = readers_[0]->linktype();
        worker.byte_swapped = readers_[0]->byte_swapped();
        // Outputs keep the inputs' largest snap length; records longer than
        // their file's snap length are cut to it, as libpcap cuts them.
        worker.snaplen = 0;
        for (const auto& r : readers_) worker.snaplen = std::max(worker.snaplen, r->snaplen());
        worker.largest_packet = io::CaptureReader::kMaxSnaplen;
        // `tx N` sends on port N when the EAL has one; worker w owns queue w.
        worker.tx_queues.assign(rte_eth_dev_count_avail(), static_cast<int>(worker.worker));
    }

    void start(unsigned workers, const io::PacketNeeds& needs, const std::atomic<bool>* stop) override {
        // What filters keep past a walk (defrag's fragments) comes on top.
        unsigned pool_size = kReplayPoolSize + needs.kept;
        if (rte_eth_dev_count_avail() > 0) {
            PortOptions port_options;
            port_options.workers = workers;
            ports_ = std::make_unique<Ports>(port_options);
            // The transmit rings keep what they send until the NIC is done.
            pool_size += rte_eth_dev_count_avail() * port_options.tx_descriptors;
        }
        // A NIC sends from mbuf memory of its own, and a filter that writes
        // needs bytes of its own. Otherwise every policy reads the records
        // where the readers put them (the imported segment); prefetch also
        // asks the kernel for the file further ahead.
        io::CaptureSourceOptions source_options;
        source_options.mode = needs.writes || ports_ ? io::RecordMode::copy : io::RecordMode::attach;
        source_options.pacing = options_.pacing;
        source_options.segment_bytes = options_.segment_bytes;
        source_options.needs = needs;
        // Sinks write their files in the input's order, whoever read the
        // packet and whichever way it came.
        source_options.needs.sequence = true;
        // A pool per worker: a graph's burst is as large as a pool's cache,
        // so allocations reach the pool's ring, and a shared ring would hand
        // each worker mbufs that another CPU touched last.
        for (unsigned w = 0; w < workers; w++)
            pools_.push_back(std::make_unique<io::RecordPool>(workers == 1 ? "sl_replay" : fmt::format("sl_replay_w{}", w),
                                                              pool_size, static_cast<int>(rte_socket_id()),
                                                              source_options.mode));
        if (source_options.mode == io::RecordMode::attach)
            for (auto& r : readers_) {
                imported_.push_back(
                    std::make_unique<shadow::ImportedRegion>(r->buffers(), io::CaptureReader::kBuffersSize));
                spdlog::debug("{}: {}", r->path(), imported_.back()->why());
            }
        if (options_.session.shadow.policy.policy == shadow::Policy::prefetch)
            for (auto& r : readers_) r->set_read_ahead(kPrefetchReadAhead);
        feed_ = std::make_unique<io::RecordFeed>(readers_, options_.loops, workers, readers_[0]->dlt(),
                                               needs.deal_by_addresses ? flow_hash_by_addresses : flow_hash);
        for (unsigned w = 0; w < workers; w++)
            sources_.push_back(std::make_unique<io::CaptureSource>(*feed_, w, pools_[w]->get(), source_options, stop));
    }

    io::Source& source(unsigned worker) override { return *sources_[worker]; }

    void tick(Session&, double) override {
        uint64_t packets = 0;
        for (const auto& s : sources_) packets += s->packets();
        progress_.update(packets, options_.follow ? -1.0 : feed_->progress());
    }
    void stopped(Session&) override { progress_.clear(); }

    unsigned close(RunReport& report) noexcept override {
        unsigned in_use = 0;
        if (ports_) in_use += close_and_report(*ports_, report);
        for (const auto& pool : pools_) {
            unsigned replay_in_use = rte_mempool_in_use_count(pool->get());
            report.pools.push_back({pool->get()->name, pool->get()->size, replay_in_use});
            in_use += replay_in_use;
        }
        if (feed_) error_ = feed_->error();
        // Before the EAL stops: the devices and the pool, then the capture
        // buffers that mbufs pointed into.
        sources_.clear();
        feed_.reset();
        ports_.reset();
        pools_.clear();
        imported_.clear();
        return in_use;
    }

    std::string error() const override { return error_; }

private:
    const ReplayOptions& options_;
    std::vector<std::unique_ptr<io::CaptureReader>> readers_;
    std::unique_ptr<Ports> ports_;  // when the EAL has ports, `tx N` sends on them
    std::vector<std::unique_ptr<io::RecordPool>> pools_;  // one per worker
    std::vector<std::unique_ptr<shadow::ImportedRegion>> imported_;
    std::unique_ptr<io::RecordFeed> feed_;
    std::vector<std::unique_ptr<io::CaptureSource>> sources_;
    ProgressLine progress_;
    std::string error_;
};

}  // namespace

int run_replay(const ReplayOptions& options, const char* program) {
    CaptureIo io(options);
    Session session(options.session, io, program);
    return session.run();
}

}  // namespace sl::core
