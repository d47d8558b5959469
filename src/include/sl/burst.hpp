// A burst of packets as a filter sees it, and the verdicts it gives them.
//
// The runtime owns the mbufs, the references to them and every packet's fate;
// a filter only decides: each packet passes (with a class that selects `|N`
// edges) or is dropped for a counted reason. A sink also says how many of the
// burst's packets it took; the runtime then knows which were written.
#pragma once

#include <array>
#include <cstdint>

#include <rte_mbuf.h>

#include <sl/packet.hpp>
#include <sl/view.hpp>

namespace sl {

using DropReason = uint8_t;

// The most packets one Burst holds (rte_graph's burst size).
inline constexpr uint16_t kMaxBurst = 256;

// What a filter reads of a packet. The shadow-buffer runtime uses it to decide
// which bytes must be local before the filter runs, and Burst::view() gives
// the filter no more than it declared.
enum class Access : uint8_t {
    none,      // nothing of the packet: it only decides by counting (sample, head,
               // drop) or hands packets to a device (tx to a port)
    metadata,  // no packet byte: only PacketMeta and the mbuf's fields (count,
               // classifiers on parsed fields, file sinks)
    headers,   // the bytes up to the parsed payload offset
    payload,   // every byte
    write,     // every byte, and may modify them in place (Burst::writable)
};

// True for the access levels that read packet bytes.
constexpr bool reads_bytes(Access access) noexcept { return access >= Access::headers; }

// Classes have 30 bits and are below kNoClass, the class of a packet that
// has none (only an `|else` edge takes it).
inline constexpr uint32_t kNoClass = 0x3fffffffu;

namespace detail {
// A verdict is a class (pass) or kDropBit | reason (drop); kHandedOverBit
// marks a packet whose reference went to a device.
inline constexpr uint32_t kDropBit = 0x80000000u;
inline constexpr uint32_t kHandedOverBit = 0x40000000u;
struct SinkState;
struct BurstAccess;
}  // namespace detail

class Burst {
public:
    uint16_t size() const noexcept { return size_; }
    rte_mbuf* operator[](uint16_t i) const noexcept { return packets_[i]; }
    rte_mbuf* const* packets() const noexcept { return packets_; }

    // Packet i's bytes, as far as this filter's access reaches (sl/view.hpp).
    PacketView view(uint16_t i) const noexcept {
        const rte_mbuf* m = packets_[i];
        const PacketMeta& pm = meta(m);
        uint32_t limit = !reads_bytes(access_)                                  ? 0
                         : access_ == Access::headers && (pm.flags & kParsed) ? pm.payload_offset
                                                                                : UINT32_MAX;
        return PacketView(m, limit, shadows_ ? &shadows_[meta(m).runtime.shadow_slot_] : nullptr);
    }
    // The first segment's bytes of packet i to modify in place; null unless
    // the filter declared Access::write. The change is seen on every branch
    // the packet is on after this filter (packets are shared, not copied).
    uint8_t* writable(uint16_t i) const noexcept {
        return access_ == Access::write ? rte_pktmbuf_mtod(packets_[i], uint8_t*) : nullptr;
    }

    // Verdicts start as "pass, class 0". Classes have 30 bits; larger values
    // are cut to them.
    void set_class(uint16_t i, uint32_t cls) noexcept { verdicts_[i] = cls & kNoClass; }
    // No class: only an `|else` edge takes the packet.
    void set_no_class(uint16_t i) noexcept { verdicts_[i] = kNoClass; }
    void drop(uint16_t i, DropReason reason) noexcept {
        drops_ += !(verdicts_[i] & detail::kDropBit);
        verdicts_[i] = detail::kDropBit | reason;
    }
    bool dropped(uint16_t i) const noexcept { return verdicts_[i] & detail::kDropBit; }
    uint16_t drop_count() const noexcept { return drops_; }

    // Sinks: the first `count` packets of the burst went out (copied to a
    // file, or taken by a device after hand_over()); the others are dropped
    // for `reason`. A packet counts as written once any sink took it,
    // whichever branches it is on; the ones taken here pass on to what
    // follows the sink, if anything does.
    void taken(uint16_t count, DropReason reason) noexcept;
    // For a sink that gives mbufs to a device which frees what it takes (a
    // NIC's transmit ring): call it before the device sees them. It returns
    // the burst's mbufs, each with one reference that is the device's; the
    // runtime decides whether that is the graph's own (where every path ends
    // at this sink) or a new one. Then call taken() with what the device took.
    rte_mbuf** hand_over() noexcept;

    // For a filter whose type has kKeepsPackets (defrag). keep(): packet i's
    // mbuf is the filter's from now on, to free when it is done with it;
    // the packet leaves the graph here, counted under `reason`.
    void keep(uint16_t i, DropReason reason) noexcept;
    // replace(): `m`, a packet the filter made (a datagram chained from
    // fragments it kept), takes the place of packet i, which the filter
    // keeps (counted under `reason`, as by keep()). `m` passes on, with
    // packet i's time stamp and place in the input, and is parsed again
    // by the next filter that reads headers.
    void replace(uint16_t i, rte_mbuf* m, DropReason reason) noexcept;

private:
    friend struct detail::BurstAccess;
    Burst(rte_mbuf** packets, uint32_t* verdicts, uint16_t size, const detail::Shadow* shadows, Access access,
          detail::SinkState* sink) noexcept
        : packets_(packets), verdicts_(verdicts), size_(size), shadows_(shadows), sink_(sink), access_(access) {}

    rte_mbuf** packets_;
    uint32_t* verdicts_;
    uint16_t size_;
    uint16_t drops_ = 0;
    const detail::Shadow* shadows_;
    detail::SinkState* sink_;  // the node's, for taken() and hand_over()
    Access access_;
    bool handed_over_ = false;
    std::array<uint64_t, 4> last_{};  // by packet: hand_over() took the graph's last reference
};

}  // namespace sl
