// The shadow machinery on real mbufs: the packet view across chained
// segments and shadows, pulls gathered from chains, a copy engine whose
// completions fail (the packet is dropped, nothing leaks) and a DMA engine
// that stops answering (the wait is bounded, the CPU does the copies); split
// packets as a header-split queue delivers them; a mapped file registered as
// external memory.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include <rte_dmadev.h>
#include <rte_eal.h>
#include <rte_mbuf.h>

#include "eal_environment.hpp"
#include "shadow/imported_region.hpp"
#include "sdk/burst_access.hpp"
#include "sdk/packet_state.hpp"
#include "shadow/shadows.hpp"
#include <sl/filter.hpp>

namespace {

auto* g_eal = static_cast<sl_test::EalEnvironment*>(
    ::testing::AddGlobalTestEnvironment(new sl_test::EalEnvironment("test-shadow-engine", 1023, {"--vdev=dma_skeleton0", "--vdev=dma_skeleton1"})));

// A packet of `bytes` spread over segments of at most 256 bytes, its
// payload offset set as the parser would.
rte_mbuf* chained(const std::string& bytes, uint16_t payload_offset) {
    rte_mbuf* head = nullptr;
    for (size_t at = 0; at < bytes.size(); at += 256) {
        rte_mbuf* seg = rte_pktmbuf_alloc(g_eal->pool());
        size_t n = std::min<size_t>(256, bytes.size() - at);
        std::memcpy(rte_pktmbuf_append(seg, static_cast<uint16_t>(n)), bytes.data() + at, n);
        if (!head) head = seg;
        else EXPECT_EQ(rte_pktmbuf_chain(head, seg), 0);
    }
    sl::PacketMeta& pm = sl::detail::mutable_meta(head);
    pm = {};
    pm.wire_len = rte_pktmbuf_pkt_len(head);
    pm.payload_offset = payload_offset;
    pm.flags = sl::kParsed;
    return head;
}

std::string pattern(size_t n) {
    std::string s(n, '\0');
    for (size_t i = 0; i < n; i++) s[i] = static_cast<char>('a' + i * 7 % 26);
    return s;
}

std::string through_view(const sl::PacketView& v, uint32_t offset, uint32_t length, size_t* spans = nullptr) {
    std::string out;
    size_t n = 0;
    v.for_each_span(offset, length, [&](const uint8_t* p, uint32_t len) {
        out.append(reinterpret_cast<const char*>(p), len);
        n++;
        return true;
    });
    if (spans) *spans = n;
    return out;
}

// Fails every copy of the packets it is told to, like a DMA engine reporting
// a bad completion.
class FailingEngine final : public sl::shadow::CopyEngine {
public:
    explicit FailingEngine(std::vector<uint16_t> fail) : fail_(std::move(fail)) {}
    std::string name() const override { return "failing"; }
    void submit(const sl::shadow::CopyRequest* r, uint32_t n, sl::shadow::Counters& c) noexcept override {
        for (uint32_t i = 0; i < n; i++) {
            if (std::find(fail_.begin(), fail_.end(), r[i].packet) != fail_.end()) {
                failed_.push_back(r[i].packet);
                continue;
            }
            std::memcpy(r[i].dst, r[i].src, r[i].length);
            c.bytes_copied_cpu += r[i].length;
        }
    }
    void wait(sl::shadow::PacketBits& failed, sl::shadow::Counters&) noexcept override {
        for (uint16_t p : failed_) sl::shadow::mark(failed, p);
        failed_.clear();
    }

private:
    std::vector<uint16_t> fail_;
    std::vector<uint16_t> failed_;
};

}  // namespace

TEST(PacketView, ReadsAcrossSegments) {
    std::string bytes = pattern(1000);
    rte_mbuf* m = chained(bytes, 54);
    ASSERT_EQ(m->nb_segs, 4);
    rte_mbuf* packets[1] = {m};
    uint32_t verdicts[1] = {};
    std::array<sl::detail::Shadow, 256> table{};

    sl::Burst payload = sl::detail::BurstAccess::make(packets, verdicts, 1, table.data(), sl::Access::payload, nullptr);
    size_t spans = 0;
    EXPECT_EQ(through_view(payload.view(0), 0, 1000, &spans), bytes);
    EXPECT_EQ(spans, 4u);
    EXPECT_EQ(through_view(payload.view(0), 250, 20, &spans), bytes.substr(250, 20));
    EXPECT_EQ(spans, 2u);
    uint8_t scratch[64];
    const uint8_t* p = payload.view(0).read(250, 20, scratch);
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(p), 20), bytes.substr(250, 20));
    EXPECT_EQ(p, scratch) << "a range across segments is copied";
    EXPECT_EQ(payload.view(0).read(990, 20, scratch), nullptr) << "past the end";
    EXPECT_EQ(payload.writable(0), nullptr) << "read-only access gets no mutable pointer";
    rte_pktmbuf_free(m);
    EXPECT_EQ(rte_mempool_avail_count(g_eal->pool()), g_eal->pool()->size);
}

