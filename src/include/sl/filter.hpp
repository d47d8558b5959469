// The filter SDK: everything a filter needs, built-in or plugin.
//
// A filter is a class with one per-burst entry point, process(), that looks at
// a burst of packets and gives each a verdict: pass (optionally with a class
// that selects `|N` branches) or drop with a counted reason. The runtime owns
// the mbufs, the routing to the next filters and all counting of packets in,
// out and dropped; a filter only decides.
//
//   class Ttl : public sl::Filter {
//   public:
//       explicit Ttl(sl::FilterContext& ctx) : min_(ctx.args().uint_at(0, "ttl", 0, 255)),
//           too_low_(ctx.drop_reason("ttl_too_low")) { ctx.args().expect(1, 1); }
//       void process(sl::Burst& burst) noexcept override {
//           for (uint16_t i = 0; i < burst.size(); i++)
//               if (ttl_of(burst, i) < min_) burst.drop(i, too_low_);
//       }
//   private:
//       uint64_t min_; sl::DropReason too_low_;
//   };
//   SL_REGISTER_FILTER(Ttl, "ttl", sl::Access::headers, 0,
//                      "drop packets whose TTL is below N", "ttl N");
//
// The life of a filter:
// - Setup is the constructor. It reads its arguments through
//   FilterContext::args() (whose getters throw a ConfigError pointing at the
//   argument's column), asks for counters and drop reasons, and allocates
//   what process() will need. Anything it throws becomes a configuration
//   error (exit 2) that names the filter, and for a plugin, the plugin.
// - process() runs on the hot path, once per burst of up to kMaxBurst
//   packets. It must not allocate, lock, log or throw: it is noexcept, and a
//   filter that throws from it stops the process with a message naming it.
//   It reads packets through burst.view(i), which reaches as far as the
//   access the filter declared and no further.
// - finish() runs once after the last burst, off the hot path: flush files,
//   write reports. Teardown is the destructor.
// - Per-lcore state: every worker lcore runs its own instance of each
//   filter, so a filter's members are per-lcore state and need no locks.
//   worker_index() and worker_count() say which instance this is.
//
// Plugins are built against this SDK alone (`pkg-config --cflags --libs
// streamline`) and carry kSdkAbiVersion in each registration; a plugin
// built for another version is refused when it is loaded.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include <rte_mbuf.h>

#include <sl/args.hpp>
#include <sl/error.hpp>
#include <sl/packet.hpp>
#include <sl/view.hpp>

namespace sl {

// Raised whenever the layout of anything in this SDK changes; a plugin built
// against another version is refused at load time.
inline constexpr uint32_t kSdkAbiVersion = 2;

using DropReason = uint8_t;

// The most packets one Burst holds (rte_graph's burst size).
inline constexpr uint16_t kMaxBurst = 256;

// A verdict is a class (pass) or kDropBit | reason (drop); kHandedOverBit
// marks a packet whose reference went to a device (Burst::hand_over).
inline constexpr uint32_t kDropBit = 0x80000000u;
inline constexpr uint32_t kHandedOverBit = 0x40000000u;
// Classes have 30 bits. The class of a packet that has no value for a
// classifier (ipproto of an ARP frame): only an else-edge takes it.
inline constexpr uint32_t kNoClass = 0x3fffffffu;

namespace detail {
// The runtime's final count of packets: written, or dropped by reason.
struct Ledger {
    uint64_t written = 0;
    std::array<uint64_t, 256> drops{};
};
}  // namespace detail

// What a filter reads of a packet. The shadow-buffer runtime uses it to decide
// which bytes must be local before the filter runs, and Burst::view() gives
// the filter no more than it declared.
enum class Access : uint8_t {
    metadata,  // no packet byte: only PacketMeta and the mbuf's fields (counters,
               // classifiers on parsed fields, and sinks, which hand on the
               // packet itself rather than reading it)
    headers,   // the bytes up to the parsed payload offset
    payload,   // every byte
    write,     // every byte, and may modify them in place (Burst::writable)
};

class Burst {
public:
    Burst(rte_mbuf** packets, uint32_t* verdicts, uint16_t size, detail::Ledger* ledger = nullptr,
          const detail::Shadow* shadows = nullptr, Access access = Access::payload) noexcept
        : packets_(packets), verdicts_(verdicts), size_(size), ledger_(ledger), shadows_(shadows), access_(access) {}

