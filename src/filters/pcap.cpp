// pcap "FILE": writes the packets to a nanosecond pcap file (relative paths go
// under the output folder) and passes them on.
#include <sl/pcap_sink.hpp>

namespace {

class Pcap final : public sl::PcapSink {
public:
    explicit Pcap(sl::FilterContext& ctx) : PcapSink(ctx, checked_path(ctx)) {}

private:
    static std::string checked_path(sl::FilterContext& ctx) {
        const sl::Arg* file = nullptr;
        sl::ArgReader(ctx.args()).positional("file name", file).complete();
        if (file->value.empty()) ctx.args().fail(*file, "the file name is empty");
        return file->value;
    }
};

}  // namespace

SL_REGISTER_FILTER(Pcap, sl::FilterType{.name = "pcap",
                                        .access = sl::Access::metadata,
                                        .flags = sl::kSink | sl::kSharedByArgs | sl::kNoParse,
                                        .summary = "write packets to a pcap file (pcapng if FILE ends in .pcapng)",
                                        .usage = "pcap \"FILE\"",
                                        .drops = "write_error"})
