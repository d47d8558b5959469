// The flow table behind sl::FlowTable: DPDK's rte_hash keyed by the
// symmetric flow key, and beside it an array of records and one of the
// owner's slots, both indexed by the key's position in the hash.
#include <sl/flow.hpp>

#include <algorithm>
#include <iterator>
#include <cstdio>
#include <cstring>
#include <netinet/in.h>
#include <vector>

#include <fmt/format.h>
#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_malloc.h>

#include <sl/error.hpp>
#include <sl/filter.hpp>

namespace sl {
namespace {

// Both directions of a flow give the same key: the endpoint whose address
// and port compare lower is `a`. 40 bytes, because rte_hash keeps each key
// beside an 8-byte word in slots aligned to 16: 48-byte keys would take 64
// bytes a flow, 40-byte ones take 48. An IPv4 address is kept as IPv6 keeps
// one that is mapped (::ffff:a.b.c.d), so no flag tells the families apart;
// IPv6 packets between mapped addresses, which RFC 4291 keeps off the wire,
// get no flow (key_of). rte_hash_crc reads the key 8 bytes at a time.
struct alignas(8) Key {
    uint8_t a[16];
    uint8_t b[16];
    uint16_t port_a;
    uint16_t port_b;
    uint32_t tags;  // IP protocol << 24 | outer VLAN id << 12 | inner VLAN id
};
static_assert(sizeof(Key) == 40);

// rte_hash has compare functions of its own for 16, 32, 48 ... bytes and
// calls memcmp for others: five 8-byte words, without branches, instead.
int keys_differ(const void* x, const void* y, size_t) {
    uint64_t a[5], b[5];
    std::memcpy(a, x, sizeof(a));
    std::memcpy(b, y, sizeof(b));
    return ((a[0] ^ b[0]) | (a[1] ^ b[1]) | (a[2] ^ b[2]) | (a[3] ^ b[3]) | (a[4] ^ b[4])) != 0;
}

constexpr uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

bool mapped(const uint8_t* address) noexcept { return std::memcmp(address, kMapped, sizeof(kMapped)) == 0; }

enum RecordBits : uint8_t {
    kAlive = 1 << 0,
    kInitiatorB = 1 << 1,  // the flow's first packet came from endpoint b
    kFinFromA = 1 << 2,
    kFinFromB = 1 << 3,
    kReset = 1 << 4,
    kInFlight = 1 << 5,    // a packet of the burst being handled belongs to it: not ended now
};

// Time in a record is in ticks of 2^20 ns (about a millisecond), 32 bits
// that wrap every 52 days: differences are taken modulo 2^32, and timeouts
// are at most 2^31 ticks (26 days).
constexpr unsigned kTickShift = 20;
uint32_t tick_of(uint64_t ns) noexcept { return static_cast<uint32_t>(ns >> kTickShift); }
uint32_t ticks_of_timeout(uint64_t ns) noexcept {
    ns = std::min<uint64_t>(ns, uint64_t{INT32_MAX} << kTickShift);  // UINT64_MAX means never
    return static_cast<uint32_t>(std::min<uint64_t>((ns + (1u << kTickShift) - 1) >> kTickShift, INT32_MAX));
}
bool later(uint32_t a, uint32_t b) noexcept { return static_cast<int32_t>(a - b) > 0; }

// 8 bytes a flow, beside rte_hash's 73.
struct Record {
    uint32_t last;  // the tick of its latest packet
    uint8_t bits;   // RecordBits
    uint8_t pad[3];
};
static_assert(sizeof(Record) == 8);

constexpr uint8_t kTcpFin = 0x01, kTcpSyn = 0x02, kTcpRst = 0x04, kTcpAck = 0x10;
constexpr unsigned kSweepPerCall = 32;   // records the idle sweep looks at per burst
constexpr unsigned kEvictScan = 64;      // records a full table looks at for the oldest

bool closed(const Record& r) noexcept { return (r.bits & (kFinFromA | kFinFromB)) == (kFinFromA | kFinFromB) || (r.bits & kReset); }

}  // namespace

struct FlowTable::Impl {
    rte_hash* hash = nullptr;
    std::vector<Record> records;
    uint8_t* slots = nullptr;
    size_t slot_stride = 0;
    FlowTableConfig config;
    uint64_t now = 0;  // the latest packet's time stamp
    // The flows the burst in flight marked kInFlight, to unmark when the
    // next burst begins: a packet marks one at most.
    uint32_t in_flight[2 * kMaxBurst];  // (a packet that reuses a closed flow's place marks it twice)
    uint32_t in_flight_count = 0;
    uint32_t idle_ticks;
    uint32_t closed_ticks;
    uint32_t hand = 0;
    uint32_t alive = 0;
    uint64_t& created;
    uint64_t& ended_idle;
    uint64_t& ended_closed;
    uint64_t& ended_reused;
    uint64_t& evicted;
    uint64_t& table_full;