TEST(PacketView, StopsWhereTheAccessEnds) {
    std::string bytes = pattern(1000);
    rte_mbuf* m = chained(bytes, 54);
    rte_mbuf* packets[1] = {m};
    uint32_t verdicts[1] = {};
    std::array<sl::detail::Shadow, 256> table{};
    sl::Burst headers = sl::detail::BurstAccess::make(packets, verdicts, 1, table.data(), sl::Access::headers, nullptr);
    EXPECT_EQ(headers.view(0).size(), 54u);
    EXPECT_EQ(through_view(headers.view(0), 0, 1000), bytes.substr(0, 54));
    sl::Burst metadata = sl::detail::BurstAccess::make(packets, verdicts, 1, table.data(), sl::Access::metadata, nullptr);
    EXPECT_EQ(metadata.view(0).size(), 0u);
    sl::Burst write = sl::detail::BurstAccess::make(packets, verdicts, 1, table.data(), sl::Access::write, nullptr);
    EXPECT_EQ(write.writable(0), rte_pktmbuf_mtod(m, uint8_t*));
    rte_pktmbuf_free(m);
    EXPECT_EQ(rte_mempool_avail_count(g_eal->pool()), g_eal->pool()->size);
}

TEST(Shadows, HybridGathersAChainedPayloadIntoOneShadow) {
    sl::shadow::PolicyConfig hybrid;
    sl::shadow::Shadows shadows(hybrid, true, 2048, 0, nullptr);
    std::string bytes = pattern(1000);
    rte_mbuf* packets[2] = {chained(bytes, 54), chained(bytes.substr(0, 100), 100)};
    sl::shadow::Counters c;
    shadows.begin_walk(packets, 2, c);
    EXPECT_EQ(shadows.prepare(packets, 2, sl::Access::headers, hybrid, c), 2);
    EXPECT_EQ(c.bytes_pulled, 0u) << "headers are read in place";
    EXPECT_EQ(shadows.prepare(packets, 2, sl::Access::payload, hybrid, c), 2);
    EXPECT_EQ(c.bytes_pulled, 1000u - 54) << "the payload, and nothing for a packet without one";
    uint32_t verdicts[2] = {};
    sl::Burst burst = sl::detail::BurstAccess::make(packets, verdicts, 2, shadows.table(), sl::Access::payload, nullptr);
    size_t spans = 0;
    EXPECT_EQ(through_view(burst.view(0), 0, 1000, &spans), bytes);
    EXPECT_EQ(spans, 2u) << "headers in place, then the whole payload from its shadow";
    EXPECT_EQ(through_view(burst.view(0), 54, 1000, &spans), bytes.substr(54));
    EXPECT_EQ(spans, 1u);
    rte_pktmbuf_free_bulk(packets, 2);
    EXPECT_EQ(rte_mempool_avail_count(g_eal->pool()), g_eal->pool()->size);
}

