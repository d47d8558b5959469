// A sink filter that writes every packet it sees to a pcap file, keeping the
// capture's timestamps and wire lengths, and passes the packets on.
#pragma once

#include <memory>
#include <string>

#include <sl/filter.hpp>
#include <sl/pcap_writer.hpp>

namespace sl {

class PcapSink : public Filter {
public:
    PcapSink(FilterContext& ctx, const std::string& path)
        : writer_(std::make_unique<PcapWriter>(ctx.output_path(per_worker(ctx, path)), ctx.capture_linktype())),
          written_(ctx.counter("written")), write_error_(ctx.drop_reason("write_error")) {}

    void process(Burst& burst) noexcept override {
        // A writer that failed refuses every packet after that: what went in
        // is the burst's first packets.
        uint16_t n = 0;
        while (n < burst.size() && writer_->write(burst[n], timestamp_ns(burst[n]), meta(burst[n]).wire_len)) n++;
        written_ += n;
        burst.taken(n, write_error_);
    }

    void finish() override { writer_->close(); }

    // Workers do not share a file: with several, worker N writes NAME-wN.EXT.
    static std::string per_worker(const FilterContext& ctx, const std::string& path) {
        if (ctx.worker_count() <= 1) return path;
        std::string suffix = "-w" + std::to_string(ctx.worker_index());
        size_t slash = path.rfind('/');
        size_t dot = path.rfind('.');
        if (dot == std::string::npos || (slash != std::string::npos && dot < slash) || dot == 0)
            return path + suffix;
        return path.substr(0, dot) + suffix + path.substr(dot);
    }

private:
    std::unique_ptr<PcapWriter> writer_;
    uint64_t& written_;
    DropReason write_error_;
};

}  // namespace sl
