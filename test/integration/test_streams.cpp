// TCP streams end to end: reassemble and streams on real captures, with
// tcpflow as the oracle for the bytes of every stream direction.
#include <arpa/inet.h>

#include <array>
#include <set>

#include "harness.hpp"

using namespace sl_test;

namespace {

class Streams : public Harness {
protected:
    // What `tshark -z follow,tcp,raw` gives for the connection between two
    // "ADDR:PORT" endpoints: the bytes each sent, first sender first.
    std::pair<std::string, std::string> tshark_follow(const std::string& in, const std::string& a, const std::string& b) {
        Result r = run("tshark -r " + quote(in) + " -q -z " + quote("follow,tcp,raw," + a + "," + b));
        EXPECT_EQ(r.status, 0) << r.err;
        std::pair<std::string, std::string> bytes;
        std::istringstream lines(r.out);
        bool body = false;
        for (std::string line; std::getline(lines, line);) {
            if (line.rfind("Node 1:", 0) == 0) body = true;
            if (!body || line.empty() || line[0] == '=' || line.rfind("Node", 0) == 0) continue;
            // Lines of the second sender are indented by a tab.
            std::string& to = line[0] == '\t' ? bytes.second : bytes.first;
            for (size_t i = line.find_first_not_of('\t'); i + 1 < line.size(); i += 2)
                to += static_cast<char>(std::stoi(line.substr(i, 2), nullptr, 16));
        }
        return bytes;
    }
    // The bytes of every stream direction of streams.pcap: tcpflow's, but
    // for the one connection whose retransmission carries other bytes than
    // the first copy. tcpflow writes the last copy over the first; we keep
    // the first, as the Linux and BSD stacks do and as Wireshark's follow
    // does, so that connection comes from tshark.
    std::map<std::string, std::string> reference_streams() {
        std::string in = sample("streams.pcap");
        auto files = tcpflow(in);
        auto [client, server] = tshark_follow(in, "10.1.0.7:40007", "10.1.0.2:80");
        std::string& rewritten = files["010.001.000.007.40007-010.001.000.002.00080"];
        EXPECT_EQ(client.size(), 900u);
        EXPECT_NE(client, rewritten);
        EXPECT_EQ(server, files["010.001.000.002.00080-010.001.000.007.40007"]);
        rewritten = client;
        return files;
    }
};

TEST_F(Streams, EveryStreamDirectionIsTcpflowsByteForByte) {
    // Reordering, a retransmission, overlaps, sequence wrap-around, a RST
    // mid-stream, a capture that starts mid-stream, IPv6 and VLAN.
    // A retransmission with other bytes (tshark's reading, see above).
    std::string in = sample("streams.pcap");
    auto expected = reference_streams();
    ASSERT_EQ(expected.size(), 15u);
    // Bytes gathered per direction in the default pool, written at once
    // (buffer=0), and through a pool of one buffer that every direction
    // takes from the last (buffer=4).
    for (const char* workers : {"1", "2"})
    for (const char* buffer : {"", " buffer=0", " buffer=4"}) {
        std::string out = path(std::string("w") + workers + buffer);
        Result r = replay({"-q", "--workers", workers, "-o", out, "--stats-json", out + ".json", "-e",
                           std::string("rx | reassemble | streams \"flows\"") + buffer, in});
        ASSERT_EQ(r.status, 0) << r.err;
        EXPECT_EQ(files_in(fs::path(out) / "flows"), expected) << workers << " workers," << buffer;
        Stats s = stats_of(out + ".json");
        expect_conservation(s);
        EXPECT_EQ(s.of("reassemble#1", "flows"), 8u);
        EXPECT_EQ(s.of("reassemble#1", "stream_gap"), 0u);
        EXPECT_GT(s.of("reassemble#1", "stream_overlap_bytes"), 0u);  // the retransmission and the overlaps
        EXPECT_EQ(s.of("streams#1", "files"), 15u);
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

TEST_F(Streams, AMillionSynsFillTheTableAndEvictWithinItsBounds) {
    std::string in = path("syn-flood.pcap");
    write_syn_flood(in, 1000000);
    std::string out = path("out");
    Result r = replay({"-q", "-o", out, "--stats-json", out + ".json", "-e",
                       "rx | reassemble flows=1024 | streams \"flows\"", in});
    ASSERT_EQ(r.status, 0) << r.err;
    Stats s = stats_of(out + ".json");
    expect_conservation(s);
    EXPECT_EQ(s.total("packets_read"), 1000000u);
    uint64_t flows = s.of("reassemble#1", "flows");
    uint64_t evicted = s.of("reassemble#1", "flow_evicted");
    uint64_t full = s.of("reassemble#1", "flow_table_full");
    // Every SYN is a flow, or counted as finding no room; at most the
    // table's capacity per worker is alive at the end.
    EXPECT_EQ(flows + full, 1000000u);
    EXPECT_GE(evicted + 1024 * 2, flows);
    EXPECT_GT(evicted, 990000u);
    EXPECT_TRUE(fs::is_empty(fs::path(out) / "flows"));  // SYNs carry no bytes
    // What a flow costs, whether busy or idle: the table is made whole at
    // the start (rte_hash's keys and buckets, the record, reassembly's state).
    const Json& nodes = s.json.at("nodes");
    auto node = std::find_if(nodes.begin(), nodes.end(), [](const Json& n) { return n.at("name") == "reassemble#1"; });
    ASSERT_NE(node, nodes.end());
    uint64_t per_flow = node->at("info").at("bytes_per_flow").get<uint64_t>();
    EXPECT_GE(per_flow, 40u + 8u + 44u);  // at least the key, the record and the two directions
    EXPECT_LE(per_flow, 128u);
}

// An Ethernet, IPv4, TCP frame from 10.9.0.<client> port 5000 to 10.9.0.254
// port 80, with `payload` bytes of 'x'.
std::string tcp_frame(uint8_t client, uint32_t seq, uint8_t flags, uint16_t payload) {
    std::string f(54 + payload, 'x');
    const uint8_t head[54] = {0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 1, 0x08, 0x00,                   // Ethernet
                              0x45, 0, static_cast<uint8_t>((40 + payload) >> 8), static_cast<uint8_t>(40 + payload),
                              0, 1, 0x40, 0, 64, 6, 0, 0, 10, 9, 0, client, 10, 9, 0, 254,         // IPv4
                              0x13, 0x88, 0, 80, static_cast<uint8_t>(seq >> 24), static_cast<uint8_t>(seq >> 16),
                              static_cast<uint8_t>(seq >> 8), static_cast<uint8_t>(seq), 0, 0, 0, 0, 0x50, flags,
                              0xff, 0xff, 0, 0, 0, 0};                                            // TCP
    std::memcpy(f.data(), head, sizeof(head));
    return f;
}

// An Ethernet, IPv6, TCP frame from `src` port 5000 to `dst` port 80 with
// `payload` bytes of `fill`.
std::string tcp6_frame(const std::array<uint8_t, 16>& src, const std::array<uint8_t, 16>& dst, uint32_t seq,
                       uint8_t flags, uint16_t payload, char fill) {
    std::string f(74 + payload, fill);
    const uint8_t ethernet[14] = {0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 1, 0x86, 0xdd};
    const uint8_t ip[8] = {0x60, 0, 0, 0, static_cast<uint8_t>((20 + payload) >> 8), static_cast<uint8_t>(20 + payload), 6,
                           64};
    const uint8_t tcp[20] = {0x13, 0x88, 0, 80, static_cast<uint8_t>(seq >> 24), static_cast<uint8_t>(seq >> 16),
                             static_cast<uint8_t>(seq >> 8), static_cast<uint8_t>(seq), 0, 0, 0, 0, 0x50, flags,
                             0xff, 0xff, 0, 0, 0, 0};
    std::memcpy(f.data(), ethernet, 14);
    std::memcpy(f.data() + 14, ip, 8);
    std::memcpy(f.data() + 22, src.data(), 16);
    std::memcpy(f.data() + 38, dst.data(), 16);
    std::memcpy(f.data() + 54, tcp, 20);
    return f;
}

TEST_F(Streams, IPv6PacketsBetweenMappedAddressesGetNoFlowOfAnIPv4Connection) {
    // The flow key keeps IPv4 addresses as IPv4-mapped IPv6 ones: IPv6
    // packets between two mapped addresses (never on a wire, RFC 4291)
    // must not join the IPv4 connection of the same addresses and ports.
    const std::array<uint8_t, 16> client{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 9, 0, 1};
    const std::array<uint8_t, 16> server{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 9, 0, 254};
    const std::array<uint8_t, 16> other{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    std::string in = path("mapped.pcap");
    write_frames(in, {{tcp_frame(1, 1000, 0x02, 0), 0},
                      {tcp6_frame(client, server, 1000, 0x02, 0, 'y'), 0},
                      {tcp6_frame(other, server, 5000, 0x02, 0, 'z'), 0},
                      {tcp6_frame(client, server, 1001, 0x18, 50, 'y'), 0},
                      {tcp_frame(1, 1001, 0x18, 100), 0},
                      {tcp6_frame(other, server, 5001, 0x18, 30, 'z'), 0}});
    std::string out = path("out");
    Result r = replay({"-q", "-o", out, "--stats-json", out + ".json", "-e", "rx | reassemble | streams \"flows\"", in});
    ASSERT_EQ(r.status, 0) << r.err;
    Stats s = stats_of(out + ".json");
    expect_conservation(s);
    EXPECT_EQ(s.of("reassemble#1", "flows"), 2u);
    auto files = files_in(fs::path(out) / "flows");
    ASSERT_EQ(files.size(), 2u);
    EXPECT_EQ(files["010.009.000.001.05000-010.009.000.254.00080"], std::string(100, 'x'));
    EXPECT_EQ(files["2001:db8::1.05000-::ffff:10.9.0.254.00080"], std::string(30, 'z'));
}

TEST_F(Streams, AFlowThatNeverClosesEndsIdleAndItsHeldBytesAreAGap) {
    // One connection sends 100 bytes, then 100 more after a gap of 100 that
    // never fills, and goes quiet; five minutes later ten other
    // connections send 2,000 packets, enough bursts for the idle sweep to
    // pass every place of the table.
    std::vector<Frame> frames{
        {tcp_frame(1, 1000, 0x02, 0), 0}, {tcp_frame(1, 1001, 0x18, 100), 1}, {tcp_frame(1, 1201, 0x18, 100), 2}};
    for (int k = 0; k < 2000; k++)
        frames.push_back({tcp_frame(static_cast<uint8_t>(2 + k % 10), 7000, k < 10 ? 0x02 : 0x10, 0), 300});
    std::string in = path("quiet.pcap");
    write_frames(in, frames);

    std::string out = path("out");
    Result r = replay({"-q", "-o", out, "--stats-json", out + ".json", "-e",
                       "rx | reassemble flows=64 idle=60 | streams \"flows\"", in});
    ASSERT_EQ(r.status, 0) << r.err;
    Stats s = stats_of(out + ".json");
    expect_conservation(s);
    EXPECT_EQ(s.of("reassemble#1", "flows"), 11u);
    EXPECT_EQ(s.of("reassemble#1", "flow_idle"), 1u);
    EXPECT_EQ(s.of("reassemble#1", "flow_evicted"), 0u);
    EXPECT_EQ(s.of("reassemble#1", "stream_gap"), 1u);
    EXPECT_EQ(s.of("reassemble#1", "stream_gap_bytes"), 100u);
    auto files = files_in(fs::path(out) / "flows");
    ASSERT_EQ(files.size(), 1u);
    EXPECT_EQ(files.begin()->first, "010.009.000.001.05000-010.009.000.254.00080");
    EXPECT_EQ(files.begin()->second, std::string(100, 'x'));
}

TEST_F(Streams, AHoleBelowTheDepthIsGivenUpOnceTheStreamReachesPastItsBound) {
    // Bytes [0,100), then a hole [100,200) that never fills, then 100-byte
    // segments up to 3,000: with depth=250 only [200,250) of them can be
    // held, so the held bound (2,048) counts how far the stream reached.
    std::vector<Frame> frames{{tcp_frame(1, 1000, 0x02, 0), 0}, {tcp_frame(1, 1001, 0x18, 100), 0}};
    for (uint32_t at = 200; at < 3000; at += 100) frames.push_back({tcp_frame(1, 1001 + at, 0x18, 100), 0});
    frames.push_back({tcp_frame(1, 1001 + 3000, 0x11, 0), 0});  // FIN
    std::string in = path("hole.pcap");
    write_frames(in, frames);
    std::string out = path("out");
    Result r = replay({"-q", "-o", out, "--stats-json", out + ".json", "-e",
                       "rx | reassemble depth=250 held=2048 | streams \"flows\"", in});
    ASSERT_EQ(r.status, 0) << r.err;
    Stats s = stats_of(out + ".json");
    expect_conservation(s);
    EXPECT_EQ(s.of("reassemble#1", "stream_gap"), 1u);
    EXPECT_EQ(s.of("reassemble#1", "stream_gap_bytes"), 100u);
    EXPECT_EQ(s.of("reassemble#1", "stream_depth_bytes"), 3000u - 250u);
    // The hole stays a hole (zeros), as in tcpflow's files.
    EXPECT_EQ(slurp(fs::path(out) / "flows" / "010.009.000.001.05000-010.009.000.254.00080"),
              std::string(100, 'x') + std::string(100, '\0') + std::string(50, 'x'));
}

TEST_F(Streams, AFinHeldBeforeTheBytesBeforeItEndsNothingYet) {
    // The FIN comes before the last segment: "$" must match where the
    // stream really ends, after the segment that comes last.
    std::string in = path("early-fin.pcap");
    write_frames(in, {{tcp_frame(1, 1000, 0x02, 0), 0},
                      {tcp_frame(1, 1001, 0x18, 100), 0},
                      {tcp_frame(1, 1201, 0x11, 0), 0},     // FIN after byte 200
                      {tcp_frame(1, 1101, 0x18, 100), 0}});  // bytes [100,200)
    std::string out = path("out");
    Result r = replay({"-q", "-o", out, "-e",
                       "rx | reassemble | stream-regex \"x{150}$\" \"^x{120}\" report=\"m.tsv\" | pcap \"m.pcap\"", in});
    ASSERT_EQ(r.status, 0) << r.err;
    // "^x{120}" is found by the last segment; "x{150}$" nowhere, since no
    // FIN came once the bytes before it were in (the direction ends with
    // the run, and the end of a run is not the end of a stream).
    EXPECT_EQ(slurp(fs::path(out) / "m.tsv"), "010.009.000.001.05000-010.009.000.254.00080\t2\t120\n");
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

// A literal for stream-match: every byte as \xHH.
std::string escaped(const std::string& bytes) {
    std::string out;
    char hex[5];
    for (unsigned char b : bytes) {
        std::snprintf(hex, sizeof(hex), "\\x%02x", b);
        out += hex;
    }
    return out;
}

// The report's lines, sorted: workers append in any order.
std::vector<std::string> sorted_lines(const std::string& text) {
    std::vector<std::string> lines;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    std::sort(lines.begin(), lines.end());
    return lines;
}

TEST_F(Streams, AMatchSplitOverSegmentsIsFoundWithItsFlowAndOffset) {
    std::string in = sample("streams.pcap");
    auto tf = tcpflow(in);
    // Patterns over segment boundaries: after a reordering, across the
    // sequence wrap-around, in IPv6 and VLAN flows whose segments came in
    // reverse order, and one inside a single segment.
    struct Cut { const char* stream; size_t at, length; };
    const Cut cuts[] = {
        {"010.001.000.001.40000-010.001.000.002.00080", 590, 20},
        {"010.001.000.003.40001-010.001.000.002.00080", 790, 20},
        {"2001:db8::a.40004-2001:db8::b.00443", 590, 20},
        {"010.002.000.001.40005-010.002.000.002.00025--7", 490, 20},
        {"010.001.000.002.00080-010.001.000.001.40000", 100, 20},
    };
    std::vector<std::string> patterns;
    for (const Cut& c : cuts) {
        ASSERT_GE(tf[c.stream].size(), c.at + c.length) << c.stream;
        patterns.push_back(tf[c.stream].substr(c.at, c.length));
    }
    // The oracle: where each pattern first ends in each of tcpflow's files.
    std::vector<std::string> expected;
    for (size_t p = 0; p < patterns.size(); p++)
        for (const auto& [name, bytes] : tf) {
            size_t at = bytes.find(patterns[p]);
            if (at != std::string::npos)
                expected.push_back(name + "\t" + std::to_string(p + 1) + "\t" + std::to_string(at + patterns[p].size()));
        }
    std::sort(expected.begin(), expected.end());
    ASSERT_EQ(expected.size(), patterns.size());

    std::string quoted;
    for (const auto& p : patterns) quoted += " \"" + escaped(p) + "\"";
    for (const char* workers : {"1", "2"}) {
        std::string out = path(std::string("w") + workers);
        Result r = replay({"-q", "--workers", workers, "-o", out, "--stats-json", out + ".json", "-e",
                           "tcp = rx | reassemble\n"
                           "tcp | stream-match" + quoted + " report=\"matches.tsv\" | pcap \"stream.pcap\"\n"
                           "rx | match" + quoted + " | pcap \"packet.pcap\"",
                           in});
        ASSERT_EQ(r.status, 0) << r.err;
        EXPECT_EQ(sorted_lines(slurp(fs::path(out) / "matches.tsv")), expected) << workers << " workers";
        Stats s = stats_of(out + ".json");
        expect_conservation(s);
        // One packet completes each match; per packet, only the pattern
        // inside one segment is found.
        EXPECT_EQ(records_in(out + "/stream.pcap"), patterns.size());
        EXPECT_EQ(records_in(out + "/packet.pcap"), 1u);
        for (size_t p = 1; p <= patterns.size(); p++)
            EXPECT_EQ(s.of("stream-match#1", "pattern" + std::to_string(p)), 1u) << p;
        EXPECT_EQ(s.of("stream-match#1", "scan_failures"), 0u);
    }
}

TEST_F(Streams, AFlowVerdictIsWhatTcpdumpKeepsOfTheFlowFromTheMatchOn) {
    std::string in = sample("streams.pcap");
    auto tf = tcpflow(in);
    struct Case { std::string pattern; const char* client; uint16_t port; };
    const Case cases[] = {
        // a request whose path is split over two segments
        {"GET /admin", "10.1.0.6", 40006},
        // bytes inside one segment, past the sequence wrap-around
        {tf["010.001.000.003.40001-010.001.000.002.00080"].substr(1000, 16), "10.1.0.3", 40001},
    };
    for (const Case& c : cases) {
        std::string out = path(std::string("out-") + c.client);
        Result r = replay({"-q", "-o", out, "--stats-json", out + ".json", "-e",
                           "rx | reassemble | stream-match \"" + escaped(c.pattern) + "\" keep=flow | pcap \"flow.pcap\"",
                           in});
        ASSERT_EQ(r.status, 0) << r.err;
        expect_conservation(stats_of(out + ".json"));
        // tcpdump's packets of the flow, from the one after which the
        // client's bytes (in order in these connections) hold the pattern.
        std::vector<Record> flow = read_capture(tcpdump_filter(
            in, std::string("host ") + c.client + " and tcp port " + std::to_string(c.port), path("flow.pcap")));
        std::string sent;
        size_t first = 0;
        for (; first < flow.size(); first++) {
            const std::string& frame = flow[first].data;
            ASSERT_GE(frame.size(), 54u);
            ASSERT_EQ(frame[14], 0x45);  // no IP options: the TCP header is at 34
            uint16_t sport = static_cast<uint16_t>(static_cast<uint8_t>(frame[34]) << 8 | static_cast<uint8_t>(frame[35]));
            size_t data = 34 + 4 * (static_cast<uint8_t>(frame[46]) >> 4);
            if (sport == c.port) sent += frame.substr(data);
            if (sent.find(c.pattern) != std::string::npos) break;
        }
        ASSERT_LT(first, flow.size()) << c.client;
        std::vector<Record> expected(flow.begin() + static_cast<long>(first), flow.end());
        EXPECT_GT(expected.size(), 3u);  // the rest of the request, the reply, the FINs
        EXPECT_EQ(read_capture(out + "/flow.pcap"), expected) << c.client;
    }
}

TEST_F(Streams, AnEndAnchoredRegexMatchesWhereTheDirectionEnds) {
    std::string in = sample("streams.pcap");
    auto tf = tcpflow(in);
    const std::string name = "010.001.000.001.40000-010.001.000.002.00080";  // closed by FIN
    const std::string& bytes = tf[name];
    std::string tail = bytes.substr(bytes.size() - 6);
    std::string out = path("out");
    Result r = replay({"-q", "-o", out, "-e",
                       "rx | reassemble | stream-regex \"" + escaped(tail) + "$\" report=\"m.tsv\" | pcap \"m.pcap\"", in});
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(slurp(fs::path(out) / "m.tsv"), name + "\t1\t" + std::to_string(bytes.size()) + "\n");
    // Found by the FIN, which ends the direction.
    std::vector<Record> kept = read_capture(out + "/m.pcap");
    ASSERT_EQ(kept.size(), 1u);
    EXPECT_EQ(static_cast<uint8_t>(kept[0].data[47]) & 0x01, 0x01);
}

TEST_F(Streams, DepthKeepsTheFirstBytesOfEachDirection) {
    std::string in = sample("streams.pcap");
    auto tf = reference_streams();
    std::string out = path("out");
    Result r = replay({"-q", "-o", out, "--stats-json", out + ".json", "-e",
                       "rx | reassemble depth=700 | streams \"heads\"", in});
    ASSERT_EQ(r.status, 0) << r.err;
    auto ours = files_in(fs::path(out) / "heads");
    uint64_t cut = 0;
    ASSERT_EQ(ours.size(), tf.size());
    for (const auto& [name, bytes] : tf) {
        EXPECT_EQ(ours[name], bytes.substr(0, 700)) << name;
        cut += bytes.size() > 700 ? bytes.size() - 700 : 0;
    }
    Stats s = stats_of(out + ".json");
    EXPECT_EQ(s.of("reassemble#1", "stream_depth_bytes"), cut);
}

TEST_F(Streams, StreamFilterMistakesAreConfigurationErrors) {
    struct Case { const char* graph; const char* message; };
    const Case cases[] = {
        {"rx | stream-match \"GET\"", "stream-match reads TCP streams: put reassemble before it"},
        {"rx | reassemble | stream-match \"GET\" keep=flows", "keep=packet"},
        {"rx | reassemble | stream-regex \"(\"", "stream-regex: Missing close parenthesis"},
        {"rx | reassemble | stream-match", "needs at least one pattern"},
        {"rx | reassemble | streams \"a\"\nrx | reassemble | streams \"b\"", "one stream maker"},
        {"rx | reassemble depth=0 | streams \"a\"", "depth"},
    };
    for (const Case& c : cases) {
        Result r = replay({"-o", path("out"), "-e", c.graph, sample("streams.pcap")});
        EXPECT_EQ(r.status, 2) << c.graph;
        EXPECT_NE(r.err.find(c.message), std::string::npos) << c.graph << "\n" << r.err;
    }
}

TEST_F(Streams, AConnectionThatTakesAClosedOnesPlaceInOneBurstNamesEachByItsOwnFirstSender) {
    // 10.9.0.1:5000 opens, sends 10 bytes and resets; in the same burst
    // 10.9.0.254:80 opens a connection to it on the same ports and sends
    // 20 bytes. The first connection's bytes are the client's, the
    // second's the server's, whatever the flow's place says by the time
    // streams reads the burst.
    auto reversed = [](std::string f) {
        for (int k = 0; k < 4; k++) std::swap(f[26 + k], f[30 + k]);
        for (int k = 0; k < 2; k++) std::swap(f[34 + k], f[36 + k]);
        return f;
    };
    std::vector<Frame> frames{{tcp_frame(1, 1000, 0x02, 0), 0},   {tcp_frame(1, 1001, 0x18, 10), 0},
                              {tcp_frame(1, 1011, 0x04, 0), 0},   {reversed(tcp_frame(1, 7000, 0x02, 0)), 0},
                              {reversed(tcp_frame(1, 7001, 0x18, 20)), 0}};
    std::string in = path("reuse.pcap");
    write_frames(in, frames);
    auto expected = tcpflow(in);
    ASSERT_EQ(expected.size(), 2u);
    std::string out = path("out");
    Result r = replay({"-q", "-o", out, "-e", "rx | reassemble | streams \"flows\"", in});
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(files_in(fs::path(out) / "flows"), expected);
}

// `flows` connections from 10.9.<k>, all open at once: each sends its
// second segment before its first, so that every flow holds one segment
// until the first segments come, then FIN.
void write_held_flows(const std::string& file, unsigned flows) {
    auto from = [](unsigned k, uint32_t seq, uint8_t flags, uint16_t payload, char fill) {
        std::string f = tcp_frame(1, seq, flags, payload);
        f[28] = static_cast<char>(k >> 8);
        f[29] = static_cast<char>(k);
        std::fill(f.begin() + 54, f.end(), fill);
        return f;
    };
    std::vector<Frame> frames;
    for (unsigned k = 0; k < flows; k++) frames.push_back({from(k, 1000, 0x02, 0, 0), 0});
    for (unsigned k = 0; k < flows; k++) frames.push_back({from(k, 1101, 0x18, 100, 'b'), 0});
    for (unsigned k = 0; k < flows; k++) frames.push_back({from(k, 1001, 0x18, 100, 'a'), 0});
    for (unsigned k = 0; k < flows; k++) frames.push_back({from(k, 1201, 0x11, 0, 0), 0});
    write_frames(file, frames);
}

TEST_F(Streams, UnderPoolPressureZeroCopyRunsDryAndHybridCopiesWhatItMust) {
    // 3,000 held segments and a pool of 1,023 mbufs (rings of 128): holding
    // every mbuf drains the pool, so sl-forward's port drops what it
    // cannot receive; hybrid copies the oldest held bytes when the pool
    // runs low and drops nothing; copy-once copies every held byte. With a
    // pool that fits them (the default), zero-copy holds them all.
    // (hold= keeps hybrid from copying what waited long: a slow build may
    // take seconds here.)
    std::string in = path("held.pcap");
    const unsigned flows = 3000;
    write_held_flows(in, flows);
    size_t total = 4 * flows;
    auto expected = tcpflow(in);
    ASSERT_EQ(expected.size(), flows);
    std::map<std::string, uint64_t> copied, missed;
    for (std::string policy : {"zero-copy", "hybrid", "copy-once", "zero-copy, default pool"}) {
        std::string out = path(policy.substr(0, policy.find(',')) + std::to_string(copied.size()));
        std::string p = prefix("held-" + std::to_string(copied.size()));
        std::vector<std::string> args = {"--vdev=net_pcap0,rx_pcap=" + in, "--", "-q", "--shadow",
                                         policy.substr(0, policy.find(',')), "--rxd", "128", "--txd", "128", "-o", out,
                                         "--stats-json", out + ".json", "-e",
                                         "rx | reassemble mbufs=4096 hold=600000 | streams \"flows\""};
        if (policy.find(',') == std::string::npos) args.insert(args.end(), {"--mbufs", "1023"});
        auto fwd = start_forward(p, args);
        // Every record is read, or dropped by the port for want of an mbuf.
        EXPECT_TRUE(live_stats_reach(p, [&](const LiveStats& s) {
            return s.total("packets_read") + s.json.at("port_rx_no_mbuf").at(0).get<uint64_t>() == total;
        })) << policy << ": " << fwd->err();
        Result r = fwd->stop();
        ASSERT_EQ(r.status, 0) << policy << ": " << r.err;
        Stats s = stats_of(out + ".json");
        expect_conservation(s);
        copied[policy] = s.of("reassemble#1", "stream_copied_bytes");
        missed[policy] = s.port_figure(0, "rx_no_mbuf");
        EXPECT_EQ(s.port_figure(0, "rx_missed"), 0u) << policy;  // net_pcap has no ring to overflow
        if (missed[policy] == 0) {
            EXPECT_EQ(files_in(fs::path(out) / "flows"), expected) << policy;
        }
    }
    EXPECT_GT(missed["zero-copy"], 0u);
    EXPECT_EQ(copied["zero-copy"], 0u);
    EXPECT_EQ(missed["hybrid"], 0u);
    EXPECT_GT(copied["hybrid"], 0u);
    EXPECT_EQ(missed["copy-once"], 0u);
    EXPECT_EQ(copied["copy-once"], uint64_t{flows} * 100);
    EXPECT_LT(copied["hybrid"], copied["copy-once"]);
    EXPECT_EQ(missed["zero-copy, default pool"], 0u);
    EXPECT_EQ(copied["zero-copy, default pool"], 0u);
}

}  // namespace
