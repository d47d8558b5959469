// What a sink says through its burst, and what the runtime makes of it: which
// packets count as written, which are dropped and for what, and who holds
// each mbuf reference afterwards (a device, the graph, nobody).
#include <gtest/gtest.h>

#include <rte_mbuf.h>

#include "eal_environment.hpp"
#include "graph/node.hpp"
#include "sdk/burst_access.hpp"
#include "sdk/packet_state.hpp"

namespace {

auto* g_eal = static_cast<sl_test::EalEnvironment*>(
    ::testing::AddGlobalTestEnvironment(new sl_test::EalEnvironment("test-burst", 255, {})));

using Bookkeeping = sl::detail::PacketBookkeeping;
constexpr sl::DropReason kFull = 7;

// Four packets as they are when they reach a sink on one branch.
struct Packets {
    rte_mbuf* m[4];
    uint32_t verdicts[4] = {};
    Packets() {
        for (auto& p : m) {
            p = rte_pktmbuf_alloc(g_eal->pool());
            Bookkeeping::mark_unparsed(p);
            Bookkeeping::first_reference(p);
        }
    }
};

}  // namespace

TEST(Burst, AFileSinksTakenMarksTheFirstPacketsWrittenAndDropsTheRest) {
    Packets p;
    sl::graph::Ledger ledger;
    sl::detail::SinkState sink{false, false, &ledger};
    sl::Burst burst = sl::detail::BurstAccess::make(p.m, p.verdicts, 4, nullptr, sl::Access::metadata, &sink);
    burst.taken(2, kFull);
    EXPECT_TRUE(Bookkeeping::written(p.m[0]));
    EXPECT_TRUE(Bookkeeping::written(p.m[1]));
    EXPECT_FALSE(burst.dropped(1));
    EXPECT_TRUE(burst.dropped(2));
    EXPECT_TRUE(burst.dropped(3));
    EXPECT_EQ(p.verdicts[3], sl::detail::kDropBit | kFull);
    EXPECT_EQ(burst.drop_count(), 2);
    EXPECT_EQ(ledger.written, 0u) << "the fate is settled when the graph lets go, not here";
    rte_pktmbuf_free_bulk(p.m, 4);
    EXPECT_EQ(rte_mempool_avail_count(g_eal->pool()), g_eal->pool()->size);
}

TEST(Burst, WhereEveryPathEndsTheDeviceGetsTheGraphsReference) {
    Packets p;
    sl::graph::Ledger ledger;
    sl::detail::SinkState sink{true, false, &ledger};
    sl::Burst burst = sl::detail::BurstAccess::make(p.m, p.verdicts, 4, nullptr, sl::Access::metadata, &sink);
    rte_mbuf** out = burst.hand_over();
    for (uint16_t i = 0; i < 4; i++) {
        EXPECT_EQ(rte_mbuf_refcnt_read(out[i]), 1) << "no reference taken";
        EXPECT_EQ(Bookkeeping::graph_refs(out[i]), 0) << "the graph let go";
    }
    // The device takes three and, as a transmit ring does, frees them once sent.
    rte_pktmbuf_free_bulk(out, 3);
    burst.taken(3, kFull);
    EXPECT_EQ(ledger.written, 3u);
    EXPECT_EQ(ledger.drops[kFull], 1u) << "the refused one is dropped for the sink's reason";
    EXPECT_TRUE(burst.dropped(3));
    EXPECT_EQ(rte_mempool_avail_count(g_eal->pool()), g_eal->pool()->size) << "taken() freed what the device refused";
}

TEST(Burst, InAChainTheDeviceGetsTheGraphsOnlyReference) {
    // Where no packet is ever on two branches, nothing needs counting per packet.
    Packets p;
    sl::graph::Ledger ledger;
    sl::detail::SinkState sink{true, true, &ledger};
    sl::Burst burst = sl::detail::BurstAccess::make(p.m, p.verdicts, 4, nullptr, sl::Access::metadata, &sink);
    rte_mbuf** out = burst.hand_over();
    rte_pktmbuf_free_bulk(out, 2);  // the device took two
    burst.taken(2, kFull);
    EXPECT_EQ(ledger.written, 2u);
    EXPECT_EQ(ledger.drops[kFull], 2u);
    EXPECT_TRUE(burst.dropped(2));
    EXPECT_FALSE(burst.dropped(1));
    EXPECT_EQ(rte_mempool_avail_count(g_eal->pool()), g_eal->pool()->size);
}

TEST(Burst, IntoASinkWithFiltersAfterItTheDeviceGetsAReferenceOfItsOwn) {
    Packets p;
    sl::graph::Ledger ledger;
    sl::detail::SinkState sink{false, false, &ledger};
    sl::Burst burst = sl::detail::BurstAccess::make(p.m, p.verdicts, 4, nullptr, sl::Access::metadata, &sink);
    rte_mbuf** out = burst.hand_over();
    for (uint16_t i = 0; i < 4; i++) EXPECT_EQ(rte_mbuf_refcnt_read(out[i]), 2);
    rte_pktmbuf_free_bulk(out, 1);  // the device sent the first
    burst.taken(1, kFull);
    EXPECT_TRUE(Bookkeeping::written(p.m[0]));
    for (uint16_t i = 1; i < 4; i++) {
        EXPECT_EQ(rte_mbuf_refcnt_read(p.m[i]), 1) << "the refused reference is given back";
        EXPECT_TRUE(burst.dropped(i));
    }
    EXPECT_EQ(ledger.written, 0u);
    rte_pktmbuf_free_bulk(p.m, 4);  // the graph's references, released downstream
    EXPECT_EQ(rte_mempool_avail_count(g_eal->pool()), g_eal->pool()->size);
}

TEST(Burst, AWrittenPacketStaysWrittenWhateverLaterBranchesDo) {
    Packets p;
    Bookkeeping::mark_written(p.m[0]);
    Bookkeeping::let_go(p.m[0], kFull);
    Bookkeeping::let_go(p.m[1], kFull);
    EXPECT_TRUE(Bookkeeping::written(p.m[0]));
    EXPECT_EQ(Bookkeeping::fate(p.m[1]), kFull);
    rte_pktmbuf_free_bulk(p.m, 4);
}
