// flow_top: a stateful plugin with per-lcore state. It counts packets and
// bytes per flow (addresses, ports and protocol, as the packet travels) in a
// DPDK hash table of its own on each worker, passes every packet, and at the
// end writes the flows with the most packets, merged over the workers:
//
//   rx | flow_top top=10 flows=65536 file="flows.txt" | tx 1
//
// Packets without ports (ICMP, later fragments, non-IP) are counted as
// no_ports; a full table counts table_full. Each worker's instance owns its
// table: no lock and no shared cache line on the hot path. At the end the
// runtime hands one instance all of them (merge_workers), which adds their
// tables and writes the top list.
#include <rte_hash.h>
#include <rte_jhash.h>

#include <algorithm>
#include <arpa/inet.h>
#include <cstdio>
#include <cstring>
#include <map>
#include <span>
#include <string>
#include <vector>

#include <sl/filter.hpp>

namespace {

struct FlowKey {
    uint8_t src[16];  // IPv4 addresses in the first 4 bytes
    uint8_t dst[16];
    uint16_t sport;
    uint16_t dport;
    uint8_t proto;
    uint8_t ipv6;
    uint8_t pad[2];
};
static_assert(sizeof(FlowKey) == 40);

struct FlowCount {
    uint64_t packets = 0;
    uint64_t bytes = 0;
};

class FlowTop final : public sl::Filter {
public:
    explicit FlowTop(sl::FilterContext& ctx)
        : node_(ctx.node_name()), no_ports_(ctx.counter("no_ports")), table_full_(ctx.counter("table_full")),
          flows_(ctx.counter("flows")) {
        uint64_t capacity = 65536;
        std::string file;
        sl::ArgReader(ctx.args())
            .option("top", top_, 1, 10000)
            .option("flows", capacity, 64, 1u << 24)
            .option("file", file)
            .complete();
        if (!file.empty()) file_ = ctx.output_path(file);
        // rte_hash names are process-wide: this instance's address is unique
        // while it lives.
        char name[RTE_HASH_NAMESIZE];
        std::snprintf(name, sizeof(name), "flow_top_%p", static_cast<void*>(this));
        rte_hash_parameters params{};
        params.name = name;
        params.entries = static_cast<uint32_t>(capacity);
        params.key_len = sizeof(FlowKey);
        params.hash_func = rte_jhash;
        params.socket_id = ctx.socket_id();
        table_ = rte_hash_create(&params);
        if (!table_)
            throw std::runtime_error("cannot create a flow table of " + std::to_string(capacity) + " flows on socket " +
                                     std::to_string(ctx.socket_id()));
        counts_.resize(capacity);
    }
    ~FlowTop() override { rte_hash_free(table_); }

    void process(sl::Burst& burst) noexcept override {
        // Keys first, then bulk lookups (RTE_HASH_LOOKUP_BULK_MAX keys each):
        // the table's buckets are fetched together, not one miss at a time.
        FlowKey keys[sl::kMaxBurst];
        const void* key_ptrs[sl::kMaxBurst];
        uint16_t index[sl::kMaxBurst];
        unsigned n = 0;
        for (uint16_t i = 0; i < burst.size(); i++) {
            if (!key_of(burst, i, keys[n])) {
                no_ports_++;
                continue;
            }
            key_ptrs[n] = &keys[n];
            index[n++] = i;
        }
        if (n == 0) return;
        int32_t positions[sl::kMaxBurst];
        for (unsigned from = 0; from < n; from += RTE_HASH_LOOKUP_BULK_MAX)
            rte_hash_lookup_bulk(table_, key_ptrs + from, std::min<unsigned>(n - from, RTE_HASH_LOOKUP_BULK_MAX),
                                 positions + from);
        for (unsigned k = 0; k < n; k++) {
            int32_t at = positions[k];
            if (at < 0) {
                // New flow, or one added earlier in this same burst.
                at = rte_hash_add_key(table_, &keys[k]);
                if (at < 0) {
                    table_full_++;
                    continue;
                }
                if (counts_[static_cast<size_t>(at)].packets == 0) flows_++;
            }
            FlowCount& c = counts_[static_cast<size_t>(at)];
            c.packets++;
            c.bytes += sl::meta(burst[index[k]]).wire_len;
        }
    }

