// The filter SDK: everything a filter needs, built-in or plugin.
//
// A filter is a class with one per-burst entry point, process(), that looks at
// a burst of packets and gives each a verdict: pass (optionally with a class
// that selects `|N` branches) or drop with a counted reason. The runtime owns
// the mbufs, the routing to the next filters and all counting of packets in,
// out and dropped; a filter only decides.
//
//   class Ttl final : public sl::Filter {
//   public:
//       explicit Ttl(sl::FilterContext& ctx) : too_low_(ctx.drop_reason("ttl_too_low")) {
//           sl::ArgReader(ctx.args()).positional("TTL", min_, 0, 255).complete();
//       }
//       void process(sl::Burst& burst) noexcept override {
//           for (uint16_t i = 0; i < burst.size(); i++)
//               if (ttl_of(burst, i) < min_) burst.drop(i, too_low_);
//       }
//   private:
//       uint8_t min_ = 0;
//       sl::DropReason too_low_;
//   };
//   SL_REGISTER_FILTER(Ttl, sl::FilterType{.name = "ttl", .access = sl::Access::headers,
//                                          .summary = "drop packets whose TTL is below N", .usage = "ttl N"})
//
// The life of a filter:
// - Setup is the constructor. It reads its arguments (sl/args.hpp), asks for
//   counters and drop reasons, and allocates what process() will need.
//   Anything it throws becomes a configuration error (exit 2) that names the
//   filter, and for a plugin, the plugin.
// - process() runs on the hot path, once per burst of up to kMaxBurst
//   packets. It must not allocate, lock, log or throw: it is noexcept, and a
//   filter that throws from it stops the process with a message naming it.
//   It reads packets through burst.view(i), which reaches as far as the
//   access the filter declared and no further.
// - finish() runs once after the last burst, off the hot path: flush files.
// - Per-worker state: every worker lcore runs its own instance of each
//   filter, so a filter's members need no locks. After every instance has
//   finished, merge_workers() folds their results into one report.
// - Teardown is the destructor.
//
// Plugins are built against this SDK alone (`pkg-config --cflags --libs
// streamline`) and carry kSdkAbiVersion in each registration; a plugin
// built for another version is refused when it is loaded.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include <rte_mbuf.h>

#include <sl/args.hpp>
#include <sl/burst.hpp>
#include <sl/error.hpp>
#include <sl/packet.hpp>
#include <sl/view.hpp>

namespace sl {

// Raised whenever the layout of anything in this SDK changes; a plugin built
// against another version is refused at load time.
inline constexpr uint32_t kSdkAbiVersion = 9;

enum FilterFlag : uint32_t {
    kClassifier = 1u << 0,    // sets classes; `|N` edges after it make sense
    kSink = 1u << 1,          // writes packets out and says so with Burst::taken (pcap, tx)
    kSharedByArgs = 1u << 2,  // instances with the same arguments are one node (`tx 1` twice)
    // process() reads nothing the parser finds (offsets, ports, VLANs, the
    // protocol, the flags): packets need no parse for it. count and the
    // sinks read only wire_len; bpf reads the bytes itself. Without it, the
    // runtime parses every packet before the filter sees it. A header
    // filter's view of a packet nothing parsed reaches the whole packet.
    kNoParse = 1u << 3,
    // Its verdicts depend on how many packets came before (head, sample):
    // it must see every packet of the input, in order. sl-replay, which
    // otherwise deals the records to its workers by flow, then walks one
    // graph; in sl-forward each worker's instance counts its own packets.
    kInputOrder = 1u << 4,
    // Gives packets the stream chunks they bring (sl/stream.hpp): reassemble.
    // A stream maker must be reached by one path, so that it sees each
    // packet once and in order.
    kMakesStreams = 1u << 5,
    // Reads the packets' stream chunks (sl::stream_chunk): every path from
    // rx to it must pass a stream maker.
    kReadsStreams = 1u << 6,
    // Keeps packets past the burst they came in (Burst::keep) and gives
    // packets of its own making in their place (Burst::replace): defrag. It
    // must be reached by one path with no branch and no sink before it, so
    // that the graph's reference is the only one and no sibling branch
    // reads what it changes.
    kKeepsPackets = 1u << 7,
    // Joins IP fragments into datagrams. sl-replay then deals packets to its
    // workers by their addresses alone, so that a datagram made of pieces
    // meets the unfragmented packets of its flow on one worker.
    kJoinsFragments = 1u << 8,
};

class Filter {
public:
    virtual ~Filter() = default;
    // Gives every packet of the burst a verdict. Verdicts start as "pass, class 0".
    virtual void process(Burst& burst) noexcept = 0;
    // Called once after the last burst, off the hot path (flush files).
    virtual void finish() {}
    // Called once per node after every worker's instance has finished, on
    // one of them, with all of them (itself included, in worker order; they
    // all have this filter's type): folds the workers' results into one, and
    // writes what the node reports. Off the hot path; may throw RuntimeError.
    virtual void merge_workers(std::span<Filter* const> instances) { (void)instances; }
};

// How the shadow buffers serve a filter's reads (--shadow, `shadow NAME
// POLICY`): a filter that keeps bytes past their packet's walk follows it
// (reassemble holds mbufs under zero_copy and hybrid).
enum class ShadowPolicy : uint8_t { zero_copy, copy_once, hybrid, prefetch };

// What the runtime offers a filter while it is being constructed.
class FilterContext {
public:
    virtual ~FilterContext() = default;