TEST(Shadows, AFailedCopyDropsOnlyItsPacket) {
    sl::shadow::PolicyConfig copy_once{sl::shadow::Policy::copy_once, 0};
    FailingEngine engine({1, 3});
    sl::shadow::Shadows shadows(copy_once, true, 2048, 0, &engine);
    std::vector<std::string> bytes;
    rte_mbuf* packets[5];
    for (int i = 0; i < 5; i++) {
        bytes.push_back(pattern(300 + i));
        packets[i] = chained(bytes.back(), 42);
    }
    rte_mbuf* original[5];
    std::copy(packets, packets + 5, original);
    sl::shadow::Counters c;
    shadows.begin_walk(packets, 5, c);
    ASSERT_EQ(shadows.prepare(packets, 5, sl::Access::headers, copy_once, c), 3);
    // The good ones stay in front, in order; the failed ones go to the end.
    EXPECT_EQ(packets[0], original[0]);
    EXPECT_EQ(packets[1], original[2]);
    EXPECT_EQ(packets[2], original[4]);
    EXPECT_TRUE((packets[3] == original[1] && packets[4] == original[3]) ||
                (packets[3] == original[3] && packets[4] == original[1]));
    uint32_t verdicts[3] = {};
    sl::Burst burst = sl::detail::BurstAccess::make(packets, verdicts, 3, shadows.table(), sl::Access::payload, nullptr);
    EXPECT_EQ(through_view(burst.view(1), 0, 1000), bytes[2]);
    // A failed packet has no shadow left: a later reader would see it in place.
    sl::Burst failed = sl::detail::BurstAccess::make(packets + 3, verdicts, 2, shadows.table(), sl::Access::payload, nullptr);
    size_t spans = 0;
    through_view(failed.view(0), 0, 1000, &spans);
    EXPECT_EQ(spans, 2u) << "read in place over its two segments";
    rte_pktmbuf_free_bulk(packets, 5);
    EXPECT_EQ(rte_mempool_avail_count(g_eal->pool()), g_eal->pool()->size);
}

// Pulls four chained packets whole through a dma_skeleton (stopped first when
// `silent`: it then takes copies and never completes them), checks what the
// counters say, and that every byte arrived.
void pull_through_dma(const char* device, bool silent) {
    uint16_t vchans = 0;
    int16_t dev = sl::shadow::configure_dma_device(device, 1, vchans);
    ASSERT_EQ(vchans, 1);
    sl::shadow::DmaConfig config;
    config.device = dev;
    config.timeout_us = 20000;
    sl::shadow::PolicyConfig copy_once{sl::shadow::Policy::copy_once, 0};
    std::string bytes = pattern(1000);
    {
        auto engine = sl::shadow::make_dma_engine(config);
        sl::shadow::Shadows shadows(copy_once, true, 2048, 0, engine.get());
        // A stopped skeleton takes copies and never completes them.
        if (silent) rte_dma_stop(dev);
        rte_mbuf* packets[4];
        for (auto& p : packets) p = chained(bytes, 54);
        sl::shadow::Counters c;
        shadows.begin_walk(packets, 4, c);
        ASSERT_EQ(shadows.prepare(packets, 4, sl::Access::headers, copy_once, c), 4);
        EXPECT_EQ(c.bytes_pulled, 4000u);
        EXPECT_EQ(c.bytes_copied_dma + c.bytes_copied_cpu, 4000u);
        if (silent) {
            EXPECT_EQ(c.bytes_copied_dma, 0u);
            EXPECT_EQ(c.dma_fallbacks, 16u) << "4 segments of 4 packets";
            EXPECT_GE(c.dma_wait_cycles, rte_get_tsc_hz() / 100) << "it waited about 20 ms, then gave up";
        } else {
            EXPECT_EQ(c.bytes_copied_dma, 4000u);
            EXPECT_EQ(c.dma_batches, 1u) << "one submit for the burst";
        }
        uint32_t verdicts[4] = {};
        sl::Burst burst = sl::detail::BurstAccess::make(packets, verdicts, 4, shadows.table(), sl::Access::payload, nullptr);
        for (uint16_t i = 0; i < 4; i++) EXPECT_EQ(through_view(burst.view(i), 0, 1000), bytes) << silent;
        rte_pktmbuf_free_bulk(packets, 4);
    }
    sl::shadow::stop_dma_device(dev);
    EXPECT_EQ(rte_mempool_avail_count(g_eal->pool()), g_eal->pool()->size);
}

TEST(DmaEngine, CopiesTheSameBytesAsTheCpu) { pull_through_dma("dma_skeleton0", false); }

TEST(DmaEngine, ABoundedWaitSurvivesASilentEngine) { pull_through_dma("dma_skeleton1", true); }

