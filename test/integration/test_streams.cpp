// TCP streams end to end: reassemble and streams on real captures, with
// tcpflow as the oracle for the bytes of every stream direction.
#include <arpa/inet.h>

#include <set>

#include "harness.hpp"

using namespace sl_test;

namespace {

class Streams : public Harness {
protected:
    // tcpflow's files for `in`, by name (its report.xml left out).
    std::map<std::string, std::string> tcpflow(const std::string& in) {
        fs::path out = dir_ / "tcpflow";
        Result r = run(quote(env("TCPFLOW")) + " -r " + quote(in) + " -o " + quote(out.string()));
        EXPECT_EQ(r.status, 0) << r.err;
        return files_in(out, "report.xml");
    }
    static std::map<std::string, std::string> files_in(const fs::path& folder, const std::string& except = "") {
        std::map<std::string, std::string> files;
        for (const auto& e : fs::directory_iterator(folder))
            if (e.path().filename() != except) files[e.path().filename().string()] = slurp(e.path());
        return files;
    }
};

TEST_F(Streams, EveryStreamDirectionIsTcpflowsByteForByte) {
    // Reordering, a retransmission, overlaps, sequence wrap-around, a RST
    // mid-stream, a capture that starts mid-stream, IPv6 and VLAN.
    std::string in = sample("streams.pcap");
    auto expected = tcpflow(in);
    ASSERT_EQ(expected.size(), 11u);
    for (const char* workers : {"1", "2"}) {
        std::string out = path(std::string("w") + workers);
        Result r = replay({"-q", "--workers", workers, "-o", out, "--stats-json", out + ".json", "-e",
                           "rx | reassemble | streams \"flows\"", in});
        ASSERT_EQ(r.status, 0) << r.err;
        EXPECT_EQ(files_in(fs::path(out) / "flows"), expected) << workers << " workers";
        Stats s = stats_of(out + ".json");
        expect_conservation(s);
        EXPECT_EQ(s.of("reassemble#1", "flows"), 6u);
        EXPECT_EQ(s.of("reassemble#1", "stream_gap"), 0u);
        EXPECT_GT(s.of("reassemble#1", "stream_overlap_bytes"), 0u);  // the retransmission and the overlaps
        EXPECT_EQ(s.of("streams#1", "files"), 11u);
    }
}

TEST_F(Streams, OnTheMixedSampleTcpflowDiffersOnlyWhereItDoesNotParse) {
    std::string in = sample("mixed.pcap");
    auto expected = tcpflow(in);
    ASSERT_GT(expected.size(), 500u);
    std::string out = path("out");
    Result r = replay({"-q", "-o", out, "-e", "rx | reassemble | streams \"flows\"", in});
    ASSERT_EQ(r.status, 0) << r.err;
    auto ours = files_in(fs::path(out) / "flows");
    // tcpflow names some 802.1ad (QinQ) flows without their outer VLAN:
    // ours always carry it.
    std::set<std::string> matched;
    for (const auto& [name, bytes] : expected) {
        auto it = ours.find(name);
        if (it == ours.end()) it = ours.find(name + "--100");
        ASSERT_NE(it, ours.end()) << name;
        EXPECT_EQ(it->second, bytes) << name;
        matched.insert(it->first);
    }
    // tcpflow does not follow IPv6 extension headers to the TCP header.
    for (const auto& [name, bytes] : ours) {
        if (matched.count(name)) continue;
        EXPECT_NE(name.find(':'), std::string::npos) << name;
    }
}

TEST_F(Streams, GapsPastTheBoundsAreCountedAndTheStreamGoesOn) {
    // One held segment per direction: every reordering opens a gap.
    std::string out = path("out");
    Result r = replay({"-q", "-o", out, "--stats-json", out + ".json", "-e",
                       "rx | reassemble segments=1 | streams \"flows\"", sample("streams.pcap")});
    ASSERT_EQ(r.status, 0) << r.err;
    Stats s = stats_of(out + ".json");
    expect_conservation(s);
    EXPECT_GT(s.of("reassemble#1", "stream_gap"), 0u);
    EXPECT_GT(s.of("reassemble#1", "stream_gap_bytes"), 0u);
    // In-order conversations are whole all the same (wrap-around, RST).
    auto tf = tcpflow(sample("streams.pcap"));
    auto ours = files_in(fs::path(out) / "flows");
    for (const char* whole : {"010.001.000.003.40001-010.001.000.002.00080", "010.001.000.004.40002-010.001.000.002.00080"})
        EXPECT_EQ(ours[whole], tf[whole]) << whole;
}

// A capture written here: `count` SYNs from distinct ports, all to one server.
void write_syn_flood(const std::string& file, unsigned count) {
    pcap_t* dead = pcap_open_dead(DLT_EN10MB, 65535);
    pcap_dumper_t* d = pcap_dump_open(dead, file.c_str());
    ASSERT_NE(d, nullptr);
    uint8_t frame[54] = {};
    frame[12] = 0x08;                            // IPv4
    frame[14] = 0x45;                            // version, IHL
    frame[17] = 40;                              // total length
    frame[22] = 64;                              // TTL
    frame[23] = 6;                               // TCP
    frame[26] = 10, frame[29] = 1;               // 10.x.y.1
    frame[30] = 192, frame[31] = 168, frame[33] = 1;  // 192.168.0.1
    frame[36] = 0, frame[37] = 80;               // dport 80
    frame[46] = 0x50;                            // data offset
    frame[47] = 0x02;                            // SYN
    for (unsigned i = 0; i < count; i++) {
        frame[27] = static_cast<uint8_t>(i >> 16);
        frame[28] = static_cast<uint8_t>(i >> 8);
        frame[34] = static_cast<uint8_t>(i >> 8);
        frame[35] = static_cast<uint8_t>(i);
        pcap_pkthdr h{};
        h.ts.tv_sec = 1700000000 + i / 100000;
        h.ts.tv_usec = static_cast<suseconds_t>(i % 100000);
        h.caplen = h.len = sizeof(frame);
        pcap_dump(reinterpret_cast<u_char*>(d), &h, frame);
    }
    pcap_dump_close(d);
    pcap_close(dead);
}

TEST_F(Streams, ASynFloodFillsTheTableAndEvictsWithinItsBounds) {
    std::string in = path("syn-flood.pcap");
    write_syn_flood(in, 200000);
    std::string out = path("out");
    Result r = replay({"-q", "-o", out, "--stats-json", out + ".json", "-e",
                       "rx | reassemble flows=1024 | streams \"flows\"", in});
    ASSERT_EQ(r.status, 0) << r.err;
    Stats s = stats_of(out + ".json");
    expect_conservation(s);
    EXPECT_EQ(s.total("packets_read"), 200000u);
    uint64_t flows = s.of("reassemble#1", "flows");
    uint64_t evicted = s.of("reassemble#1", "flow_evicted");
    uint64_t full = s.of("reassemble#1", "flow_table_full");
    // Every SYN is a flow, or counted as finding no room; at most the
    // table's capacity per worker is alive at the end.
    EXPECT_EQ(flows + full, 200000u);
    EXPECT_GE(evicted + 1024 * 2, flows);
    EXPECT_GT(evicted, 150000u);
    EXPECT_TRUE(fs::is_empty(fs::path(out) / "flows"));  // SYNs carry no bytes
}

TEST_F(Streams, AStreamReaderWithoutReassembleBeforeItIsAConfigurationError) {
    Result r = replay({"-o", path("out"), "-e", "rx | streams \"flows\"", sample("streams.pcap")});
    EXPECT_EQ(r.status, 2);
    EXPECT_NE(r.err.find("streams reads TCP streams: put reassemble before it"), std::string::npos) << r.err;
    // Some path reaches it without a maker.
    r = replay({"-o", path("out"), "-e", "s = rx | reassemble\ns | streams \"a\"\nrx | streams \"b\"",
                sample("streams.pcap")});
    EXPECT_EQ(r.status, 2) << r.err;
    EXPECT_NE(r.err.find("put reassemble before it"), std::string::npos) << r.err;
}

TEST_F(Streams, AFolderHoldingAnEarlierRunsFilesIsRefused) {
    fs::create_directories(dir_ / "out" / "flows");
    std::ofstream(dir_ / "out" / "flows" / "old") << "x";
    Result r = replay({"-o", path("out"), "-e", "rx | reassemble | streams \"flows\"", sample("streams.pcap")});
    EXPECT_EQ(r.status, 2);
    EXPECT_NE(r.err.find("is not empty"), std::string::npos) << r.err;
}

}  // namespace
