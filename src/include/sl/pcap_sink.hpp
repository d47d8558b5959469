// A sink filter that writes every packet it sees to a pcap file, keeping the
// capture's timestamps and wire lengths, and passes the packets on.
//
// In sl-forward, worker N of several writes NAME-wN.EXT. In sl-replay the
// file is the one a one-worker run writes: several workers write it
// together while they run, each packet taking its place in the input's
// order; where branches join before the sink (a packet may come once per
// branch), each worker writes a part beside the file, with each packet's
// place, and the parts are merged when the run ends.
#pragma once

#include <memory>
#include <span>
#include <string>

#include <sl/filter.hpp>

namespace sl {

class PcapSink : public Filter {
public:
    // Creates (truncates) the file now, so that a path that cannot be
    // written is a configuration error. Throws sl::RuntimeError.
    PcapSink(FilterContext& ctx, const std::string& path);
    ~PcapSink() override;

    void process(Burst& burst) noexcept override;
    void finish() override;
    // sl-replay with several workers: the end of the shared file, or the
    // merge of the parts.
    void merge_workers(std::span<Filter* const> instances) override;

    // NAME-wN.EXT for worker N when several workers write files of their own.
    static std::string per_worker(const FilterContext& ctx, const std::string& path);

private:
    struct Output;
    std::unique_ptr<Output> out_;
};

}  // namespace sl
