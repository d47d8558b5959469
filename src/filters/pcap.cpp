// pcap "FILE": writes the packets to a nanosecond pcap file (relative paths go
// under the output folder) and passes them on.
#include <sl/pcap_sink.hpp>

namespace {

class Pcap final : public sl::PcapSink {
public:
    explicit Pcap(sl::FilterContext& ctx) : PcapSink(ctx, checked_path(ctx)) {}

private:
    static std::string checked_path(sl::FilterContext& ctx) {
        ctx.args().expect(1, 1);
        std::string path = ctx.args().string_at(0, "file name");
        if (path.empty()) ctx.args().fail(*ctx.args().positional(0), "the file name is empty");
        return path;
    }
};

}  // namespace

SL_REGISTER_FILTER(Pcap, "pcap", sl::Access::metadata, sl::kSink | sl::kSharedByArgs,
                   "write packets to a pcap file", "pcap \"FILE\"")