    // Every worker's instance of this node, this one among them.
    void merge_workers(std::span<sl::Filter* const> instances) override {
        // A flow lives on one worker when RSS spreads by flow; adding keeps
        // the figures right when it does not.
        std::map<std::string, FlowCount> merged;
        for (sl::Filter* instance : instances) {
            auto* f = static_cast<FlowTop*>(instance);
            const void* key;
            void* data;
            uint32_t next = 0;
            int32_t at;
            while ((at = rte_hash_iterate(f->table_, &key, &data, &next)) >= 0) {
                FlowCount& c = merged[describe(*static_cast<const FlowKey*>(key))];
                c.packets += f->counts_[static_cast<size_t>(at)].packets;
                c.bytes += f->counts_[static_cast<size_t>(at)].bytes;
            }
        }
        std::vector<std::pair<std::string, FlowCount>> rows(merged.begin(), merged.end());
        std::stable_sort(rows.begin(), rows.end(),
                         [](const auto& a, const auto& b) { return a.second.packets > b.second.packets; });
        if (rows.size() > top_) rows.resize(top_);
        FILE* out = file_.empty() ? stdout : std::fopen(file_.c_str(), "w");
        if (!out) throw sl::RuntimeError(file_ + ": " + std::strerror(errno));
        std::fprintf(out, "%s: %zu flows, top %zu by packets\n%12s %14s  %s\n", node_.c_str(), merged.size(),
                     rows.size(), "packets", "bytes", "flow");
        for (const auto& [flow, c] : rows)
            std::fprintf(out, "%12llu %14llu  %s\n", static_cast<unsigned long long>(c.packets),
                         static_cast<unsigned long long>(c.bytes), flow.c_str());
        if (out != stdout && std::fclose(out) != 0) throw sl::RuntimeError(file_ + ": " + std::strerror(errno));
    }

private:
    static bool key_of(const sl::Burst& burst, uint16_t i, FlowKey& key) noexcept {
        const rte_mbuf* m = burst[i];
        if (!sl::has_ports(m)) return false;
        const sl::PacketMeta& pm = sl::meta(m);
        std::memset(&key, 0, sizeof(key));
        key.ipv6 = (pm.flags & sl::kIsIpv6) ? 1 : 0;
        // IPv4 addresses are at 12 and 16 in the header, IPv6's at 8 and 24.
        uint32_t length = key.ipv6 ? 16 : 4;
        uint32_t src = pm.l3_offset + (key.ipv6 ? 8u : 12u);
        uint8_t scratch[32];
        const uint8_t* addresses = burst.view(i).read(src, 2 * length, scratch);
        if (!addresses) return false;
        std::memcpy(key.src, addresses, length);
        std::memcpy(key.dst, addresses + length, length);
        key.sport = pm.sport;
        key.dport = pm.dport;
        key.proto = pm.ip_proto;
        return true;
    }

    static std::string describe(const FlowKey& k) {
        char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN];
        int family = k.ipv6 ? AF_INET6 : AF_INET;
        inet_ntop(family, k.src, src, sizeof(src));
        inet_ntop(family, k.dst, dst, sizeof(dst));
        const char* proto = k.proto == 6 ? "tcp" : k.proto == 17 ? "udp" : k.proto == 132 ? "sctp" : "ip";
        char text[128];
        if (k.ipv6)
            std::snprintf(text, sizeof(text), "%s [%s]:%u > [%s]:%u", proto, src, k.sport, dst, k.dport);
        else
            std::snprintf(text, sizeof(text), "%s %s:%u > %s:%u", proto, src, k.sport, dst, k.dport);
        return text;
    }

    std::string node_;
    uint64_t top_ = 10;
    std::string file_;
    uint64_t& no_ports_;
    uint64_t& table_full_;
    uint64_t& flows_;
    rte_hash* table_ = nullptr;
    std::vector<FlowCount> counts_;  // by the table's key position
};

}  // namespace

SL_REGISTER_FILTER(FlowTop, sl::FilterType{.name = "flow_top",
                                           .access = sl::Access::headers,
                                           .summary = "count packets per flow, write the top flows at the end",
                                           .usage = "flow_top [top=N] [flows=N] [file=PATH]"})
