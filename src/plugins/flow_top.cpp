// flow_top: a stateful plugin built on the SDK's flow table. It counts
// packets and bytes per flow and direction (sl::FlowTable: one table per
// worker, both directions of a connection in one flow), passes every
// packet, and at the end writes the flow directions with the most packets,
// merged over the workers:
//
//   rx | flow_top top=10 flows=65536 file="flows.txt" | tx 1
//
// Packets without ports (ICMP, later fragments, non-IP) are counted as
// no_ports. The table's counters say how flows ended (flow_idle,
// flow_evicted, ...); an ended flow's counts are kept for the list, up to
// twice the table's size (then counted as forgotten). Each worker's
// instance owns its table: no lock and no shared cache line on the hot
// path. At the end the runtime hands one instance all of them
// (merge_workers), which adds their counts and writes the top list.
#include <algorithm>
#include <arpa/inet.h>
#include <cstdio>
#include <cstring>
#include <map>
#include <span>
#include <string>
#include <vector>

#include <sl/filter.hpp>
#include <sl/flow.hpp>

namespace {

struct Counts {
    uint64_t packets[2];  // by direction: [0] as the flow's first packet went
    uint64_t bytes[2];
};

struct Ended {
    sl::FlowEndpoints endpoints;
    Counts counts;
};

class FlowTop final : public sl::Filter {
public:
    explicit FlowTop(sl::FilterContext& ctx)
        : node_(ctx.node_name()), no_ports_(ctx.counter("no_ports")), forgotten_(ctx.counter("forgotten")),
          flows_(ctx, config_of(ctx, *this)) {
        ended_.reserve(2 * static_cast<size_t>(flows_.capacity()));
    }

    void process(sl::Burst& burst) noexcept override {
        sl::Flow flow[sl::kMaxBurst];
        for (uint16_t i = 0, end; i < burst.size();)
            for (end = flows_.lookup(burst, flow, i); i < end; i++) {
                if (flow[i].id == sl::kNoFlow) {  // no ports, or no room (the table counts that)
                    no_ports_ += !sl::has_ports(burst[i]);
                    continue;
                }
                Counts* c = flows_.slot<Counts>(flow[i].id);
                c->packets[flow[i].direction]++;
                c->bytes[flow[i].direction] += sl::meta(burst[i]).wire_len;
            }
    }

    // The flows still in the table end here, so that ended_ holds them all.
    void finish() override { flows_.end_all(); }

    // Every worker's instance of this node, this one among them.
    void merge_workers(std::span<sl::Filter* const> instances) override {
        // A flow lives on one worker when RSS spreads by flow; adding keeps
        // the figures right when it does not, and adds up the connections
        // that one pair of endpoints made one after another.
        std::map<std::string, std::pair<uint64_t, uint64_t>> merged;
        for (sl::Filter* instance : instances)
            for (const Ended& e : static_cast<FlowTop*>(instance)->ended_)
                for (unsigned d = 0; d < 2; d++) {
                    if (!e.counts.packets[d]) continue;
                    auto& [packets, bytes] = merged[describe(e.endpoints, d)];
                    packets += e.counts.packets[d];
                    bytes += e.counts.bytes[d];
                }
        std::vector<std::pair<std::string, std::pair<uint64_t, uint64_t>>> rows(merged.begin(), merged.end());
        std::stable_sort(rows.begin(), rows.end(),
                         [](const auto& a, const auto& b) { return a.second.first > b.second.first; });
        if (rows.size() > top_) rows.resize(top_);
        FILE* out = file_.empty() ? stdout : std::fopen(file_.c_str(), "w");
        if (!out) throw sl::RuntimeError(file_ + ": " + std::strerror(errno));
        std::fprintf(out, "%s: %zu flows, top %zu by packets\n%12s %14s  %s\n", node_.c_str(), merged.size(),
                     rows.size(), "packets", "bytes", "flow");
        for (const auto& [flow, c] : rows)
            std::fprintf(out, "%12llu %14llu  %s\n", static_cast<unsigned long long>(c.first),
                         static_cast<unsigned long long>(c.second), flow.c_str());
        if (out != stdout && std::fclose(out) != 0) throw sl::RuntimeError(file_ + ": " + std::strerror(errno));
    }

private:
    // Reads the arguments; the table's own settings come back for flows_.
    static sl::FlowTableConfig config_of(sl::FilterContext& ctx, FlowTop& self) {
        sl::FlowTableConfig c;
        std::string file;
        sl::ArgReader(ctx.args())
            .option("top", self.top_, 1, 10000)
            .option("flows", c.capacity, 64, 1u << 24)
            .option("file", file)
            .complete();
        if (!file.empty()) self.file_ = ctx.output_path(file);
        c.slot_bytes = sizeof(Counts);
        c.on_end = &FlowTop::ended;
        c.user = &self;
        c.ports_only = true;
        return c;
    }

    // Called by the table, on the hot path: no allocation past the
    // capacity reserved at the start.
    static void ended(void* user, uint32_t id, void* slot, sl::FlowEnd) {
        auto* self = static_cast<FlowTop*>(user);
        const auto* counts = static_cast<const Counts*>(slot);
        if (self->ended_.size() == self->ended_.capacity()) {
            self->forgotten_++;
            return;
        }
        self->ended_.push_back({self->flows_.endpoints(id), *counts});
    }

    // "tcp 10.0.0.1:4000 > 10.0.0.2:80", or with [] around IPv6 addresses:
    // direction d's packets went from endpoint d to the other.
    static std::string describe(const sl::FlowEndpoints& ep, unsigned d) {
        char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN];
        int family = ep.ipv6 ? AF_INET6 : AF_INET;
        inet_ntop(family, ep.addr[d], src, sizeof(src));
        inet_ntop(family, ep.addr[1 - d], dst, sizeof(dst));
        const char* proto = ep.proto == 6 ? "tcp" : ep.proto == 17 ? "udp" : ep.proto == 132 ? "sctp" : "ip";
        char text[128];
        if (ep.ipv6)
            std::snprintf(text, sizeof(text), "%s [%s]:%u > [%s]:%u", proto, src, ep.port[d], dst, ep.port[1 - d]);
        else
            std::snprintf(text, sizeof(text), "%s %s:%u > %s:%u", proto, src, ep.port[d], dst, ep.port[1 - d]);
        return text;
    }

    std::string node_;
    uint64_t top_ = 10;
    std::string file_;
    uint64_t& no_ports_;
    uint64_t& forgotten_;
    sl::FlowTable flows_;
    std::vector<Ended> ended_;
};

}  // namespace

SL_REGISTER_FILTER(FlowTop, sl::FilterType{.name = "flow_top",
                                           .access = sl::Access::headers,
                                           .summary = "count packets per flow, write the top flows at the end",
                                           .usage = "flow_top [top=N] [flows=N] [file=PATH]"})
