// tx N: sends the packets out of DPDK port N. When the EAL has no port N (a
// replay without --vdev), port N is the file OUTDIR/tx-N.pcap instead, so
// that one configuration serves live and offline.
#include <rte_ethdev.h>

#include <vector>

#include <fmt/format.h>

#include <sl/pcap_sink.hpp>

namespace {

// How often a full transmit ring is offered the rest of a burst before those
// packets are dropped as tx_full: enough to ride out a NIC that is briefly
// behind, bounded so that a stuck port cannot stall the worker.
constexpr int kTxAttempts = 8;

class Tx final : public sl::Filter {
public:
    explicit Tx(sl::FilterContext& ctx)
        : port_(port_of(ctx)), queue_(ctx.tx_queue(port_)), sent_(ctx.counter("sent")),
          tx_full_(ctx.drop_reason("tx_full")) {
        ctx.info("port", port_);
        if (queue_ >= 0) return;
        if (ctx.live()) {
            uint16_t ports = rte_eth_dev_count_avail();
            ctx.args().fail(*ctx.args().positional(0),
                            ports == 0 ? fmt::format("there is no DPDK port {}", port_)
                                       : fmt::format("there is no DPDK port {} (ports 0 to {})", port_, ports - 1));
        }
        // A file keeps each packet's time stamp and wire length.
        ctx.set_access(sl::Access::metadata);
        file_ = std::make_unique<sl::PcapSink>(ctx, fmt::format("tx-{}.pcap", port_));
    }

    void process(sl::Burst& burst) noexcept override {
        if (file_) return file_->process(burst);
        uint16_t n = burst.size();
        // The transmit ring frees what it sends: it gets a reference to
        // each packet, and says how many it took.
        rte_mbuf** out = burst.hand_over();
        uint16_t sent = 0;
        for (int attempt = 0; attempt < kTxAttempts && sent < n; attempt++)
            sent += rte_eth_tx_burst(port_, static_cast<uint16_t>(queue_), out + sent, n - sent);
        burst.taken(sent, tx_full_);
        sent_ += sent;
    }

    void finish() override {
        if (file_) file_->finish();
    }

    // sl-replay's workers each wrote a part of the file: the merge.
    void merge_workers(std::span<sl::Filter* const> instances) override {
        if (!file_) return;
        std::vector<sl::Filter*> files;
        for (sl::Filter* f : instances) files.push_back(static_cast<Tx*>(f)->file_.get());
        file_->merge_workers(files);
    }

private:
    static uint16_t port_of(sl::FilterContext& ctx) {
        uint16_t port = 0;
        sl::ArgReader(ctx.args()).positional("port", port, 0, RTE_MAX_ETHPORTS - 1).complete();
        return port;
    }

    uint16_t port_;
    int queue_;
    uint64_t& sent_;
    sl::DropReason tx_full_;
    std::unique_ptr<sl::PcapSink> file_;
};

}  // namespace

SL_REGISTER_FILTER(Tx, sl::FilterType{.name = "tx",
                                      .access = sl::Access::none,
                                      .flags = sl::kSink | sl::kSharedByArgs | sl::kNoParse,
                                      .summary = "send packets out of port N (in replay without ports: OUTDIR/tx-N.pcap)",
                                      .usage = "tx N",
                                      .drops = "tx_full,write_error"})
