#include "core/replay.hpp"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <memory>

#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <spdlog/spdlog.h>

#include "core/diagnostics.hpp"
#include "core/ports.hpp"
#include "io/capture_reader.hpp"
#include "packet/parser.hpp"
#include "shadow/imported_region.hpp"

namespace sl::core {
namespace {

// Everything in flight is released by the end of each walk (one burst through
// the whole graph), so the pool needs one burst plus the per-lcore cache plus
// room for chains: a 256 KiB record copied into 2 KiB segments takes 128. When
// a burst of such records runs the pool dry, the source ends the burst early
// and the next walk continues; a bigger pool would only cost start-up time.
constexpr unsigned kReplayPoolSize = 2047;
// How far ahead of the records being read prefetch asks the kernel for the
// file: enough for the disk to stream while the graph works.
constexpr uint64_t kPrefetchReadAhead = 64u << 20;

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
        double eta = fraction > 0 ? elapsed * (1 - fraction) / fraction : 0;
        std::fprintf(stderr, "\r%llu packets, %.2f Mpps, %3.0f%%, ETA %.0f s   ", (unsigned long long)packets,
                     elapsed > 0 ? double(packets) / elapsed / 1e6 : 0.0, fraction * 100, eta);
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

class CaptureIo final : public PacketIo {
public:
    explicit CaptureIo(const ReplayOptions& options)
        : options_(options), progress_(options.session.verbosity >= 0 && isatty(STDERR_FILENO)) {}

    // The captures: libpcap's reason in one line when one cannot be read.
    void open() override {
        for (const auto& path : options_.captures) readers_.push_back(std::make_unique<io::CaptureReader>(path));
        const io::CaptureReader& first = *readers_[0];
        for (const auto& r : readers_)
            if (r->dlt() != first.dlt())
                throw RuntimeError(fmt::format("{} and {} have different link types ({} and {}); replay them separately",
                                               first.path(), r->path(), first.dlt(), r->dlt()));
        if (!packet::link_type_supported(first.dlt()) && options_.session.verbosity >= 0)
            spdlog::warn("link type {} is not parsed; filters see raw frames only", first.dlt());
    }

    void configure_eal(EalConfig&) const override {}
    std::vector<unsigned> worker_lcores() const override { return {rte_get_main_lcore()}; }
    unsigned input_count() const override { return static_cast<unsigned>(readers_.size()); }
    bool live() const override { return false; }

    void describe(graph::WorkerContext& worker) const override {
        worker.dlt = readers_[0]->dlt();
        worker.linktype = readers_[0]->linktype();
        worker.largest_packet = io::CaptureReader::kMaxSnaplen;
        // `tx N` sends on port N when the EAL has one.
        worker.tx_queues.assign(rte_eth_dev_count_avail(), 0);
    }

    void start(unsigned, const io::PacketNeeds& needs, const std::atomic<bool>* stop) override {
        unsigned pool_size = kReplayPoolSize;
        if (rte_eth_dev_count_avail() > 0) {
            PortOptions port_options;
            ports_ = std::make_unique<Ports>(port_options);
            // The transmit rings keep what they send until the NIC is done.
            pool_size += rte_eth_dev_count_avail() * port_options.tx_descriptors;
        }
        // A NIC sends from mbuf memory of its own, and a filter that writes
        // needs bytes of its own. Otherwise every policy reads the records
        // where the readers put them (the imported segment); prefetch also
        // asks the kernel for the file further ahead.
        io::RecordMode mode = needs.writes || ports_ ? io::RecordMode::copy : io::RecordMode::attach;
        pool_ = std::make_unique<io::RecordPool>("sl_replay", pool_size, static_cast<int>(rte_socket_id()), mode);
        if (mode == io::RecordMode::attach)
            for (auto& r : readers_) {
                imported_.push_back(
                    std::make_unique<shadow::ImportedRegion>(r->buffers(), io::CaptureReader::kBuffersSize));
                spdlog::debug("{}: {}", r->path(), imported_.back()->why());
            }
        if (options_.session.shadow.policy.policy == shadow::Policy::prefetch)
            for (auto& r : readers_) r->set_read_ahead(kPrefetchReadAhead);
        source_ = std::make_unique<io::CaptureSource>(readers_, pool_->get(), mode, options_.pacing, options_.loops,
                                                      stop, options_.segment_bytes, needs);
    }

    io::Source& source(unsigned) override { return *source_; }

    void tick(Session&, double) override { progress_.update(source_->packets(), source_->progress()); }
    void stopped(Session&) override { progress_.clear(); }

    unsigned close(RunReport& report) noexcept override {
        unsigned in_use = 0;
        if (ports_) in_use += close_and_report(*ports_, report);
        if (pool_) {
            unsigned replay_in_use = rte_mempool_in_use_count(pool_->get());
            report.pools.push_back({"sl_replay", pool_->get()->size, replay_in_use});
            in_use += replay_in_use;
        }
        if (source_) error_ = source_->error();
        // Before the EAL stops: the devices and the pool, then the capture
        // mappings that mbufs pointed into.
        source_.reset();
        ports_.reset();
        pool_.reset();
        imported_.clear();
        return in_use;
    }

    std::string error() const override { return error_; }

private:
    const ReplayOptions& options_;
    std::vector<std::unique_ptr<io::CaptureReader>> readers_;
    std::unique_ptr<Ports> ports_;  // when the EAL has ports, `tx N` sends on them
    std::unique_ptr<io::RecordPool> pool_;
    std::vector<std::unique_ptr<shadow::ImportedRegion>> imported_;
    std::unique_ptr<io::CaptureSource> source_;
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