    Impl(FilterContext& ctx, const FlowTableConfig& c)
        : config(c), idle_ticks(ticks_of_timeout(c.idle_timeout_ns)),
          closed_ticks(ticks_of_timeout(c.closed_timeout_ns)), created(ctx.counter("flows")), ended_idle(ctx.counter("flow_idle")),
          ended_closed(ctx.counter("flow_closed")), ended_reused(ctx.counter("flow_reused")),
          evicted(ctx.counter("flow_evicted")), table_full(ctx.counter("flow_table_full")) {}

    ~Impl() {
        rte_hash_free(hash);
        rte_free(slots);
    }

    void* slot(uint32_t id) noexcept { return slots ? slots + id * slot_stride : nullptr; }

    void mark_in_flight(uint32_t id) noexcept {
        Record& r = records[id];
        if ((r.bits & kInFlight) || in_flight_count == std::size(in_flight)) return;
        r.bits |= kInFlight;
        in_flight[in_flight_count++] = id;
    }
    void unmark_in_flight() noexcept {
        for (uint32_t k = 0; k < in_flight_count; k++) records[in_flight[k]].bits &= static_cast<uint8_t>(~kInFlight);
        in_flight_count = 0;
    }

    void end(uint32_t id, FlowEnd why, bool remove) noexcept {
        Record& r = records[id];
        if (config.on_end) config.on_end(config.user, id, slot(id), why);
        if (slots) std::memset(slot(id), 0, slot_stride);
        switch (why) {
        case FlowEnd::idle: ended_idle++; break;
        case FlowEnd::closed: ended_closed++; break;
        case FlowEnd::reused: ended_reused++; break;
        case FlowEnd::evicted: evicted++; break;
        case FlowEnd::finish: break;
        }
        r = {};
        alive--;
        if (remove) {
            const void* key = nullptr;
            if (rte_hash_get_key_with_position(hash, static_cast<int32_t>(id), const_cast<void**>(&key)) == 0)
                rte_hash_del_key(hash, key);
        }
    }

    uint32_t timeout_of(const Record& r) const noexcept { return closed(r) ? closed_ticks : idle_ticks; }

    // A few records per burst: the ones idle past their timeout end. The
    // sweep runs before the burst's lookups, so no packet of the burst holds
    // a position it frees.
    void sweep() noexcept {
        const auto capacity = static_cast<uint32_t>(records.size());
        const uint32_t now_tick = tick_of(now);
        for (unsigned k = 0; k < kSweepPerCall && alive; k++) {
            uint32_t id = hand;
            hand = hand + 1 == capacity ? 0 : hand + 1;
            const Record& r = records[id];
            // A flow a packet of this burst belongs to stays: its chunk
            // still names it.
            if ((r.bits & (kAlive | kInFlight)) == kAlive && now_tick - r.last > timeout_of(r))
                end(id, closed(r) ? FlowEnd::closed : FlowEnd::idle, true);
        }
    }

