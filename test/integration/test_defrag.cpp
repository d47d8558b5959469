// defrag end to end: fragments in, whole datagrams out. The oracle is the
// datagrams the fragments were cut from (pcap-samples/fragments-whole.pcap,
// written by scripts/make-samples.py with the fragments), and tcpflow on
// them for the streams of TCP connections whose segments travel in pieces.
#include <arpa/inet.h>

#include "harness.hpp"

using namespace sl_test;

namespace {

class Defrag : public Harness {};

TEST_F(Defrag, EveryDatagramComesOutWholeWhereItsLastFragmentCame) {
    // In order, reversed, interleaved, 21 pieces, a VLAN, IPv6 with and
    // without extension headers before the fragment header, a padded last
    // piece, TCP segments; unfragmented packets in between.
    std::string in = sample("fragments.pcap");
    auto expected = read_capture(sample("fragments-whole.pcap"));
    auto fragments = read_capture(in);
    ASSERT_EQ(expected.size(), 30u);
    // Also with records in 64-byte segments, which cut headers apart.
    for (const char* policy : {"hybrid", "zero-copy", "copy-once", "prefetch"})
    for (const char* workers : {"1", "2"})
    for (const char* segment : {"32768", "64"}) {
        std::string out = path(std::string(policy) + workers + "-" + segment);
        Result r = replay({"-q", "--workers", workers, "--shadow", policy, "--segment", segment, "-o", out,
                           "--stats-json", out + ".json", "-e", "rx | defrag | pcap \"whole.pcap\"", in});
        ASSERT_EQ(r.status, 0) << r.err;
        EXPECT_EQ(read_capture(out + "/whole.pcap"), expected)
            << policy << ", " << workers << " workers, segments of " << segment;
        Stats s = stats_of(out + ".json");
        expect_conservation(s);
        uint64_t made = s.of("defrag#1", "packets_made");
        uint64_t joined = s.of("defrag#1", "defragmented");
        EXPECT_EQ(made, s.of("defrag#1", "datagrams"));
        EXPECT_EQ(fragments.size() - joined + made, expected.size());
        EXPECT_EQ(made, 13u);
        for (const char* given_up : {"frag_overlap", "frag_oversize", "frag_too_many", "frag_timeout", "frag_evicted",
                                     "frag_incomplete", "frag_truncated", "frag_unsupported", "frag_held"})
            EXPECT_EQ(s.of("defrag#1", given_up), 0u) << given_up;
    }
}

TEST_F(Defrag, StreamsOfFragmentedSegmentsAreTcpflowsOfTheWholeOnes) {
    std::string in = sample("fragments.pcap");
    auto expected = tcpflow(sample("fragments-whole.pcap"));
    ASSERT_EQ(expected.size(), 4u);
    for (const char* workers : {"1", "2"}) {
        std::string out = path(std::string("w") + workers);
        Result r = replay({"-q", "--workers", workers, "-o", out, "--stats-json", out + ".json", "-e",
                           "rx | defrag | reassemble | streams \"flows\"", in});
        ASSERT_EQ(r.status, 0) << r.err;
        EXPECT_EQ(files_in(fs::path(out) / "flows"), expected) << workers << " workers";
        Stats s = stats_of(out + ".json");
        expect_conservation(s);
        EXPECT_EQ(s.of("reassemble#1", "stream_gap"), 0u);
    }
    // Without defrag the pieces after the first carry no TCP header: the
    // streams have holes.
    std::string out = path("no-defrag");
    Result r = replay({"-q", "-o", out, "-e", "rx | reassemble | streams \"flows\"", in});
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_NE(files_in(fs::path(out) / "flows"), expected);
}

// An Ethernet + IPv4 fragment from 10.8.0.1 to 10.8.0.2 (UDP), datagram
// `id`, at byte `offset` of its payload, `length` bytes of `fill`.
std::string fragment4(uint16_t id, uint32_t offset, bool more, uint16_t length, char fill = 'f') {
    std::string f(34 + length, fill);
    uint16_t total = static_cast<uint16_t>(20 + length);
    uint16_t frag = static_cast<uint16_t>((more ? 0x2000 : 0) | (offset / 8));
    const uint8_t head[34] = {0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 1, 0x08, 0x00,
                              0x45, 0, static_cast<uint8_t>(total >> 8), static_cast<uint8_t>(total),
                              static_cast<uint8_t>(id >> 8), static_cast<uint8_t>(id),
                              static_cast<uint8_t>(frag >> 8), static_cast<uint8_t>(frag), 64, 17, 0, 0,
                              10, 8, 0, 1, 10, 8, 0, 2};
    std::memcpy(f.data(), head, sizeof(head));
    return f;
}

// The same with a header of `words` 32-bit words (options of zeros).
std::string fragment4_with_options(uint16_t id, uint32_t offset, bool more, uint16_t length, unsigned words) {
    std::string f = fragment4(id, offset, more, length);
    std::string options((words - 5) * 4, '\0');
    f.insert(34, options);
    uint16_t total = static_cast<uint16_t>(words * 4 + length);
    f[14] = static_cast<char>(0x40 | words);
    f[16] = static_cast<char>(total >> 8);
    f[17] = static_cast<char>(total);
    return f;
}

// An Ethernet + IPv4 + UDP packet that is not a fragment.
std::string plain4(uint16_t id) {
    std::string f = fragment4(id, 0, false, 16);
    f[20] = f[21] = 0;
    return f;
}

TEST_F(Defrag, HostileFragmentsAreGivenUpAndCountedByReason) {
    std::vector<Frame> frames{
        // teardrop: the second piece overlaps the first
        {fragment4(1, 0, true, 24), 0}, {fragment4(1, 8, false, 16), 0},
        // a duplicate piece, then the last piece alone (never completed)
        {fragment4(2, 0, true, 16), 0}, {fragment4(2, 0, true, 16), 0}, {fragment4(2, 16, false, 8), 0},
        // the ping of death: past 65,535 bytes
        {fragment4(3, 65528, false, 16), 0},
        // more pieces than fragments=4 allows; the sixth begins anew
        {fragment4(4, 0, true, 8), 0}, {fragment4(4, 8, true, 8), 0}, {fragment4(4, 16, true, 8), 0},
        {fragment4(4, 24, true, 8), 0}, {fragment4(4, 32, true, 8), 0}, {fragment4(4, 40, false, 8), 0},
        // a piece that is not a multiple of 8 bytes but says more follow
        {fragment4(5, 0, true, 12), 0},
        // a piece the capture cut short: it goes on as it is
        {fragment4(6, 0, true, 64), 0, 60},
        // a good datagram of two pieces
        {fragment4(7, 0, true, 16, 'a'), 0}, {fragment4(7, 16, false, 4, 'b'), 0},
        // a first piece whose rest never comes
        {fragment4(8, 0, true, 16), 1},
        // each piece within 65,535 bytes by its own header, the whole not
        // by the first piece's 60-byte one
        {fragment4_with_options(10, 0, true, 8, 15), 1}, {fragment4(10, 8, true, 65464), 1},
        {fragment4(10, 65472, false, 40), 1},
    };
    // A minute later, more than a burst of packets that are not fragments:
    // the datagrams still incomplete then (ids 2, 4 and 8) time out.
    for (uint16_t k = 0; k < 300; k++) frames.push_back({plain4(k), 60});
    std::string in = path("hostile.pcap");
    write_frames(in, frames);
    std::string out = path("out");
    Result r = replay({"-q", "--workers", "1", "-o", out, "--stats-json", out + ".json", "-e",
                       "rx | defrag fragments=4 timeout=30 | pcap \"out.pcap\"", in});
    ASSERT_EQ(r.status, 0) << r.err;
    Stats s = stats_of(out + ".json");
    expect_conservation(s);
    EXPECT_EQ(s.of("defrag#1", "frag_overlap"), 2u + 2u);
    EXPECT_EQ(s.of("defrag#1", "frag_oversize"), 1u + 3u);
    EXPECT_EQ(s.of("defrag#1", "frag_too_many"), 5u);
    EXPECT_EQ(s.of("defrag#1", "bad_fragment"), 1u);
    EXPECT_EQ(s.of("defrag#1", "frag_truncated"), 1u);
    EXPECT_EQ(s.of("defrag#1", "frag_timeout"), 3u);
    EXPECT_EQ(s.of("defrag#1", "frag_incomplete"), 0u);
    EXPECT_EQ(s.of("defrag#1", "datagrams"), 1u);
    EXPECT_EQ(s.of("defrag#1", "frag_held"), 0u);
    // What comes out: the truncated piece, the joined datagram, the 300.
    auto written = read_capture(out + "/out.pcap");
    ASSERT_EQ(written.size(), 302u);
    EXPECT_EQ(written[0].data, fragment4(6, 0, true, 64).substr(0, 60));
    std::string whole = fragment4(7, 0, false, 20, 'a');
    whole.replace(34 + 16, 4, "bbbb");
    // The joined header: no fragment bits, the whole length, a checksum.
    whole[20] = whole[21] = 0;
    uint32_t sum = 0;
    for (int k = 14; k < 34; k += 2) sum += (uint8_t(whole[k]) << 8) | uint8_t(whole[k + 1]);
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    whole[24] = static_cast<char>(~sum >> 8);
    whole[25] = static_cast<char>(~sum);
    EXPECT_EQ(written[1].data, whole);
    EXPECT_EQ(written[1].wire_len, whole.size());
}

TEST_F(Defrag, AFragmentFloodStaysWithinTheTableAndThePoolComesBackFull) {
    // 200,000 first pieces of datagrams that never complete, each its own
    // id and source, then one datagram that does.
    std::vector<Frame> frames;
    for (uint32_t k = 0; k < 200000; k++) {
        std::string f = fragment4(static_cast<uint16_t>(k), 0, true, 32);
        f[28] = static_cast<char>(k >> 16);  // the source address
        frames.push_back({std::move(f), 0});
    }
    for (std::string piece : {fragment4(9, 0, true, 16, 'a'), fragment4(9, 16, false, 16, 'b')}) {
        piece[29] = 99;  // from 10.8.0.99: none of the flood's
        frames.push_back({piece, 1});
    }
    std::string in = path("flood.pcap");
    write_frames(in, frames);
    std::string out = path("out");
    Result r = replay({"-q", "--workers", "2", "-o", out, "--stats-json", out + ".json", "-e",
                       "rx | defrag datagrams=1024 held=2048 | pcap \"out.pcap\"", in});
    ASSERT_EQ(r.status, 0) << r.err;
    Stats s = stats_of(out + ".json");
    expect_conservation(s);
    uint64_t evicted = s.of("defrag#1", "frag_evicted");
    uint64_t incomplete = s.of("defrag#1", "frag_incomplete");
    EXPECT_EQ(evicted + incomplete, 200000u);
    EXPECT_LE(incomplete, 2u * 1024u);  // what each worker's table held at the end
    EXPECT_EQ(s.of("defrag#1", "datagrams"), 1u);
    EXPECT_EQ(records_in(out + "/out.pcap"), 1u);
}

TEST_F(Defrag, AGraphThatSharesPacketsBeforeItIsRefused) {
    for (const char* config : {"all = rx | count; all | defrag | count; all | count", "rx | pcap \"all.pcap\" | defrag | count"}) {
        Result r = replay({"-o", path("out"), "-e", config, sample("fragments.pcap")});
        EXPECT_EQ(r.status, 2) << config;
        EXPECT_NE(r.err.find("defrag keeps packets"), std::string::npos) << r.err;
    }
    Result r = replay({"-e", "rx | defrag fragments=1 | count", sample("fragments.pcap")});
    EXPECT_EQ(r.status, 2);
    EXPECT_NE(r.err.find("fragments"), std::string::npos) << r.err;
}

}  // namespace
