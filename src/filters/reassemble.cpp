// reassemble: puts each TCP connection's bytes in order, per direction, and
// gives every packet the chunk of its stream that it made contiguous, for
// the stream filters after it (streams, ...). It passes every packet.
//
//   rx | bpf "tcp" | reassemble | streams "flows/"
//
// In-order bytes are never copied (the chunk points into the packet);
// out-of-order bytes are copied once into a bounded pool and their packets
// go on. Overlaps keep the bytes that came first. Gaps held past the bounds
// are given up (stream_gap) and the stream goes on. depth=BYTES keeps the
// first BYTES of each direction (the rest counted as stream_depth_bytes):
//
//   rx | reassemble depth=4096 | streams "heads/"
#include <sl/filter.hpp>
#include <sl/stream.hpp>

namespace {

class Reassemble final : public sl::Filter {
public:
    explicit Reassemble(sl::FilterContext& ctx) : streams_(ctx, config_of(ctx)) {}
    void process(sl::Burst& burst) noexcept override { streams_.process(burst); }
    void finish() override { streams_.end_all(); }

private:
    static sl::TcpStreamsConfig config_of(sl::FilterContext& ctx) {
        sl::TcpStreamsConfig c;
        uint64_t idle_s = c.flows.idle_timeout_ns / 1'000'000'000;
        uint64_t pool_kib = c.held_total / 1024;
        uint64_t hold_ms = c.hold_ns / 1'000'000;
        sl::ArgReader(ctx.args())
            .option("flows", c.flows.capacity, 64, 1u << 26)
            .option("idle", idle_s, 1, 86400)
            .option("held", c.held_bytes, 2048, 1u << 30)
            .option("segments", c.held_segments, 1, 65535)
            .option("pool", pool_kib, 64, 64ull << 20)
            .option("depth", c.depth, 1)
            .option("mbufs", c.held_mbufs, 1, 1u << 20)
            .option("hold", hold_ms, 1, 3'600'000)
            .complete();
        c.flows.idle_timeout_ns = idle_s * 1'000'000'000;
        c.held_total = pool_kib * 1024;
        c.hold_ns = hold_ms * 1'000'000;
        // Held bytes follow the shadow policy where packets live in NIC
        // buffers: zero-copy holds the mbufs, hybrid holds them until they
        // wait too long or the pool runs low, and copy-once copies at once.
        // sl-replay copies: its records live in the reader's buffers, and a
        // replay waits for mbufs rather than dropping packets.
        if (ctx.live() && ctx.shadow_policy() == sl::ShadowPolicy::zero_copy) c.hold = sl::TcpStreamsConfig::Hold::reference;
        if (ctx.live() && ctx.shadow_policy() == sl::ShadowPolicy::hybrid)
            c.hold = sl::TcpStreamsConfig::Hold::reference_then_copy;
        if (ctx.ways_in() > 1) throw sl::ConfigError("reassemble must see each packet once: put it before branches join");
        return c;
    }

    sl::TcpStreams streams_;
};

}  // namespace

SL_REGISTER_FILTER(Reassemble,
                   sl::FilterType{.name = "reassemble",
                                  .access = sl::Access::headers,
                                  .flags = sl::kMakesStreams,
                                  .summary = "put each TCP connection's bytes in order, per direction, for stream filters",
                                  .usage = "reassemble [flows=N] [idle=SECONDS] [held=BYTES] [segments=N] [pool=KIB] [depth=BYTES] [mbufs=N] [hold=MS]",
                                  .drops = ""})