TEST(Shadows, ASplitPacketIsServedAsHybridPromises) {
    // What a queue with RTE_ETH_RX_OFFLOAD_BUFFER_SPLIT delivers: the first
    // 128 bytes in a mbuf of the header pool, the rest in the packet pool's.
    rte_mempool* headers = rte_pktmbuf_pool_create("test_headers", 63, 0, 0, RTE_PKTMBUF_HEADROOM + 128, 0);
    ASSERT_NE(headers, nullptr);
    std::string bytes = pattern(200);
    sl::shadow::PolicyConfig hybrid;
    sl::shadow::Shadows shadows(hybrid, true, 2048, 0, nullptr);
    rte_mbuf* packets[2];
    for (uint16_t payload_offset : {66, 150}) {  // headers within the first segment, and beyond it
        rte_mbuf* head = rte_pktmbuf_alloc(headers);
        rte_mbuf* tail = rte_pktmbuf_alloc(g_eal->pool());
        std::memcpy(rte_pktmbuf_append(head, 128), bytes.data(), 128);
        std::memcpy(rte_pktmbuf_append(tail, 72), bytes.data() + 128, 72);
        ASSERT_EQ(rte_pktmbuf_chain(head, tail), 0);
        sl::PacketMeta& pm = sl::detail::mutable_meta(head);
        pm = {};
        pm.payload_offset = payload_offset;
    pm.flags = sl::kParsed;
        packets[payload_offset == 66 ? 0 : 1] = head;
    }
    sl::shadow::Counters c;
    shadows.begin_walk(packets, 2, c);
    uint32_t verdicts[2] = {};
    sl::Burst header_burst = sl::detail::BurstAccess::make(packets, verdicts, 2, shadows.table(), sl::Access::headers, nullptr);
    size_t spans = 0;
    EXPECT_EQ(through_view(header_burst.view(0), 0, 200, &spans), bytes.substr(0, 66));
    EXPECT_EQ(spans, 1u) << "the headers, in place in the header segment";
    EXPECT_EQ(through_view(header_burst.view(1), 0, 200, &spans), bytes.substr(0, 150));
    EXPECT_EQ(spans, 2u) << "headers longer than the split read across both segments";

    ASSERT_EQ(shadows.prepare(packets, 2, sl::Access::payload, hybrid, c), 2);
    EXPECT_EQ(c.bytes_pulled, (200u - 66) + (200u - 150)) << "only the payloads";
    sl::Burst payload_burst = sl::detail::BurstAccess::make(packets, verdicts, 2, shadows.table(), sl::Access::payload, nullptr);
    for (uint16_t i = 0; i < 2; i++) {
        EXPECT_EQ(through_view(payload_burst.view(i), 0, 200, &spans), bytes);
        EXPECT_EQ(spans, i == 0 ? 2u : 3u) << "headers in place (over both segments for the second), payload from "
                                              "its shadow";
    }
    rte_pktmbuf_free_bulk(packets, 2);
    EXPECT_EQ(rte_mempool_avail_count(headers), headers->size);
    EXPECT_EQ(rte_mempool_avail_count(g_eal->pool()), g_eal->pool()->size);
    rte_mempool_free(headers);
}

TEST(ImportedRegion, AMappedFileIsRegisteredAsExternalMemoryForItsLife) {
    std::string path = ::testing::TempDir() + "imported-region.bin";
    std::string bytes = pattern(10000);
    { std::ofstream(path, std::ios::binary) << bytes; }
    int fd = ::open(path.c_str(), O_RDONLY);
    ASSERT_GE(fd, 0);
    void* map = mmap(nullptr, bytes.size(), PROT_READ, MAP_PRIVATE, fd, 0);
    ::close(fd);
    ASSERT_NE(map, MAP_FAILED);
    const auto* at = static_cast<const uint8_t*>(map);
    EXPECT_EQ(rte_mem_virt2memseg_list(at), nullptr);
    {
        sl::shadow::ImportedRegion region(map, bytes.size());
        ASSERT_TRUE(region.registered()) << region.why();
        const rte_memseg_list* list = rte_mem_virt2memseg_list(at + 9999);
        ASSERT_NE(list, nullptr);
        EXPECT_TRUE(list->external);
        EXPECT_EQ(list->len, 12288u) << "whole pages";
        ASSERT_EQ(rte_eal_iova_mode(), RTE_IOVA_VA) << "what --no-huge gives";
        EXPECT_EQ(rte_mem_virt2iova(at + 5000), reinterpret_cast<rte_iova_t>(at + 5000));
        sl::shadow::ImportedRegion again(map, bytes.size());
        EXPECT_FALSE(again.registered()) << "a region is registered once";
        EXPECT_NE(again.why().find("not registered"), std::string::npos);
        sl::shadow::ImportedRegion unaligned(at + 1, 100);
        EXPECT_FALSE(unaligned.registered());
    }
    EXPECT_EQ(rte_mem_virt2memseg_list(at), nullptr) << "unregistered with the region";
    munmap(map, bytes.size());
    std::remove(path.c_str());
}