    uint16_t size() const noexcept { return size_; }
    rte_mbuf* operator[](uint16_t i) const noexcept { return packets_[i]; }
    rte_mbuf* const* packets() const noexcept { return packets_; }

    // Packet i's bytes, as far as this filter's access reaches (sl/view.hpp).
    PacketView view(uint16_t i) const noexcept {
        const rte_mbuf* m = packets_[i];
        uint32_t limit = access_ == Access::metadata  ? 0
                         : access_ == Access::headers ? meta(m).payload_offset
                                                      : UINT32_MAX;
        return PacketView(m, limit, shadows_ ? &shadows_[meta(m).shadow_slot] : nullptr);
    }
    // The first segment's bytes of packet i to modify in place; null unless
    // the filter declared Access::write. The change is seen on every branch
    // the packet is on after this filter (packets are shared, not copied).
    uint8_t* writable(uint16_t i) const noexcept {
        return access_ == Access::write ? rte_pktmbuf_mtod(packets_[i], uint8_t*) : nullptr;
    }

    // Classes have 30 bits; larger values are cut to them.
    void set_class(uint16_t i, uint32_t cls) noexcept { verdicts_[i] = cls & kNoClass; }
    void set_no_class(uint16_t i) noexcept { verdicts_[i] = kNoClass; }
    void drop(uint16_t i, DropReason reason) noexcept {
        drops_ += !(verdicts_[i] & kDropBit);
        verdicts_[i] = kDropBit | reason;
    }
    bool dropped(uint16_t i) const noexcept { return verdicts_[i] & kDropBit; }
    uint16_t drop_count() const noexcept { return drops_; }

    // For a sink whose node ends every path through it
    // (FilterContext::ends_paths()) and a device that frees what it sends (a
    // NIC's transmit ring): the graph's references go to the device, so the
    // graph neither takes more references nor releases them.
    //   hand_over_all()          before the device sees the burst's mbufs;
    //   settle(accepted, reason) once the device took the first `accepted`
    //                            of packets(), in order: the rest are dropped
    //                            for `reason` and freed here.
    // A packet counts as written when any of its copies went out, however
    // many branches led it here. After hand_over_all() the accepted mbufs
    // are the device's; settle() touches only those still held elsewhere.
    void hand_over_all() noexcept {
        for (uint16_t i = 0; i < size_; i++) {
            PacketMeta& pm = meta(packets_[i]);
            if (pm.graph_refs == 1) {
                // The graph lets go: the packet's fate is settled now, as
                // written unless settle() finds this copy refused.
                last_[i >> 6] |= uint64_t{1} << (i & 63);
                ledger_->written++;
            }
            pm.graph_refs--;
            verdicts_[i] = kHandedOverBit;
        }
    }
    void settle(uint16_t accepted, DropReason reason) noexcept {
        // A copy that went out while the graph still holds its packet (fan-out
        // into this sink) marks it written for whichever branch lets go last.
        // When the packet's last copy is in this burst and went out too, the
        // device may have freed the mbuf already; that copy counted it.
        for (uint16_t i = 0; i < accepted; i++) {
            if (is_last(i)) continue;
            bool counted = false;
            for (uint16_t j = i + 1; j < size_ && !counted; j++)
                counted = packets_[j] == packets_[i] && is_last(j) && j < accepted;
            if (!counted) meta(packets_[i]).flags |= kWritten;
        }
        for (uint16_t i = accepted; i < size_; i++) {
            rte_mbuf* m = packets_[i];
            PacketMeta& pm = meta(m);  // alive: this refused copy's reference is still ours
            if (is_last(i)) {
                // Written after all when another branch, or a copy that went
                // out just now, wrote it.
                if (!(pm.flags & kWritten)) {
                    ledger_->written--;
                    ledger_->drops[reason]++;
                }
            } else {
                pm.release_reason = reason;
            }
            drops_++;
            verdicts_[i] = kHandedOverBit | kDropBit | reason;
        }
        rte_pktmbuf_free_bulk(packets_ + accepted, size_ - accepted);
    }

private:
    rte_mbuf** packets_;
    uint32_t* verdicts_;
    uint16_t size_;
    uint16_t drops_ = 0;
    detail::Ledger* ledger_;
    const detail::Shadow* shadows_;
    Access access_;
    bool is_last(uint16_t i) const noexcept { return last_[i >> 6] & (uint64_t{1} << (i & 63)); }
    std::array<uint64_t, 4> last_{};  // by packet: hand_over_all() took the graph's last reference
};

enum FilterFlag : uint32_t {
    kClassifier = 1u << 0,    // sets classes; `|N` edges after it make sense
    kSink = 1u << 1,          // writes packets out (pcap, tx)
    kSharedByArgs = 1u << 2,  // instances with the same arguments are one node (`tx 1` twice)
};

class Filter {
public:
    virtual ~Filter() = default;
    // Gives every packet of the burst a verdict. Verdicts start as "pass, class 0".
    virtual void process(Burst& burst) noexcept = 0;
    // Called once after the last burst, off the hot path (flush files, report).
    virtual void finish() {}
};

// What the runtime offers a filter while it is being constructed.
class FilterContext {
public:
    virtual ~FilterContext() = default;

