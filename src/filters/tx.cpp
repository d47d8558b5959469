// tx N: sends the packets out of port N. Replaying a capture, port N is the
// file OUTDIR/tx-N.pcap, so that one configuration serves live and offline.
#include <fmt/format.h>

#include <sl/pcap_sink.hpp>

namespace {

class Tx final : public sl::PcapSink {
public:
    explicit Tx(sl::FilterContext& ctx) : PcapSink(ctx, path_for(ctx)) {}

private:
    static std::string path_for(sl::FilterContext& ctx) {
        ctx.args().expect(1, 1);
        return fmt::format("tx-{}.pcap", ctx.args().uint_at(0, "port", 0, 65535));
    }
};

}  // namespace

SL_REGISTER_FILTER(Tx, "tx", sl::Access::payload, sl::kSink | sl::kSharedByArgs,
                   "send packets out of port N (in replay: OUTDIR/tx-N.pcap)", "tx N")
