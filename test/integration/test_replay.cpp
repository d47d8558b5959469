// sl-replay end to end: captures in, packets and counters out, judged against
// tcpdump where tcpdump can judge.
#include <algorithm>
#include <cstring>
#include <map>
#include <regex>

#include "harness.hpp"

using namespace sl_test;

namespace {

class Replay : public Harness {};

// ---------------------------------------------------------------------------
// The tcpdump oracle: same expression, same packets, byte for byte, in order.

const char* kExpressions[] = {
    "tcp port 80",
    "udp port 53",
    "port 443",
    "tcp dst port 22",
    "src port 80",
    "host 10.0.0.1",
    "src host 192.168.1.10",
    "dst host 8.8.8.8",
    "net 10.0.0.0/8",
    "src net 192.168.0.0/16 and udp",
    "ip6",
    "ip6 and tcp",
    "ip6 host 2001:db8::1",
    "vlan",
    "vlan 100",
    "vlan and udp",
    "icmp",
    "icmp6",
    "sctp",
    "arp",
    "ip[8] == 64",
    "ip[8] < 32",
    "tcp[tcpflags] & tcp-syn != 0",
    "tcp[tcpflags] == tcp-syn|tcp-ack",
    "tcp[13] == 0x18",
    "tcp[((tcp[12:1] & 0xf0) >> 2):4] = 0x47455420",
    "tcp[((tcp[12:1] & 0xf0) >> 2):4] = 0x504f5354",
    "udp[4:2] > 100",
    "len > 1000",
    "less 100",
    "greater 500",
    "len >= 60 and len <= 128",
    "ip[6:2] & 0x1fff != 0",
    "ip[6] & 0x20 != 0",
    "tcp and not port 80",
    "(udp or icmp) and not net 10.0.0.0/8",
    "ip and ip[0] & 0xf > 5",
    "ip6 and ip6[6] == 0",
    "not ip and not ip6",
    "portrange 1024-2048",
    "vlan and vlan",
};

class Oracle : public Replay, public ::testing::WithParamInterface<std::tuple<const char*, bool>> {};

TEST_P(Oracle, KeepsExactlyWhatTcpdumpKeeps) {
    auto [expr, jit] = GetParam();
    std::string in = sample("mixed.pcap");
    auto expected = read_capture(tcpdump_filter(in, expr, path("expected.pcap")));
    std::string config = std::string("rx | bpf \"") + expr + "\"" + (jit ? "" : " jit=no") + " | pcap \"" +
                         path("actual.pcap") + "\"";
    Result r = replay({"-q", "-e", config, "--stats-json", path("stats.json"), in});
    ASSERT_EQ(r.status, 0) << r.err;
    auto actual = read_capture(path("actual.pcap"));
    auto all = read_capture(in);
    ASSERT_FALSE(expected.empty()) << "the sample should hold packets for: " << expr;
    ASSERT_LT(expected.size(), all.size()) << "the expression should reject some packets: " << expr;
    ASSERT_EQ(actual.size(), expected.size()) << expr;
    for (size_t i = 0; i < expected.size(); i++) ASSERT_TRUE(actual[i] == expected[i]) << expr << " packet " << i;
    Stats s = stats_of(path("stats.json"));
    EXPECT_EQ(s.total("packets_written"), expected.size()) << expr;
    EXPECT_EQ(s.dropped_as("filtered"), all.size() - expected.size()) << expr;
    expect_conservation(s);
}

INSTANTIATE_TEST_SUITE_P(Expressions, Oracle,
                         ::testing::Combine(::testing::ValuesIn(kExpressions), ::testing::Bool()),
                         [](const auto& info) {
                             std::string name = std::get<0>(info.param);
                             for (auto& c : name)
                                 if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                             return name + (std::get<1>(info.param) ? "_jit" : "_interpreted");
                         });

TEST_F(Replay, OracleOnRawIpLinkType) {
    std::string in = sample("raw-ip.pcap");
    for (const char* expr : {"tcp port 80", "ip6", "udp", "host 10.0.0.1"}) {
        auto expected = read_capture(tcpdump_filter(in, expr, path("expected.pcap")));
        Result r = replay({"-q", "-e", std::string("rx | bpf \"") + expr + "\" | pcap \"" + path("a.pcap") + "\"", in});
        ASSERT_EQ(r.status, 0) << r.err;
        ASSERT_FALSE(expected.empty()) << expr;
        EXPECT_TRUE(read_capture(path("a.pcap")) == expected) << expr;
    }
}

// Writes `in` cut to `snaplen` bytes per packet, keeping each wire length.
void write_snapped(const std::string& in, const std::string& out, int snaplen) {
    char err[PCAP_ERRBUF_SIZE];
    pcap_t* p = pcap_open_offline(in.c_str(), err);
    ASSERT_NE(p, nullptr) << err;
    pcap_t* dead = pcap_open_dead(pcap_datalink(p), snaplen);
    pcap_dumper_t* d = pcap_dump_open(dead, out.c_str());
    ASSERT_NE(d, nullptr) << pcap_geterr(dead);
    pcap_pkthdr* h;
    const u_char* data;
    while (pcap_next_ex(p, &h, &data) == 1) {
        pcap_pkthdr cut = *h;
        cut.caplen = std::min<bpf_u_int32>(h->caplen, static_cast<bpf_u_int32>(snaplen));
        pcap_dump(reinterpret_cast<u_char*>(d), &cut, data);
    }
    pcap_dump_close(d);
    pcap_close(dead);
    pcap_close(p);
}

TEST_F(Replay, OracleOnSnappedCaptureUsesTheWireLength) {
    // `len`, `less` and `greater` judge the wire length, as tcpdump does,
    // not the bytes a snap length kept.
    std::string in = path("snapped.pcap");
    write_snapped(sample("mixed.pcap"), in, 96);
    for (const char* expr : {"len > 1000", "greater 500", "less 100", "len >= 60 and len <= 128", "tcp port 80"}) {
        auto expected = read_capture(tcpdump_filter(in, expr, path("expected.pcap")));
        ASSERT_FALSE(expected.empty()) << expr;
        for (const char* jit : {"", " jit=no"}) {
            Result r = replay({"-q", "-e", std::string("rx | bpf \"") + expr + "\"" + jit + " | pcap \"" + path("a.pcap") + "\"", in});
            ASSERT_EQ(r.status, 0) << r.err;
            EXPECT_TRUE(read_capture(path("a.pcap")) == expected) << expr << jit;
        }
    }
}

TEST_F(Replay, EveryCaptureFormatGivesTheSamePackets) {
    // The same 500 packets: microsecond pcap, pcapng (microsecond resolution)
    // and nanosecond pcap. Bytes and lengths agree everywhere; each output
    // keeps its own input's timestamps to the nanosecond.
    auto micro = read_capture(sample("mixed.pcap"));
    micro.resize(500);
    for (const char* file : {"mixed.pcapng", "mixed-ns.pcap"}) {
        Result r = replay({"-q", "-e", "rx | pcap \"" + path("out.pcap") + "\"", sample(file)});
        ASSERT_EQ(r.status, 0) << r.err;
        auto out = read_capture(path("out.pcap"));
        auto in = read_capture(sample(file));
        ASSERT_EQ(out.size(), 500u) << file;
        EXPECT_TRUE(out == in) << file;
        for (size_t i = 0; i < out.size(); i++) {
            ASSERT_EQ(out[i].data, micro[i].data) << file << " packet " << i;
            ASSERT_LE(std::llabs(int64_t(out[i].ts_ns) - int64_t(micro[i].ts_ns)), 1000) << file << " packet " << i;
        }
    }
}

// ---------------------------------------------------------------------------
// Every configuration in config/: exit 0, conservation, outputs as expected.

TEST_F(Replay, EveryExampleConfigRunsOnTheSample) {
    int configs = 0;
    for (const auto& entry : fs::directory_iterator(env("SL_SOURCE") + "/config")) {
        if (entry.path().extension() != ".sl") continue;
        configs++;
        std::string out = path(entry.path().stem().string());
        Result r = replay({"-q", "-c", entry.path().string(), "-o", out, "--stats-json", out + ".json",
                           sample("mixed.pcap")});
        ASSERT_EQ(r.status, 0) << entry.path() << "\n" << r.err;
        Stats s = stats_of(out + ".json");
        expect_conservation(s);
        EXPECT_EQ(s.total("packets_read"), read_capture(sample("mixed.pcap")).size());
        // Each sink wrote as many packets as its file holds.
        uint64_t sink_written = 0;
        for (const auto& n : s.json.at("nodes"))
            if (n.at("filter") == "pcap" || n.at("filter") == "tx") sink_written += s.of(n.at("name").get<std::string>(), "written");
        uint64_t in_files = 0;
        for (const auto& f : fs::directory_iterator(out))  // not streams' folders or match reports
            if (f.is_regular_file() && f.path().extension() == ".pcap") in_files += read_capture(f.path().string()).size();
        EXPECT_EQ(sink_written, in_files) << entry.path();
        EXPECT_GT(in_files, 0u) << entry.path();
    }
    EXPECT_GE(configs, 4);
}

TEST_F(Replay, DemoConfigMatchesTcpdump) {
    std::string in = sample("mixed.pcap");
    std::string out = path("demo");
    Result r = replay({"-q", "-c", env("SL_SOURCE") + "/config/demo.sl", "-o", out, "--stats-json", path("s.json"), in});
    ASSERT_EQ(r.status, 0) << r.err;
    auto web = read_capture(tcpdump_filter(in, "tcp port 80", path("web.pcap")));
    EXPECT_TRUE(read_capture(out + "/web.pcap") == web);
    auto rest = read_capture(tcpdump_filter(in, "not tcp port 80", path("rest.pcap")));
    std::vector<Record> sampled;
    for (size_t i = 0; i < rest.size(); i += 10) sampled.push_back(rest[i]);
    EXPECT_TRUE(read_capture(out + "/tx-1.pcap") == sampled);
    Stats s = stats_of(path("s.json"));
    EXPECT_EQ(s.of("http", "packets"), web.size());
    uint64_t by_protocol = 0;
    for (const char* n : {"tcp", "udp", "icmp", "icmpv6", "sctp", "not-ip"}) by_protocol += s.of(n, "packets");
    EXPECT_EQ(by_protocol, s.total("packets_read"));
    // tcpdump counts TCP over IPv4 and IPv6 (extension headers walked) with
    // zero, one or two VLAN tags.
    auto count = [&](const std::string& expr) { return read_capture(tcpdump_filter(in, expr, path("c.pcap"))).size(); };
    std::string tcp = "(ip proto 6 or ip6 protochain 6)";
    EXPECT_EQ(s.of("tcp", "packets"),
              count(tcp) + count("vlan and " + tcp) + count("vlan and vlan and " + tcp));
}

TEST_F(Replay, RxNReadsTheNthCapture) {
    std::string a = sample("mixed-ns.pcap"), b = sample("malformed.pcap");
    Result r = replay({"-q", "-e", "rx 1 | pcap \"" + path("one.pcap") + "\"", a, b});
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_TRUE(read_capture(path("one.pcap")) == read_capture(b));
}

TEST_F(Replay, RxReadsEveryCaptureMergedByTime) {
    std::string a = sample("mixed-ns.pcap"), b = sample("malformed.pcap");
    Result r = replay({"-q", "-e", "rx | pcap \"" + path("all.pcap") + "\"", "--stats-json", path("s.json"), a, b});
    ASSERT_EQ(r.status, 0) << r.err;
    auto all = read_capture(path("all.pcap"));
    EXPECT_EQ(all.size(), read_capture(a).size() + read_capture(b).size());
    EXPECT_TRUE(std::is_sorted(all.begin(), all.end(), [](const Record& x, const Record& y) { return x.ts_ns < y.ts_ns; }));
    expect_conservation(stats_of(path("s.json")));
}

TEST_F(Replay, AStreamReadTwiceGivesEachBranchEveryPacket) {
    Result r = replay({"-q", "-e",
                       "x = rx | head 1000\nx | pcap \"" + path("a.pcap") + "\"\nx | pcap \"" + path("b.pcap") +
                           "\"\nx | drop",
                       "--stats-json", path("s.json"), sample("mixed.pcap")});
    ASSERT_EQ(r.status, 0) << r.err;
    auto a = read_capture(path("a.pcap"));
    EXPECT_EQ(a.size(), 1000u);
    EXPECT_TRUE(a == read_capture(path("b.pcap")));
    Stats s = stats_of(path("s.json"));
    EXPECT_EQ(s.total("packets_written"), 1000u) << "a packet written twice is written once";
    EXPECT_EQ(s.of("drop#1", "packets_in"), 1000u);
    EXPECT_EQ(s.of("drop#1", "drop"), 1000u);
    expect_conservation(s);
}

TEST_F(Replay, APacketASinkWroteCountsAsWrittenWhateverFollows) {
    // A chain: the packets pcap took are written even where a filter after
    // it drops them, or the chain simply ends.
    std::string in = sample("mixed.pcap");
    size_t all = read_capture(in).size();
    size_t tcp = read_capture(tcpdump_filter(in, "tcp", path("tcp.pcap"))).size();
    Result r = replay({"-q", "-e", "rx | pcap \"" + path("a.pcap") + "\" | bpf \"tcp\" | count", "--stats-json",
                       path("s.json"), in});
    ASSERT_EQ(r.status, 0) << r.err;
    Stats s = stats_of(path("s.json"));
    EXPECT_EQ(s.total("packets_written"), all);
    EXPECT_EQ(s.of("bpf#1", "filtered"), all - tcp) << "the node still says what it dropped";
    expect_conservation(s);
    r = replay({"-q", "-e", "rx | bpf \"tcp\" | pcap \"" + path("b.pcap") + "\"", "--stats-json", path("t.json"), in});
    ASSERT_EQ(r.status, 0) << r.err;
    Stats t = stats_of(path("t.json"));
    EXPECT_EQ(t.total("packets_written"), tcp);
    EXPECT_EQ(t.dropped_as("filtered"), all - tcp);
    expect_conservation(t);
}

TEST_F(Replay, LoopReplaysTheCapturesNTimes) {
    Result r = replay({"-q", "--loop", "3", "-e", "rx | pcap \"" + path("a.pcap") + "\"", "--stats-json",
                       path("s.json"), sample("mixed.pcap")});
    ASSERT_EQ(r.status, 0) << r.err;
    auto once = read_capture(sample("mixed.pcap"));
    auto out = read_capture(path("a.pcap"));
    ASSERT_EQ(out.size(), 3 * once.size());
    for (size_t i = 0; i < out.size(); i++) ASSERT_EQ(out[i].data, once[i % once.size()].data) << "packet " << i;
    EXPECT_EQ(stats_of(path("s.json")).total("packets_read"), 3 * once.size());
}

// Writes a microsecond pcap of IPv4/UDP frames of the given sizes, each byte
// of payload telling its frame and position apart.
void write_udp_capture(const std::string& file, const std::vector<uint32_t>& sizes) {
    std::string out("\xd4\xc3\xb2\xa1\x02\x00\x04\x00\0\0\0\0\0\0\0\0\x00\x00\x04\x00\x01\0\0\0", 24);
    auto le32 = [&](uint32_t v) { out.append(reinterpret_cast<const char*>(&v), 4); };
    for (size_t i = 0; i < sizes.size(); i++) {
        std::string f(sizes[i], '\0');
        for (size_t b = 42; b < f.size(); b++) f[b] = static_cast<char>(i * 31 + b * 7);
        const char eth[] = "\x02\0\0\0\0\x02\x02\0\0\0\0\x01\x08\x00";
        std::copy(eth, eth + 14, f.begin());
        uint32_t ip_len = std::min<uint32_t>(sizes[i] - 14, 65535), udp_len = std::min<uint32_t>(ip_len - 20, 65535);
        const unsigned char ip[] = {0x45, 0, uint8_t(ip_len >> 8), uint8_t(ip_len), 0, 1, 0, 0, 64, 17, 0, 0,
                                    10, 0, 0, 1, 10, 0, 0, 2, 0x0f, 0xa0, 0x13, 0x88, uint8_t(udp_len >> 8),
                                    uint8_t(udp_len), 0, 0};
        std::copy(ip, ip + sizeof(ip), f.begin() + 14);
        le32(1700000000);
        le32(static_cast<uint32_t>(i));
        le32(sizes[i]);
        le32(sizes[i]);
        out += f;
    }
    std::ofstream(file, std::ios::binary) << out;
}

TEST_F(Replay, LargeRecordsComeOutWholeUnderEveryPolicy) {
    // Above 2 KiB a copied record takes a chain of mbufs; above 32 KiB so does
    // an attached one. Fan-out shares every segment of the chain.
    std::string in = path("large.pcap");
    write_udp_capture(in, {60, 1514, 2048, 2049, 9000, 32768, 32769, 65535, 70000, 200000, 64});
    auto expected = read_capture(tcpdump_filter(in, "udp and greater 2000", path("expected.pcap")));
    ASSERT_EQ(expected.size(), 8u);
    for (const char* policy : {"zero-copy", "copy-once"}) {
        Result r = replay({"-q", "--shadow", policy, "-e",
                           "rx | bpf \"udp and greater 2000\" | pcap \"" + path("big.pcap") + "\"\nrx | pcap \"" +
                               path("all.pcap") + "\"\nrx | count",
                           "--stats-json", path("s.json"), in});
        ASSERT_EQ(r.status, 0) << policy << ": " << r.err;
        EXPECT_TRUE(read_capture(path("big.pcap")) == expected) << policy;
        EXPECT_TRUE(read_capture(path("all.pcap")) == read_capture(in)) << policy;
        expect_conservation(stats_of(path("s.json")));
    }
}

TEST_F(Replay, ACaptureLargerThanTheReadBuffersComesOutWhole) {
    // About 55 MB: records cross the reader's chunks (32 x 512 KiB) at every
    // size; runs of 70 records of the largest size a snap length allows fill
    // them all within one burst, which then ends early; looped, the second
    // pass starts while the first one's records are still in use.
    std::vector<uint32_t> sizes;
    for (uint32_t i = 0; i < 450; i++) sizes.push_back(i % 150 < 70 ? 262144 : 60 + (i * 7919) % 9000);
    std::string in = path("big.pcap");
    write_udp_capture(in, sizes);
    Result r = replay({"-q", "--loop", "2", "-e", "rx | pcap \"" + path("out.pcap") + "\"", "--stats-json",
                       path("s.json"), in});
    ASSERT_EQ(r.status, 0) << r.err;
    auto once = read_capture(in);
    auto out = read_capture(path("out.pcap"));
    ASSERT_EQ(out.size(), 2 * once.size());
    for (size_t i = 0; i < out.size(); i++)
        ASSERT_EQ(out[i].data, once[i % once.size()].data) << "record " << i;
    expect_conservation(stats_of(path("s.json")));
}

// ---------------------------------------------------------------------------
// Several workers: records dealt by flow, outputs and counters those of one.

// `copies` copies of a microsecond pcap one after the other, each shifted in
// time past the one before: a capture of several read chunks whose flows
// recur.
void write_repeated(const std::string& in, const std::string& out, int copies) {
    std::string bytes = slurp(in);
    ASSERT_GT(bytes.size(), 24u);
    uint32_t magic;
    std::memcpy(&magic, bytes.data(), 4);
    ASSERT_EQ(magic, 0xa1b2c3d4u) << in << " is not a little-endian microsecond pcap";
    std::string result = bytes.substr(0, 24);
    uint32_t first_second = 0, last_second = 0;
    for (size_t at = 24; at + 16 <= bytes.size();) {
        uint32_t second, captured;
        std::memcpy(&second, bytes.data() + at, 4);
        std::memcpy(&captured, bytes.data() + at + 8, 4);
        if (at == 24) first_second = second;
        last_second = second;
        at += 16 + captured;
    }
    uint32_t span = last_second - first_second + 1;
    for (int c = 0; c < copies; c++) {
        for (size_t at = 24; at + 16 <= bytes.size();) {
            std::string record = bytes.substr(at, 16);
            uint32_t second, captured;
            std::memcpy(&second, record.data(), 4);
            std::memcpy(&captured, record.data() + 8, 4);
            second += uint32_t(c) * span;
            std::memcpy(record.data(), &second, 4);
            result += record + bytes.substr(at + 16, captured);
            at += 16 + captured;
        }
    }
    std::ofstream(out, std::ios::binary) << result;
}

// What one graph's counters must equal: per node, what came in, went out and
// was dropped for each reason, and the node's own counters.
std::map<std::string, Json> node_figures(const Stats& s) {
    std::map<std::string, Json> out;
    for (const auto& n : s.json.at("nodes"))
        out[n.at("name").get<std::string>()] = Json{{"in", n.at("packets_in")}, {"out", n.at("packets_out")},
                                                    {"drops", n.at("drops")}, {"counters", n.at("counters")}};
    return out;
}

// Each output file's bytes; a report's lines sorted (workers append theirs
// in any order).
std::map<std::string, std::string> outputs_in(const std::string& dir) {
    std::map<std::string, std::string> out;
    for (const auto& f : fs::directory_iterator(dir)) {
        std::string bytes = slurp(f.path());
        if (f.path().extension() == ".tsv") {
            std::vector<std::string> lines;
            std::istringstream in(bytes);
            for (std::string line; std::getline(in, line);) lines.push_back(line);
            std::sort(lines.begin(), lines.end());
            bytes.clear();
            for (const auto& line : lines) bytes += line + "\n";
        }
        out[f.path().filename().string()] = bytes;
    }
    return out;
}

TEST_F(Replay, EveryConfigWritesTheSameFilesOnEveryWorkerCount) {
    // 2.6 MB: records straddle the reader's 512 KiB chunks, and the workers
    // deal whole indexed chunks among themselves.
    std::string in = path("repeated.pcap");
    write_repeated(sample("mixed.pcap"), in, 8);
    size_t records = read_capture(in).size();
    for (const auto& entry : fs::directory_iterator(env("SL_SOURCE") + "/config")) {
        if (entry.path().extension() != ".sl") continue;
        std::string name = entry.path().stem().string();
        std::map<std::string, std::string> one_files;
        std::map<std::string, Json> one_nodes;
        for (int workers : {1, 2, 3}) {
            std::string out = path(name + "-w" + std::to_string(workers));
            Result r = replay({"-q", "--workers", std::to_string(workers), "-c", entry.path().string(), "-o", out,
                               "--stats-json", out + ".json", in});
            ASSERT_EQ(r.status, 0) << name << " with " << workers << " workers\n" << r.err;
            Stats s = stats_of(out + ".json");
            expect_conservation(s);
            EXPECT_EQ(s.total("packets_read"), records);
            // One graph's report names no workers; head and sample count
            // in input order and take one.
            bool one_graph = workers == 1 || std::regex_search(slurp(entry.path()), std::regex("\\b(head|sample) "));
            const Json lcores = s.json.value("workers", Json::array());
            ASSERT_EQ(lcores.size(), one_graph ? 0u : size_t(workers)) << name;
            uint64_t dealt = one_graph ? records : 0;
            for (const auto& w : lcores) {
                EXPECT_GT(w.at("packets_read").get<uint64_t>(), 0u) << name << ": a worker had nothing";
                dealt += w.at("packets_read").get<uint64_t>();
            }
            EXPECT_EQ(dealt, records);
            auto files = outputs_in(out);
            auto nodes = node_figures(s);
            if (workers == 1) {
                one_files = files;
                one_nodes = nodes;
                EXPECT_FALSE(files.empty()) << name;
                continue;
            }
            EXPECT_EQ(nodes, one_nodes) << name << " with " << workers << " workers";
            ASSERT_EQ(files.size(), one_files.size()) << name;
            for (const auto& [file, bytes] : one_files)
                EXPECT_TRUE(files[file] == bytes) << name << ": " << file << " differs with " << workers << " workers";
        }
    }
}

TEST_F(Replay, WorkersKeepTheOrderOfLoopsMergedCapturesAndPcapng) {
    // Two inputs merged by time, looped: a file written by two workers is
    // the one a single worker writes, record for record.
    std::string big = path("repeated.pcap");
    write_repeated(sample("mixed.pcap"), big, 3);
    for (const auto& inputs : std::vector<std::vector<std::string>>{
             {big, sample("mixed-ns.pcap")}, {sample("mixed.pcapng")}, {sample("raw-ip.pcap")}}) {
        std::vector<std::vector<Record>> outs;
        for (int workers : {1, 2}) {
            std::string out = path("w" + std::to_string(workers) + ".pcap");
            std::vector<std::string> args = {"-q", "--workers", std::to_string(workers), "--loop", "2", "-e",
                                              "rx | bpf \"tcp or udp\" | pcap \"" + out + "\"", "--stats-json",
                                              out + ".json"};
            args.insert(args.end(), inputs.begin(), inputs.end());
            Result r = replay(args);
            ASSERT_EQ(r.status, 0) << inputs[0] << "\n" << r.err;
            expect_conservation(stats_of(out + ".json"));
            outs.push_back(read_capture(out));
        }
        EXPECT_FALSE(outs[0].empty());
        EXPECT_TRUE(outs[0] == outs[1]) << inputs[0] << ": " << outs[0].size() << " vs " << outs[1].size();
    }
}

TEST_F(Replay, FiltersThatCountInputOrderRunOnOneWorker) {
    // head and sample count packets in the order the capture holds them:
    // asked for two workers, the run takes one and says so in the stats.
    std::string in = sample("mixed.pcap");
    auto all = read_capture(in);
    Result r = replay({"-q", "--workers", "2", "-e", "rx | sample 7 | head 100 | pcap \"" + path("h.pcap") + "\"",
                       "--stats-json", path("s.json"), in});
    ASSERT_EQ(r.status, 0) << r.err;
    auto out = read_capture(path("h.pcap"));
    ASSERT_EQ(out.size(), 100u);
    for (size_t i = 0; i < out.size(); i++) ASSERT_TRUE(out[i] == all[i * 7]) << "packet " << i;
    Stats s = stats_of(path("s.json"));
    EXPECT_FALSE(s.json.contains("workers") && s.json.at("workers").size() > 1) << s.json.dump();
}

TEST_F(Replay, PacingHoldsWithSeveralWorkers) {
    // mixed-ns.pcap (0.36 s) at twice real time, dealt to two workers.
    auto all = read_capture(sample("mixed-ns.pcap"));
    double span = double(all.back().ts_ns - all.front().ts_ns) / 1e9 / 2;
    Result r = replay({"-q", "--workers", "2", "--speed", "x2", "-e", "rx | pcap \"" + path("p.pcap") + "\"",
                       "--stats-json", path("s.json"), sample("mixed-ns.pcap")});
    ASSERT_EQ(r.status, 0) << r.err;
    double elapsed = stats_of(path("s.json")).json.at("elapsed_s").get<double>();
    EXPECT_GE(elapsed, span * 0.95);
    EXPECT_LT(elapsed, span * 3 + 1);
    EXPECT_TRUE(read_capture(path("p.pcap")) == all);
}

TEST_F(Replay, WorkerCountsOutOfRangeAreUsageErrors) {
    for (const char* n : {"0", "-1", "two", "100000"}) {
        Result r = replay({"--workers", n, "-e", "rx | count", sample("mixed.pcap")});
        EXPECT_EQ(r.status, 2) << n;
        EXPECT_NE(r.err.find("--workers"), std::string::npos) << r.err;
    }
}

// ---------------------------------------------------------------------------
// Bad input: clear messages and exit codes, never a crash or a hang.

TEST_F(Replay, MalformedPacketsFlowThroughUnchanged) {
    // ipproto reads the parser's fields: every packet is parsed, malformed
    // ones counted, and all of them go on.
    std::string in = sample("malformed.pcap");
    Result r = replay({"-q", "-e", "rx | ipproto | pcap \"" + path("out.pcap") + "\"", "--stats-json", path("s.json"), in});
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_TRUE(read_capture(path("out.pcap")) == read_capture(in));
    Stats s = stats_of(path("s.json"));

    // (A frame cut inside its TCP or UDP header whose IP length still claims
    // the whole datagram is a lying length; the unit tests cover the cuts.)
    for (const char* reason : {"bad_ipv4_ihl", "bad_ipv4_length", "bad_ipv4_version", "truncated_ipv4",
                               "bad_tcp_offset", "bad_udp_length", "truncated_ipv6",
                               "bad_ipv6_length", "vlan_depth", "truncated_vlan", "ipv6_ext_limit",
                               "truncated_ethernet"})
        EXPECT_GT(s.of("parse", std::string("malformed.") + reason), 0u) << reason;
    expect_conservation(s);
}

// The malformed packets the input node counted, over every reason.
uint64_t malformed(const Stats& s) {
    uint64_t n = 0;
    for (const auto& [name, value] : s.node("parse").at("counters").items())
        if (name.rfind("malformed.", 0) == 0) n += value.get<uint64_t>();
    return n;
}

TEST_F(Replay, AGraphThatReadsNoHeaderParsesNoPacket) {
    std::string in = sample("malformed.pcap");
    Result r = replay({"-q", "-e", "rx | count | pcap \"" + path("out.pcap") + "\"", "--stats-json", path("s.json"), in});
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_TRUE(read_capture(path("out.pcap")) == read_capture(in));
    Stats s = stats_of(path("s.json"));
    EXPECT_EQ(malformed(s), 0u) << "nothing was parsed, so nothing was found malformed";
    expect_conservation(s);
}

TEST_F(Replay, OnlyThePacketsThatReachAHeaderReaderAreParsed) {
    std::string in = sample("malformed.pcap");
    Result all = replay({"-q", "--loop", "10", "-e", "rx | ipproto", "--stats-json", path("all.json"), in});
    Result tenth =
        replay({"-q", "--loop", "10", "-e", "rx | sample 10 | ipproto", "--stats-json", path("tenth.json"), in});
    ASSERT_EQ(all.status, 0) << all.err;
    ASSERT_EQ(tenth.status, 0) << tenth.err;
    uint64_t every = malformed(stats_of(path("all.json"))), sampled = malformed(stats_of(path("tenth.json")));
    EXPECT_GT(every, 20u);
    EXPECT_LT(sampled, every / 2) << "the packets sample dropped were never parsed";
    EXPECT_GT(sampled, 0u);
}

TEST_F(Replay, ABadCaptureExitsOneWithALineNamingIt) {
    auto write = [&](const std::string& name, const std::string& bytes) {
        std::ofstream(path(name), std::ios::binary) << bytes;
        return path(name);
    };
    std::string good = slurp(sample("malformed.pcap"));
    std::string header = good.substr(0, 24);
    std::string huge = header + std::string("\x01\0\0\0\0\0\0\0\xff\xff\xff\x7f\x40\0\0\0", 16) + std::string(64, 'x');
    std::map<std::string, std::string> files = {
        {"empty", write("empty.pcap", "")},
        {"bad magic", write("magic.pcap", "this is not a capture file at all, honestly")},
        {"truncated header", write("header.pcap", good.substr(0, 10))},
        {"truncated record", write("record.pcap", good.substr(0, good.size() - 7))},
        {"huge caplen", write("huge.pcap", huge)},
        {"garbage", write("garbage.pcap", std::string(4096, '\x5a'))},
    };
    for (const auto& [what, file] : files) {
        Result r = replay({"-q", "-e", "rx | count | pcap \"" + path("o.pcap") + "\"", file});
        EXPECT_EQ(r.status, 1) << what << ": " << r.err;
        EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << what << ": " << r.err;
        EXPECT_NE(r.err.find(file), std::string::npos) << what << ": " << r.err;
    }
}

TEST_F(Replay, WhatPrecedesACutInTheCaptureIsWritten) {
    // As tcpdump does: every whole record before the cut comes out.
    std::string good = slurp(sample("malformed.pcap"));
    std::ofstream(path("cut.pcap"), std::ios::binary) << good.substr(0, good.size() - 7);
    Result r = replay({"-q", "-e", "rx | pcap \"" + path("part.pcap") + "\"", path("cut.pcap")});
    EXPECT_EQ(r.status, 1);
    EXPECT_EQ(read_capture(path("part.pcap")).size(), read_capture(sample("malformed.pcap")).size() - 1);
}

TEST_F(Replay, AnOutputThatCannotBeWrittenExitsOne) {
    // The writing thread meets the error; the run says so and fails.
    Result r = replay({"-q", "-e", "rx | pcap \"/dev/full\"", sample("mixed.pcap")});
    EXPECT_EQ(r.status, 1);
    EXPECT_EQ(r.err, "error: pcap#1: /dev/full: No space left on device\n");
    // Large enough to fill several blocks: packets after the error are
    // dropped as write_error, and still nothing leaks; one worker or two
    // writing the file together. Where branches join, workers write parts
    // that are merged at the end, where the error ends the run.
    for (const char* workers : {"1", "2"}) {
        Result big = replay({"-q", "--workers", workers, "--loop", "40", "-e", "rx | pcap \"/dev/full\"",
                             "--stats-json", path("s.json"), sample("mixed.pcap")});
        EXPECT_EQ(big.status, 1);
        EXPECT_EQ(big.err, "error: pcap#1: /dev/full: No space left on device\n");
        Stats s = stats_of(path("s.json"));
        EXPECT_GT(s.dropped_as("write_error"), 0u) << workers << " workers";
        expect_conservation(s);
    }
    Result joined = replay({"-q", "--workers", "2", "--loop", "40", "-e",
                            "a = rx | bpf \"tcp\"\nb = rx | bpf \"not tcp\"\na | pcap \"/dev/full\"\nb | pcap \"/dev/full\"",
                            sample("mixed.pcap")});
    EXPECT_EQ(joined.status, 1);
    EXPECT_EQ(joined.err, "error: pcap#1: /dev/full: No space left on device\n");
}

TEST_F(Replay, ConfigErrorsExitTwoShowingTheLineWithACaret) {
    Result r = replay({"-e", "rx | cuont", sample("mixed.pcap")});
    EXPECT_EQ(r.status, 2);
    EXPECT_EQ(r.err, "command-line:1:6: error: unknown filter 'cuont'\n  rx | cuont\n       ^\n  did you mean 'count'?\n");

    r = replay({"-e", "rx | bpf \"tcp prot 80\"", sample("mixed.pcap")});
    EXPECT_EQ(r.status, 2);
    EXPECT_NE(r.err.find("command-line:1:11: error: bpf: can't parse filter expression: syntax error"), std::string::npos) << r.err;

    r = replay({"-e", "rx 2 | count", sample("mixed.pcap")});
    EXPECT_EQ(r.status, 2);
    EXPECT_NE(r.err.find("rx 2: there is only 1 input (rx 0 to rx 0)"), std::string::npos) << r.err;

    r = replay({"-e", "wbe | count", sample("mixed.pcap")});
    EXPECT_EQ(r.status, 2);
    EXPECT_NE(r.err.find("unknown stream 'wbe'"), std::string::npos) << r.err;

    r = replay({"-e", "rx | head many", sample("mixed.pcap")});
    EXPECT_EQ(r.status, 2);
    EXPECT_EQ(r.err, "command-line:1:11: error: head: N must be a number, not 'many'\n  rx | head many\n"
                     "            ^\n");

    r = replay({"-e", "a = rx | tx 1 | count\na | tx 1", sample("mixed.pcap")});
    EXPECT_EQ(r.status, 2);
    EXPECT_NE(r.err.find("loop"), std::string::npos) << r.err;

    std::ofstream(path("bad.sl")) << "# two lines\nrx | count |\n";
    r = replay({"-c", path("bad.sl"), sample("mixed.pcap")});
    EXPECT_EQ(r.status, 2);
    EXPECT_NE(r.err.find(path("bad.sl") + ":2:12: error"), std::string::npos) << r.err;
}

TEST_F(Replay, UsageErrorsExitTwo) {
    Result bad_policy = replay({"--shadow", "hybird", "-e", "rx | count", sample("mixed.pcap")});
    EXPECT_EQ(bad_policy.status, 2);
    EXPECT_NE(bad_policy.err.find("--shadow: the shadow policy is zero-copy, copy-once, hybrid, hybrid:N or prefetch, "
                                  "not 'hybird'"),
              std::string::npos)
        << bad_policy.err;
    EXPECT_EQ(replay({sample("mixed.pcap")}).status, 2);
    EXPECT_EQ(replay({"-e", "rx | count"}).status, 2);
    EXPECT_EQ(replay({"-e", "rx | count", "--speed", "fast", sample("mixed.pcap")}).status, 2);
    EXPECT_EQ(replay({"-e", "rx | count", "--bogus", sample("mixed.pcap")}).status, 2);
    EXPECT_EQ(replay({"--help"}).status, 0);
    Result missing = replay({"-e", "rx | count", path("missing.pcap")});
    EXPECT_EQ(missing.status, 1);
    // Named once, although libpcap's reason names it too.
    EXPECT_NE(missing.err.find("error: " + path("missing.pcap") + ": No such file or directory\n"), std::string::npos)
        << missing.err;
    // Captures that cannot go together are a usage error, each named with
    // its link type as its header says it.
    Result mixed = replay({"-e", "rx | count", sample("mixed.pcap"), sample("raw-ip.pcap")});
    EXPECT_EQ(mixed.status, 2);
    EXPECT_NE(mixed.err.find(sample("mixed.pcap") + " is EN10MB (Ethernet) and " + sample("raw-ip.pcap") +
                             " is RAW (Raw IP): captures of different link types cannot be replayed together"),
              std::string::npos)
        << mixed.err;
}

TEST_F(Replay, RealtimePacingTakesTheCaptureDuration) {
    // The first 50 packets of mixed.pcap span about 36 ms; x4 takes about 9 ms.
    Result r = replay({"-q", "--speed", "realtime", "-e", "rx | head 50 | pcap \"" + path("p.pcap") + "\"",
                       "--stats-json", path("s.json"), sample("mixed-ns.pcap")});
    ASSERT_EQ(r.status, 0) << r.err;
    double elapsed = stats_of(path("s.json")).json.at("elapsed_s").get<double>();
    auto all = read_capture(sample("mixed-ns.pcap"));
    double span = double(all.back().ts_ns - all.front().ts_ns) / 1e9;
    EXPECT_GE(elapsed, span * 0.95);
    EXPECT_LT(elapsed, span * 3 + 1);
}

TEST_F(Replay, APcapngOutputHoldsWhatTcpdumpKeepsAndTsharkReadsIt) {
    // One writer, two workers writing one file together, and two workers
    // whose branches join before the sink (parts merged at the end): the
    // same packets, time stamps to the nanosecond, wire lengths.
    std::string in = sample("mixed-ns.pcap");
    Result ref_run = run(quote(env("TCPDUMP")) + " --time-stamp-precision nano -r " + quote(in) + " -w " +
                         quote(path("ref.pcap")) + " 'tcp or udp'");
    ASSERT_EQ(ref_run.status, 0) << ref_run.err;
    auto expected = read_capture(path("ref.pcap"));
    ASSERT_GT(expected.size(), 100u);
    struct Run {
        const char* workers;
        std::string graph;
    };
    for (const Run& run_of : {Run{"1", "rx | bpf \"tcp or udp\" | pcap \"out.pcapng\""},
                              Run{"2", "rx | bpf \"tcp or udp\" | pcap \"out.pcapng\""},
                              Run{"2", "rx | bpf \"tcp\" | pcap \"out.pcapng\"\nrx | bpf \"udp\" | pcap \"out.pcapng\""}}) {
        std::string out = path(std::string("w") + run_of.workers + "-" + std::to_string(run_of.graph.size()));
        Result r = replay({"-q", "--workers", run_of.workers, "-e", run_of.graph, "-o", out, in});
        ASSERT_EQ(r.status, 0) << r.err;
        std::string file = out + "/out.pcapng";
        auto got = read_capture(file);
        ASSERT_EQ(got.size(), expected.size()) << run_of.graph;
        for (size_t i = 0; i < got.size(); i++) {
            EXPECT_EQ(got[i].ts_ns, expected[i].ts_ns) << i;
            EXPECT_EQ(got[i].wire_len, expected[i].wire_len) << i;
            EXPECT_EQ(got[i].data, expected[i].data) << i;
        }
        // A pcapng file by its blocks, as Wireshark's tools see it.
        r = run("tshark -r " + quote(file) + " -T fields -e frame.time_epoch -e frame.len");
        ASSERT_EQ(r.status, 0) << r.err;
        Result ref = run("tshark -r " + quote(path("ref.pcap")) + " -T fields -e frame.time_epoch -e frame.len");
        EXPECT_EQ(r.out, ref.out);
        r = run("capinfos -t -i " + quote(file));
        EXPECT_NE(r.out.find("pcapng"), std::string::npos) << r.out;
        EXPECT_EQ(run("tcpdump -nn -r " + quote(file)).out, run("tcpdump -nn -r " + quote(path("ref.pcap"))).out);
    }
}

TEST_F(Replay, OutputsKeepTheInputsSnapLength) {
    // mixed.pcap with its header's snap length set to 1514, the longest
    // frame it holds: the outputs say 1514 too, not 262144.
    std::string in = slurp(sample("mixed.pcap"));
    uint32_t snaplen = 1514;
    std::memcpy(in.data() + 16, &snaplen, sizeof(snaplen));
    std::ofstream(path("in.pcap"), std::ios::binary) << in;
    Result r = replay({"-q", "-e", "rx | pcap \"out.pcap\"\nrx | pcap \"out.pcapng\"", "-o", path("o"), path("in.pcap")});
    ASSERT_EQ(r.status, 0) << r.err;
    std::string out = slurp(path("o/out.pcap"));
    ASSERT_GE(out.size(), 24u);
    uint32_t written;
    std::memcpy(&written, out.data() + 16, sizeof(written));
    EXPECT_EQ(written, snaplen);
    r = run("capinfos " + quote(path("o/out.pcapng")));
    EXPECT_NE(r.out.find("Capture length = 1514\n"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("Time precision = nanoseconds (9)"), std::string::npos) << r.out;
    EXPECT_EQ(read_capture(path("o/out.pcap")).size(), read_capture(sample("mixed.pcap")).size());
}

TEST_F(Replay, EveryScriptAnswersHelpWithItsUsage) {
    // Each prints its opening comment and does nothing else: a script that
    // ran instead (a build, a benchmark) would not finish this fast.
    std::string scripts = env("SL_SOURCE") + "/scripts/";
    for (const char* s : {"bench-forward.sh", "bench-plugin.sh", "bench-replay.sh", "bench-shadow.sh",
                          "bench-workers.sh", "bind-nics.sh", "build.sh", "demo.sh", "hugepages.sh", "setup.sh",
                          "stage-sdk.sh", "test.sh", "sl-bench", "make-samples.py", "gen-bench-capture.py",
                          "check-layers.py"}) {
        std::string name = s;
        std::string program = name.ends_with(".py") ? "/usr/bin/python3 " : "bash ";
        Result r = run("timeout 10 " + program + quote(scripts + name) + " --help");
        EXPECT_EQ(r.status, 0) << name << ": " << r.err;
        std::string first = slurp(scripts + name);
        first = first.substr(first.find('\n') + 1);
        first = first.substr(0, first.find('\n'));
        first.erase(0, first.find_first_not_of("#\" "));
        first.erase(first.find_last_not_of(' ') + 1);
        EXPECT_EQ(r.out.substr(0, first.size()), first) << name << " printed:\n" << r.out;
    }
    Result r = run("bash " + quote(scripts + "sl-bench") + " no-such-benchmark");
    EXPECT_EQ(r.status, 2);
    EXPECT_NE(r.err.find("The benchmarks by name"), std::string::npos) << r.err;
}

TEST_F(Replay, DotExportIsAGraphGraphvizDrawsWithTheEdgesAsWritten) {
    Result r = replay({"-q", "--dot", path("g.dot"), "-e",
                       "rx | bpf \"udp\" name=udp-only | count\np = rx 1 | ipproto\np |17 count name=udp\n"
                       "p |else pcap \"" + path("rest.pcap") + "\"",
                       sample("mixed.pcap"), sample("mixed.pcap")});
    ASSERT_EQ(r.status, 0) << r.err;
    std::string dot = slurp(path("g.dot"));
    for (const char* line : {"n0 [label=\"rx\", shape=ellipse];", "n1 [label=\"udp-only\\n(bpf)\"];",
                             "n2 [label=\"count#1\"];", "n3 [label=\"ipproto#1\"];", "n0 -> n1;",
                             "n0 -> n3 [label=\"rx 1\"];", "n3 -> n4 [label=\"|17\"];",
                             "n3 -> n5 [label=\"|else\"];", "n5 [label=\"pcap#1\", shape=component];"})
        EXPECT_NE(dot.find(line), std::string::npos) << line << " not in\n" << dot;
    // Graphviz draws it, with the edges' labels.
    r = run("dot -Tsvg " + quote(path("g.dot")) + " -o " + quote(path("g.svg")));
    ASSERT_EQ(r.status, 0) << r.err;
    std::string svg = slurp(path("g.svg"));
    for (const char* text : {">|17<", ">|else<", ">rx 1<", ">udp&#45;only<"})
        EXPECT_NE(svg.find(text), std::string::npos) << text << " not in the SVG";
}

}  // namespace