    virtual const Args& args() const = 0;
    virtual const std::string& node_name() const = 0;
    // The input's link type as libpcap's DLT_ value (DLT_EN10MB, DLT_RAW, ...)
    // and as the LINKTYPE_ value that capture files carry.
    virtual int link_type() const = 0;
    virtual uint32_t capture_linktype() const = 0;
    // A named counter shown in the table and in --stats-json; the reference
    // stays valid for the filter's life. Increment it in process().
    virtual uint64_t& counter(std::string_view name) = 0;
    // A fixed fact about this instance, shown beside its counters (jit=1,
    // port=2). Unlike a counter it is not summed over workers or reloads.
    virtual void info(std::string_view name, uint64_t value) = 0;
    // An id for a drop reason name; the same name gives the same id everywhere.
    virtual DropReason drop_reason(std::string_view name) = 0;
    // A relative output path resolved against the output folder (-o).
    virtual std::string output_path(std::string_view path) const = 0;
    virtual int socket_id() const = 0;

    // Each worker lcore runs its own instance of every filter; these say which
    // one this is (0 .. worker_count()-1), for per-lcore state.
    virtual unsigned worker_index() const = 0;
    virtual unsigned worker_count() const = 0;
    // True when `rx` reads DPDK ports (sl-forward), false when it reads
    // capture files (sl-replay).
    virtual bool live() const = 0;
    // The transmit queue this worker owns on DPDK port `port`, or -1 when the
    // EAL has no such port (sl-replay then writes OUTDIR/tx-N.pcap).
    virtual int tx_queue(uint16_t port) const = 0;
    // True when no edge leaves this node: every packet's path ends here, so a
    // sink may hand packets over to a device (Burst::hand_over).
    virtual bool ends_paths() const = 0;
    // For a filter whose arguments decide how much of a packet it reads (a
    // bpf expression that looks into the payload): replaces the access its
    // type declared. Burst::view() and the shadow policy follow it.
    virtual void set_access(Access access) = 0;
};

using FilterFactory = std::unique_ptr<Filter> (*)(FilterContext&);

struct FilterType {
    uint32_t abi_version;
    const char* name;
    Access access;
    uint32_t flags;
    const char* summary;
    const char* usage;
    FilterFactory create;
};

// Adds a filter type to the registry; returns false (and the runtime reports
// it) when the name is taken.
bool register_filter_type(const FilterType& type) noexcept;

}  // namespace sl

#define SL_DETAIL_CAT2(a, b) a##b
#define SL_DETAIL_CAT(a, b) SL_DETAIL_CAT2(a, b)

// Registers `Class` (constructible from sl::FilterContext&) under `Name`.
#define SL_REGISTER_FILTER(Class, Name, AccessKind, Flags, Summary, Usage)                       \
    namespace {                                                                                \
    [[maybe_unused]] const bool SL_DETAIL_CAT(sl_registered_, __LINE__) =                      \
        ::sl::register_filter_type(::sl::FilterType{                                           \
            ::sl::kSdkAbiVersion, Name, AccessKind, Flags, Summary, Usage,                     \
            [](::sl::FilterContext& ctx) -> std::unique_ptr<::sl::Filter> {                    \
                return std::make_unique<Class>(ctx);                                           \
            }});                                                                               \
    }