    // The table is full: ends the oldest of a few flows that no packet of
    // this burst belongs to. False when there is none.
    bool evict_one() noexcept {
        const auto capacity = static_cast<uint32_t>(records.size());
        uint32_t oldest = UINT32_MAX;
        for (unsigned k = 0; k < kEvictScan; k++) {
            uint32_t id = (hand + k) % capacity;
            const Record& r = records[id];
            if ((r.bits & (kAlive | kInFlight)) == kAlive && (oldest == UINT32_MAX || later(records[oldest].last, r.last)))
                oldest = id;
        }
        if (oldest == UINT32_MAX) return false;
        hand = (oldest + 1) % capacity;
        end(oldest, FlowEnd::evicted, true);
        return true;
    }
};

namespace {

// The packet's key, whether its source is endpoint b, and its TCP flags (0
// for other protocols). False for a packet without IP.
bool key_of(const Burst& burst, uint16_t i, Key& key, bool& from_b, uint8_t& tcp_flags) noexcept {
    const rte_mbuf* m = burst[i];
    const PacketMeta& pm = meta(m);
    if (!(pm.flags & kParsed) || !(pm.flags & (kIsIpv4 | kIsIpv6)) || pm.l3_offset == kNoOffset) return false;
    PacketView view = burst.view(i);
    bool v6 = pm.flags & kIsIpv6;
    uint32_t at = pm.l3_offset + (v6 ? 8u : 12u);
    uint32_t len = v6 ? 16u : 4u;
    uint8_t scratch[32];
    const uint8_t* addrs = view.read(at, 2 * len, scratch);
    if (!addrs || (v6 && mapped(addrs) && mapped(addrs + 16))) return false;
    uint16_t sport = 0, dport = 0;
    tcp_flags = 0;
    if (pm.flags & kHasPorts) {
        sport = pm.sport;
        dport = pm.dport;
        uint8_t f;
        if (pm.ip_proto == IPPROTO_TCP && pm.l4_offset != kNoOffset) {
            const uint8_t* p = view.read(pm.l4_offset + 13u, 1, &f);
            tcp_flags = p ? *p : 0;
        }
    }
    int order = std::memcmp(addrs, addrs + len, len);
    from_b = order > 0 || (order == 0 && sport > dport);
    const uint8_t* src = addrs;
    const uint8_t* dst = addrs + len;
    if (!v6) {
        std::memcpy(key.a, kMapped, sizeof(kMapped));
        std::memcpy(key.b, kMapped, sizeof(kMapped));
    }
    std::memcpy(key.a + 16 - len, from_b ? dst : src, len);
    std::memcpy(key.b + 16 - len, from_b ? src : dst, len);
    key.port_a = from_b ? dport : sport;
    key.port_b = from_b ? sport : dport;
    uint32_t outer = (pm.flags & kHasVlan) ? pm.vlan_outer & 0xfff : 0;
    uint32_t inner = (pm.flags & kHasQinQ) ? pm.vlan_inner & 0xfff : 0;
    key.tags = uint32_t{pm.ip_proto} << 24 | outer << 12 | inner;
    return true;
}

}  // namespace

FlowTable::FlowTable(FilterContext& ctx, const FlowTableConfig& config)
    : impl_(std::make_unique<Impl>(ctx, config)) {
    if (config.capacity < 64 || config.capacity > (1u << 26))
        throw ConfigError(fmt::format("a flow table holds 64 to {} flows, not {}", 1u << 26, config.capacity));
    // rte_hash names are process-wide: this table's address is unique while it lives.
    char name[RTE_HASH_NAMESIZE];
    std::snprintf(name, sizeof(name), "sl_flows_%p", static_cast<void*>(impl_.get()));
    // What the table takes, for the node table: rte_hash keeps its keys,
    // buckets and free-slot rings in DPDK's heap, beside the slots.
    rte_malloc_socket_stats before{}, after{};
    int socket = ctx.socket_id() < 0 ? 0 : ctx.socket_id();
    bool measured = rte_malloc_get_socket_stats(socket, &before) == 0;
    rte_hash_parameters params{};
    params.name = name;
    params.entries = config.capacity;
    params.key_len = sizeof(Key);
    params.hash_func = rte_hash_crc;
    params.socket_id = ctx.socket_id();
    // Buckets that overflow chain into an extension table, so that the
    // table holds `capacity` flows however their hashes fall.
    params.extra_flag = RTE_HASH_EXTRA_FLAGS_EXT_TABLE;
    impl_->hash = rte_hash_create(&params);
    if (!impl_->hash)
        throw RuntimeError(fmt::format("cannot create a flow table of {} flows on socket {}", config.capacity,
                                       ctx.socket_id()));
    rte_hash_set_cmp_func(impl_->hash, keys_differ);
    impl_->records.resize(config.capacity);
    if (config.slot_bytes) {
        // A type's size is a multiple of its alignment: a size that 8 does
        // not divide but 4 does needs no more than 4 (a 44-byte state stays
        // 44 bytes a flow).
        impl_->slot_stride = config.slot_bytes % 8 && config.slot_bytes % 4 == 0
                                 ? config.slot_bytes : (config.slot_bytes + 7) & ~size_t{7};
        impl_->slots = static_cast<uint8_t*>(
            rte_zmalloc_socket("sl_flow_slots", impl_->slot_stride * config.capacity, 64, ctx.socket_id()));
        if (!impl_->slots)
            throw RuntimeError(fmt::format("cannot allocate {} KiB of flow state",
                                           impl_->slot_stride * config.capacity / 1024));
    }
    if (measured && rte_malloc_get_socket_stats(socket, &after) == 0 &&
        after.heap_allocsz_bytes > before.heap_allocsz_bytes) {
        uint64_t bytes = after.heap_allocsz_bytes - before.heap_allocsz_bytes + sizeof(Record) * uint64_t{config.capacity};
        ctx.info("flow_table_bytes", bytes);
        ctx.info("bytes_per_flow", bytes / config.capacity);
    }
}

FlowTable::~FlowTable() = default;

uint16_t FlowTable::lookup(const Burst& burst, Flow* flows, uint16_t from) noexcept {
    Impl& t = *impl_;
    const uint16_t count = burst.size();
    Key keys[kMaxBurst];
    const void* key_ptrs[kMaxBurst];
    bool from_b[kMaxBurst];
    uint8_t tcp_flags[kMaxBurst];
    uint16_t index[kMaxBurst];
    unsigned n = 0;
    for (uint16_t i = from; i < count; i++) {
        flows[i] = {};
        t.now = std::max(t.now, timestamp_ns(burst[i]));
        if (t.config.ports_only && !(meta(burst[i]).flags & kHasPorts)) continue;
        if (!key_of(burst, i, keys[n], from_b[n], tcp_flags[n])) continue;
        key_ptrs[n] = &keys[n];
        index[n++] = i;
    }
    // A flow that a call gave to a packet is in flight until the burst is
    // done (the stream filters after the owner read its endpoints then):
    // the marks of the burst before go when a new one begins.
    if (from == 0) t.unmark_in_flight();
    t.sweep();
    if (n == 0) return count;
    int32_t positions[kMaxBurst];
    for (unsigned from = 0; from < n; from += RTE_HASH_LOOKUP_BULK_MAX)
        rte_hash_lookup_bulk(t.hash, key_ptrs + from, std::min<unsigned>(n - from, RTE_HASH_LOOKUP_BULK_MAX),
                             positions + from);
    // The flows this burst found are in flight: a full table evicts others.
    for (unsigned k = 0; k < n; k++)
        if (positions[k] >= 0) t.mark_in_flight(static_cast<uint32_t>(positions[k]));
    for (unsigned k = 0; k < n; k++) {
        int32_t at = positions[k];
        if (at < 0) {
            // A new flow, or one that an earlier packet of this burst added.
            at = rte_hash_add_key(t.hash, &keys[k]);
            if (at == -ENOSPC && t.evict_one()) at = rte_hash_add_key(t.hash, &keys[k]);
            if (at < 0) {
                t.table_full++;
                continue;
            }
        }
        auto id = static_cast<uint32_t>(at);
        Record& r = t.records[id];
        const rte_mbuf* m = burst[index[k]];
        uint8_t f = tcp_flags[k];
        bool syn_only = (f & (kTcpSyn | kTcpAck)) == kTcpSyn;
        Flow& out = flows[index[k]];
        if ((r.bits & kAlive) && syn_only && closed(r)) {
            // The old connection's packets earlier in this call must be
            // handled before its state goes: stop here.
            for (unsigned e = 0; e < k; e++)
                if (positions[e] == at || (positions[e] < 0 && flows[index[e]].id == id)) return index[k];
            t.end(id, FlowEnd::reused, false);  // the key stays: the new connection has it
        }
        if (!(r.bits & kAlive)) {
            // A capture that begins with the SYN-ACK still knows the client.
            bool synack = (f & (kTcpSyn | kTcpAck)) == (kTcpSyn | kTcpAck);
            r.bits = kAlive | (from_b[k] != synack ? kInitiatorB : 0);
            r.last = tick_of(timestamp_ns(m));
            t.alive++;
            t.created++;
            out.is_new = true;
        }
        t.mark_in_flight(id);
        if (later(tick_of(timestamp_ns(m)), r.last)) r.last = tick_of(timestamp_ns(m));
        out.id = id;
        out.direction = from_b[k] != static_cast<bool>(r.bits & kInitiatorB);
        if (f & kTcpRst) r.bits |= kReset;
        if (f & kTcpFin) r.bits |= from_b[k] ? kFinFromB : kFinFromA;
    }
    return count;
}

void* FlowTable::slot(uint32_t id) noexcept { return impl_->slot(id); }

bool FlowTable::b_sent_first(uint32_t id) const noexcept { return impl_->records[id].bits & kInitiatorB; }

FlowEndpoints FlowTable::endpoints(uint32_t id) const noexcept { return endpoints(id, b_sent_first(id)); }

FlowEndpoints FlowTable::endpoints(uint32_t id, bool b_first) const noexcept {
    FlowEndpoints e{};
    const void* p = nullptr;
    if (rte_hash_get_key_with_position(impl_->hash, static_cast<int32_t>(id), const_cast<void**>(&p)) != 0) return e;
    const Key& key = *static_cast<const Key*>(p);
    e.ipv6 = !(mapped(key.a) && mapped(key.b));
    const uint32_t len = e.ipv6 ? 16 : 4;
    std::memcpy(e.addr[0], (b_first ? key.b : key.a) + 16 - len, len);
    std::memcpy(e.addr[1], (b_first ? key.a : key.b) + 16 - len, len);
    e.port[0] = b_first ? key.port_b : key.port_a;
    e.port[1] = b_first ? key.port_a : key.port_b;
    e.vlan_outer = static_cast<uint16_t>(key.tags >> 12 & 0xfff);
    e.vlan_inner = static_cast<uint16_t>(key.tags & 0xfff);
    e.proto = static_cast<uint8_t>(key.tags >> 24);
    return e;
}

uint32_t FlowTable::size() const noexcept { return impl_->alive; }

uint32_t FlowTable::capacity() const noexcept { return static_cast<uint32_t>(impl_->records.size()); }

void FlowTable::end_all() noexcept {
    Impl& t = *impl_;
    for (uint32_t id = 0; id < t.records.size(); id++)
        if (t.records[id].bits & kAlive) t.end(id, FlowEnd::finish, true);
}

}  // namespace sl
