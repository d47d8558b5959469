// The shadows of one graph instance (one worker): local memory that the
// policy fills with packet bytes before the filters that read them run.
//
// Every packet of a walk gets an entry in a table (its PacketMeta's
// shadow_slot); a walk ends with every packet released, so the memory behind
// the entries is a bump arena reset at the start of each walk: no allocation
// and no free per packet.
#pragma once

#include <array>
#include <cstdint>
#include <memory>

#include <rte_graph.h>
#include <rte_mbuf.h>

#include "shadow/copy_engine.hpp"
#include "shadow/policy.hpp"
#include <sl/burst.hpp>

struct rte_memzone;

namespace sl::shadow {

class Shadows {
public:
    // `entry`: the policy of the packets as they enter (what reads rx);
    // `copies`: whether any filter's policy copies (named streams may have
    // their own). `largest_packet`: the most bytes one packet can hold (MTU
    // or snap length). `engine` may be null: the CPU copies.
    Shadows(const PolicyConfig& entry, bool copies, uint32_t largest_packet, int socket, CopyEngine* engine);
    ~Shadows();
    Shadows(const Shadows&) = delete;
    Shadows& operator=(const Shadows&) = delete;

    const detail::Shadow* table() const noexcept { return table_.data(); }
    const CopyEngine& engine() const noexcept { return *engine_; }

    // A new walk: numbers its packets and forgets the last walk's shadows.
    // Under prefetch, starts pulling every packet whole right away.
    void begin_walk(rte_mbuf** packets, uint16_t count, Counters& c) noexcept;

    // Before a filter with `access` reads `packets` under `policy`: brings
    // in what the policy wants local. Packets whose pull failed are moved to the end;
    // returns how many remain in front. Adds to `c` what it did.
    uint16_t prepare(rte_mbuf** packets, uint16_t count, Access access, const PolicyConfig& policy,
                     Counters& c) noexcept;

    // Counts the bytes within reach of a filter with `access` that were
    // served in place; called after the filter ran, when the parse node has
    // set the payload offsets.
    void account_in_place(rte_mbuf* const* packets, uint16_t count, Access access, Counters& c) const noexcept;

    // After a filter wrote packets in place: their shadows are stale.
    void forget(rte_mbuf* const* packets, uint16_t count) noexcept;

private:
    // The offset from which the policy wants packet m local for `access`, or
    // UINT32_MAX for nothing.
    static uint32_t wanted_from(const rte_mbuf* m, Access access, const PolicyConfig& policy) noexcept;
    bool add_pull(rte_mbuf* m, uint16_t index, uint32_t from, Counters& c) noexcept;
    void flush(Counters& c) noexcept;

    PolicyConfig entry_;
    bool copies_;
    std::unique_ptr<CopyEngine> own_engine_;
    CopyEngine* engine_;
    const rte_memzone* zone_ = nullptr;
    uint8_t* arena_ = nullptr;
    rte_iova_t arena_iova_ = RTE_BAD_IOVA;
    size_t capacity_ = 0;
    size_t used_ = 0;
    std::array<detail::Shadow, RTE_GRAPH_BURST_SIZE> table_{};
    // The entries filled during this walk: the next walk clears only those,
    // so a walk that pulls nothing costs nothing per packet here.
    PacketBits filled_{};
    // One request per contiguous piece of a pull; a burst of chained packets
    // may need more, and is then submitted in several batches.
    static constexpr uint32_t kMaxRequests = 1024;
    std::array<CopyRequest, kMaxRequests> requests_{};
    uint32_t request_count_ = 0;
    PacketBits failed_{};
    bool waiting_ = false;  // prefetch submitted copies that nobody waited for yet
};

}  // namespace sl::shadow