    // The filter's arguments, valid while the constructor runs. Read them
    // (sl::ArgReader) and call complete() before doing anything that lasts:
    // what no read took is refused after the constructor too, but by then
    // a file may have been opened.
    virtual const Args& args() const = 0;
    virtual const std::string& node_name() const = 0;
    // The input's link type as libpcap's DLT_ value (DLT_EN10MB, DLT_RAW, ...)
    // and as the LINKTYPE_ value that capture files carry.
    virtual int link_type() const = 0;
    virtual uint32_t capture_linktype() const = 0;
    // The snap length outputs give in their header: the largest of the
    // input captures' (262144 for ports).
    virtual uint32_t capture_snaplen() const = 0;
    // True when the input capture was saved on a host of the other byte
    // order: libpcap compiles some link types' filters for that (the
    // address family of BSD loopback captures is in the saving host's
    // order). False for ports.
    virtual bool capture_byte_swapped() const = 0;
    // When every packet reaching this filter comes from one input (all its
    // paths start at the same `rx N`) and that input has a name: the
    // port's device name in sl-forward ("net_pcap0", "0000:3b:00.0").
    // Otherwise empty.
    virtual std::string input_name() const = 0;
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
    // How many paths of the graph lead from rx to this filter: 1 in a
    // chain. Where branches join before it, a packet may come once per
    // path, and a burst's packets in another order than they were read.
    virtual unsigned ways_in() const = 0;
    // The transmit queue this worker owns on DPDK port `port`, or -1 when the
    // EAL has no such port (sl-replay then writes OUTDIR/tx-N.pcap).
    virtual int tx_queue(uint16_t port) const = 0;
    // For a filter whose arguments decide how much of a packet it reads (a
    // bpf expression that looks into the payload): replaces the access its
    // type declared. Burst::view() and the shadow policy follow it.
    virtual void set_access(Access access) = 0;
    // The most mbufs this filter keeps at once past the walk they came in:
    // by Burst::keep() (kKeepsPackets), or by a reference of its own
    // (rte_pktmbuf_refcnt_update) while the packet goes on. The runtime
    // makes its pools that much larger, and gives the packets memory of
    // their own (not a capture reader's, which it reuses).
    virtual void keeps_packets(uint32_t most) = 0;
    // The shadow policy this filter's reads are served under.
    virtual ShadowPolicy shadow_policy() const = 0;
};

using FilterFactory = std::unique_ptr<Filter> (*)(FilterContext&);

// A filter type, registered with SL_REGISTER_FILTER. Name the fields:
//   sl::FilterType{.name = "count", .summary = "count packets and bytes, pass all", .usage = "count"}
struct FilterType {
    uint32_t abi_version = kSdkAbiVersion;  // first: checked before anything else is read
    const char* name = nullptr;             // a letter or '_', then letters, digits, '_', '-'
    Access access = Access::metadata;       // what process() reads of a packet (sl/burst.hpp)
    uint32_t flags = 0;                     // FilterFlag bits
    const char* summary = "";               // one line for --filters
    const char* usage = "";                 // the arguments, as a user writes them
    // The reasons it drops packets for, comma-separated ("filtered"; "" for
    // none). When given, FilterContext::drop_reason() refuses any other, so
    // that what streamline(7) and --filters say is what the filter does.
    const char* drops = nullptr;
    FilterFactory create = nullptr;         // set by SL_REGISTER_FILTER
};

// Adds a filter type to the registry; returns false (and the runtime reports
// it) when the name is taken or the type was built for another ABI.
bool register_filter_type(const FilterType& type) noexcept;

namespace detail {
template <typename Class>
FilterType with_factory(FilterType type) noexcept {
    type.abi_version = kSdkAbiVersion;
    type.create = [](FilterContext& ctx) -> std::unique_ptr<Filter> { return std::make_unique<Class>(ctx); };
    return type;
}
}  // namespace detail

}  // namespace sl

#define SL_DETAIL_CAT2(a, b) a##b
#define SL_DETAIL_CAT(a, b) SL_DETAIL_CAT2(a, b)

// Registers `Class` (constructible from sl::FilterContext&) as the filter type
// that follows: SL_REGISTER_FILTER(Count, sl::FilterType{.name = "count", ...})
#define SL_REGISTER_FILTER(Class, ...)                                                                      \
    namespace {                                                                                           \
    [[maybe_unused]] const bool SL_DETAIL_CAT(sl_registered_, __LINE__) =                                 \
        ::sl::register_filter_type(::sl::detail::with_factory<Class>(__VA_ARGS__));                       \
    }
