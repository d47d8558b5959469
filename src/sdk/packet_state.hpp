// The runtime's side of the per-packet metadata: writing the parsed fields
// and the capture facts (parser, sources), and the bookkeeping that
// sl::PacketMeta keeps from filters (the graph's references to a packet, its
// fate, its shadow slot).
#pragma once

#include <cstdint>

#include <rte_mbuf.h>

#include <sl/burst.hpp>
#include <sl/packet.hpp>

namespace sl::detail {

inline PacketMeta& mutable_meta(rte_mbuf* m) noexcept {
    return *RTE_MBUF_DYNFIELD(m, packet_meta_offset, PacketMeta*);
}

inline void set_timestamp_ns(rte_mbuf* m, uint64_t ns) noexcept {
    *RTE_MBUF_DYNFIELD(m, timestamp_offset, uint64_t*) = ns;
}

// A packet's fate is decided when the graph lets go of it: written, if any
// sink took any of its copies, else dropped for the reason of the last branch
// that let it go. Drop reason ids stay below kFateWritten.
inline constexpr uint8_t kFateWritten = 0xff;

struct PacketBookkeeping {
    static RuntimeFields& of(rte_mbuf* m) noexcept { return mutable_meta(m).runtime; }

    // As the packet enters a graph: not parsed yet; one reference and no
    // fate yet. A graph in which nothing reads them needs neither.
    static void mark_unparsed(rte_mbuf* m) noexcept { mutable_meta(m).flags = 0; }
    static void first_reference(rte_mbuf* m) noexcept {
        RuntimeFields& r = of(m);
        r.fate_ = 0;
        r.graph_refs_ = 1;
    }
    static bool parsed(const rte_mbuf* m) noexcept { return meta(m).flags & kParsed; }
    // References the graph holds (one per branch the packet is on). Distinct
    // from the mbuf's refcnt, which also counts references a NIC's transmit
    // ring holds: the packet's fate is decided when the graph lets go.
    static uint8_t& graph_refs(rte_mbuf* m) noexcept { return of(m).graph_refs_; }
    static void mark_written(rte_mbuf* m) noexcept { of(m).fate_ = kFateWritten; }
    static bool written(rte_mbuf* m) noexcept { return of(m).fate_ == kFateWritten; }
    // A branch lets the packet go for `reason`; a written packet stays written.
    static void let_go(rte_mbuf* m, DropReason reason) noexcept {
        RuntimeFields& r = of(m);
        if (r.fate_ != kFateWritten) r.fate_ = reason;
    }
    static uint8_t fate(rte_mbuf* m) noexcept { return of(m).fate_; }
    // Where the record came in the input, counted over every record, for
    // outputs that several workers write together. It rides in the mbuf's
    // user tag (hash.usr), which no device fills in sl-replay; 32 bits, the
    // writer extends it.
    static void set_sequence(rte_mbuf* m, uint64_t sequence) noexcept {
        m->hash.usr = static_cast<uint32_t>(sequence);
    }
    static uint32_t sequence(const rte_mbuf* m) noexcept { return m->hash.usr; }
    // The packet's entry in the shadow table of the current walk (sl/view.hpp).
    static uint8_t shadow_slot(const rte_mbuf* m) noexcept { return meta(m).runtime.shadow_slot_; }
    static void set_shadow_slot(rte_mbuf* m, uint8_t slot) noexcept { of(m).shadow_slot_ = slot; }
};

// Registers the mbuf fields that PacketMeta and the timestamp live in; once,
// after the EAL started. Throws sl::RuntimeError.
void register_packet_fields();

// Counts the graph walks of this thread (the runtime's source node adds one
// per walk). What a walk's packets refer to (a stream chunk's held bytes)
// may be reused once the count moved on.
extern thread_local uint64_t walk_serial;

// Registers the mbuf field that says which stream chunk a packet carries;
// once, before the first stream maker runs. Throws sl::RuntimeError.
void register_stream_field();

}  // namespace sl::detail
