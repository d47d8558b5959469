// Shadow buffers end to end: the policy changes what is copied, never what
// comes out; the copied bytes are exactly the ones the policy promises; a
// DMA engine copies the same bytes as the CPU.
#include <algorithm>
#include <filesystem>
#include <map>

#include <regex>

#include "harness.hpp"

using namespace sl_test;

namespace {

const std::vector<std::string> kPolicies = {"zero-copy", "copy-once", "hybrid", "hybrid:40", "prefetch"};

// The run's shadow figure `key`: every node's, summed.
uint64_t shadow_total(const Stats& s, const std::string& key) { return s.shadow_total(key); }

// What a run leaves behind, to compare between policies: every output file
// and each node's counts (its "shadow" figures are what may differ).
struct Outcome {
    int status = -1;
    std::map<std::string, std::vector<Record>> files;
    std::vector<std::string> nodes;
    bool operator==(const Outcome& o) const { return status == o.status && files == o.files && nodes == o.nodes; }
};

Outcome outcome(Harness& h, const Result& r, const std::string& outdir, const std::string& json) {
    Outcome o;
    o.status = r.status;
    if (fs::exists(outdir))
        for (const auto& e : fs::directory_iterator(outdir)) {
            if (e.is_regular_file() && e.path().extension() == ".pcap") {
                o.files[e.path().filename()] = read_capture(e.path());
                continue;
            }
            if (e.is_regular_file()) {  // a match report, as one record
                o.files[e.path().filename()] = {Record{0, 0, slurp(e.path())}};
                continue;
            }
            // A folder of streams: each file's bytes as one record.
            for (const auto& f : fs::directory_iterator(e.path()))
                o.files[(e.path().filename() / f.path().filename()).string()] = {Record{0, 0, slurp(f.path())}};
        }
    if (r.status != 0) return o;
    Stats s = stats_of(json);
    for (const auto& n : s.json.at("nodes"))
        o.nodes.push_back(Json{{"name", n.at("name")}, {"filter", n.at("filter")}, {"packets_in", n.at("packets_in")},
                               {"packets_out", n.at("packets_out")}, {"drops", n.at("drops")}}
                              .dump());
    expect_conservation(s);
    (void)h;
    return o;
}

std::string fmt_args(const std::vector<std::string>& args) {
    std::string out;
    for (const auto& a : args) out += (out.empty() ? "" : " ") + a;
    return out;
}

// Payload offset of an untagged Ethernet IPv4 or IPv6 TCP frame (what
// libpcap's "tcp port 80" keeps): link, IP and TCP headers.
uint32_t tcp_payload_offset(const std::string& frame) {
    auto byte = [&](size_t i) { return static_cast<uint8_t>(frame[i]); };
    uint32_t ip = 14;
    uint32_t ether_type = byte(12) << 8 | byte(13);
    uint32_t tcp = ether_type == 0x0800 ? ip + (byte(ip) & 0x0f) * 4 : ip + 40;
    return tcp + (byte(tcp + 12) >> 4) * 4;
}

}  // namespace

class Shadow : public Harness {};

TEST_F(Shadow, NoPolicyChangesWhatComesOutOfAnyConfigOnAnySample) {
    std::vector<std::string> configs, samples;
    for (const auto& e : fs::directory_iterator(env("SL_SOURCE") + "/config"))
        if (e.path().extension() == ".sl") configs.push_back(e.path());
    for (const auto& e : fs::directory_iterator(env("SL_SOURCE") + "/pcap-samples"))
        if (e.path().extension() == ".pcap" || e.path().extension() == ".pcapng") samples.push_back(e.path());
    ASSERT_GE(configs.size(), 5u);
    ASSERT_GE(samples.size(), 4u);
    // Every policy, and records cut into 64-byte segments (every packet a
    // chain, headers across segments) read in place and through shadows.
    std::vector<std::vector<std::string>> variants;
    for (const auto& policy : kPolicies) variants.push_back({"--shadow", policy});
    variants.push_back({"--shadow", "zero-copy", "--segment", "64"});
    variants.push_back({"--shadow", "hybrid", "--segment", "64"});
    int compared = 0;
    for (const auto& config : configs)
        for (const auto& sample_file : samples) {
            Outcome reference;
            for (const auto& variant : variants) {
                std::string outdir = path("out");
                fs::remove_all(outdir);
                std::vector<std::string> args = variant;
                args.insert(args.end(), {"-q", "-c", config, "-o", outdir, "--stats-json", path("s.json"), sample_file});
                Result r = replay(args);
                Outcome o = outcome(*this, r, outdir, path("s.json"));
                if (&variant == &variants.front()) {
                    reference = o;
                    continue;
                }
                EXPECT_TRUE(o == reference) << config << " on " << sample_file << ": " << fmt_args(variant)
                                            << " differs from zero-copy\n" << r.err;
                compared++;
            }
        }
    EXPECT_EQ(compared, int(configs.size() * samples.size() * (variants.size() - 1)));
}

TEST_F(Shadow, MatchKeepsWhatTheLiteralsSelectUnderEveryPolicy) {
    // The oracle: tcpdump's "tcp port 80", then the frames holding each
    // literal (no header of this sample happens to contain one).
    std::string in = sample("mixed.pcap");
    auto web = read_capture(tcpdump_filter(in, "tcp port 80", path("web.pcap")));
    std::vector<Record> get, post;
    for (const auto& r : web) {
        if (r.data.find("GET ") != std::string::npos) get.push_back(r);
        else if (r.data.find("POST ") != std::string::npos) post.push_back(r);
    }
    ASSERT_GT(get.size(), 10u);
    ASSERT_GT(post.size(), 10u);
    for (const auto& policy : kPolicies) {
        Result r = replay({"-q", "--shadow", policy, "-e",
                           "m = rx | bpf \"tcp port 80\" | match \"GET \" \"POST \"\nm |1 pcap \"" + path("get.pcap") +
                               "\"\nm |2 pcap \"" + path("post.pcap") + "\"",
                           "--stats-json", path("s.json"), in});
        ASSERT_EQ(r.status, 0) << policy << ": " << r.err;
        EXPECT_TRUE(read_capture(path("get.pcap")) == get) << policy;
        EXPECT_TRUE(read_capture(path("post.pcap")) == post) << policy;
        Stats s = stats_of(path("s.json"));
        expect_conservation(s);
        EXPECT_EQ(s.of("match#1", "pattern1"), get.size()) << policy;
        EXPECT_EQ(s.of("match#1", "no_match"), web.size() - get.size() - post.size()) << policy;
    }
    // Bytes by escape, and the same search as a regular expression.
    for (const char* filter : {R"(match "\x47ET\x20")", R"(regex "G[A-Z]{2}\s")"}) {
        Result r = replay({"-q", "-e", std::string("rx | bpf \"tcp port 80\" | ") + filter + " | pcap \"" +
                                           path("get.pcap") + "\"", in});
        ASSERT_EQ(r.status, 0) << filter << ": " << r.err;
        EXPECT_TRUE(read_capture(path("get.pcap")) == get) << filter;
    }
}

TEST_F(Shadow, HybridPullsExactlyThePayloadsOfThePacketsThatReachAPayloadFilter) {
    std::string in = sample("mixed.pcap");
    auto all = read_capture(in);
    auto web = read_capture(tcpdump_filter(in, "tcp port 80", path("web.pcap")));
    uint64_t web_payload = 0, every_byte = 0;
    for (const auto& r : web) web_payload += r.data.size() - std::min<size_t>(tcp_payload_offset(r.data), r.data.size());
    for (const auto& r : all) every_byte += r.data.size();
    ASSERT_GT(web_payload, 0u);

    // Headers only: nothing is pulled, every header byte is read in place.
    Result r = replay({"-q", "-e", "rx | bpf \"tcp port 80\" | count", "--stats-json", path("h.json"), in});
    ASSERT_EQ(r.status, 0) << r.err;
    Stats headers = stats_of(path("h.json"));
    EXPECT_EQ(shadow_total(headers, "bytes_pulled"), 0u);
    EXPECT_GT(shadow_total(headers, "bytes_zero_copy"), 0u);
    EXPECT_EQ(headers.json.at("shadow").at("policy"), "hybrid") << "hybrid is the default";

    // A payload filter behind a header filter: exactly the payloads of the
    // packets that reached it.
    r = replay({"-q", "--shadow", "hybrid", "-e", "rx | bpf \"tcp port 80\" | match \"GET \"", "--stats-json",
                path("p.json"), in});
    ASSERT_EQ(r.status, 0) << r.err;
    Stats payload = stats_of(path("p.json"));
    EXPECT_EQ(shadow_total(payload, "bytes_pulled"), web_payload);
    EXPECT_EQ(shadow_total(payload, "bytes_copied_cpu"), web_payload);
    EXPECT_EQ(payload.of("match#1", "bytes_pulled"), web_payload);

    // Copy once: every byte of every packet, since the parser reads them all.
    for (const char* policy : {"copy-once", "prefetch"}) {
        r = replay({"-q", "--shadow", policy, "-e", "rx | bpf \"tcp port 80\" | match \"GET \"", "--stats-json",
                    path("c.json"), in});
        ASSERT_EQ(r.status, 0) << r.err;
        Stats copy = stats_of(path("c.json"));
        EXPECT_EQ(shadow_total(copy, "bytes_pulled"), every_byte) << policy;
        EXPECT_EQ(shadow_total(copy, "bytes_zero_copy"), 0u) << policy;
    }

    // bpf reads what its program loads: ports are headers, bytes past a
    // transport header's first 8 are payload, which hybrid then pulls.
    r = replay({"-q", "-e", "rx | bpf \"tcp port 80\" name=ports\nrx | bpf \"tcp[20:4] = 0x47455420\" name=get",
                "--stats-json", path("b.json"), in});
    ASSERT_EQ(r.status, 0) << r.err;
    Stats bpf = stats_of(path("b.json"));
    EXPECT_EQ(bpf.node("ports").at("access"), "headers") << bpf.node("ports").dump();
    EXPECT_EQ(bpf.node("get").at("access"), "payload") << bpf.node("get").dump();
    EXPECT_EQ(bpf.of("ports", "bytes_pulled"), 0u);
    EXPECT_GT(bpf.of("get", "bytes_pulled"), 0u);

    // Zero copy: nothing, ever.
    r = replay({"-q", "--shadow", "zero-copy", "-e", "rx | bpf \"tcp port 80\" | match \"GET \"", "--stats-json",
                path("z.json"), in});
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(shadow_total(stats_of(path("z.json")), "bytes_pulled"), 0u);
}

TEST_F(Shadow, ChainedRecordsAreReadWholeThroughTheView) {
    // Records above 32 KiB are attached as chains of external buffers; a
    // literal placed across the chain's pieces must still be found, under
    // every policy (hybrid and copy-once pull the chain into one shadow).
    std::string in = path("big.pcap");
    std::string out;
    auto u32 = [&](uint32_t v) { out.append(reinterpret_cast<const char*>(&v), 4); };
    auto u16 = [&](uint16_t v) { out.append(reinterpret_cast<const char*>(&v), 2); };
    u32(0xa1b2c3d4); u16(2); u16(4); u32(0); u32(0); u32(262144); u32(1);
    std::vector<size_t> needle_at = {100, 32760, 65530, 70000};
    int id = 0;
    for (size_t at : needle_at) {
        std::string frame(90000, 'a');
        std::string head = std::string("\x00\x11\x22\x33\x44\x55\x00\x66\x77\x88\x99\xaa\x08\x00", 14);
        frame.replace(0, 14, head);
        // IPv4 + UDP headers (lengths claim the whole frame; no checksum).
        std::string ip = std::string("\x45\x00\x00\x00\x00\x00\x40\x00\x40\x11\x00\x00\x0a\x00\x00\x01\x0a\x00\x00\x02", 20);
        uint16_t total = 65535;
        ip[2] = char(total >> 8), ip[3] = char(total & 0xff);
        frame.replace(14, 20, ip);
        frame.replace(34, 8, std::string("\x13\x88\x13\x89\x00\x00\x00\x00", 8));
        frame.replace(at, 6, "NEEDLE");
        u32(static_cast<uint32_t>(++id)); u32(0); u32(uint32_t(frame.size())); u32(uint32_t(frame.size()));
        out += frame;
    }
    std::ofstream(in, std::ios::binary) << out;
    for (const auto& policy : kPolicies) {
        Result r = replay({"-q", "--shadow", policy, "-e", "rx | match \"NEEDLE\" | pcap \"" + path("found.pcap") + "\"",
                           "--stats-json", path("s.json"), in});
        ASSERT_EQ(r.status, 0) << policy << ": " << r.err;
        EXPECT_EQ(read_capture(path("found.pcap")).size(), needle_at.size()) << policy;
        expect_conservation(stats_of(path("s.json")));
    }
}

TEST_F(Shadow, DmaSkeletonCopiesTheSameBytesAsTheCpu) {
    std::string in = sample("mixed.pcap");
    auto web = read_capture(tcpdump_filter(in, "tcp port 80", path("web.pcap")));
    std::vector<Record> get;
    for (const auto& r : web)
        if (r.data.find("GET ") != std::string::npos) get.push_back(r);
    for (const char* policy : {"copy-once", "hybrid", "prefetch"}) {
        Result r = replay({"-l", "0", "--vdev=dma_skeleton0,lcore=1", "--", "-q", "--shadow", policy, "--dma",
                           "dma_skeleton0", "--dma-min-bytes", "0", "-e",
                           "rx | bpf \"tcp port 80\" | match \"GET \" | pcap \"" + path("get.pcap") + "\"",
                           "--stats-json", path("s.json"), in});
        ASSERT_EQ(r.status, 0) << policy << ": " << r.err;
        EXPECT_TRUE(read_capture(path("get.pcap")) == get) << policy;
        Stats s = stats_of(path("s.json"));
        expect_conservation(s);
        EXPECT_GT(shadow_total(s, "bytes_copied_dma"), 0u) << policy;
        EXPECT_EQ(shadow_total(s, "bytes_copied_dma") + shadow_total(s, "bytes_copied_cpu"),
                  shadow_total(s, "bytes_pulled"))
            << policy;
        EXPECT_GT(shadow_total(s, "dma_batches"), 0u) << policy;
    }
    // Without --dma-min-bytes the crossover is measured at start-up and said
    // with -v; the copies then go wherever it falls, with the same result.
    Result r = replay({"-l", "0", "--vdev=dma_skeleton0,lcore=1", "--", "-v", "--dma", "dma_skeleton0", "-e",
                       "rx | bpf \"tcp port 80\" | match \"GET \" | pcap \"" + path("get.pcap") + "\"", "--stats-json",
                       path("s.json"), in});
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_TRUE(std::regex_search(r.err, std::regex("\ndma: (copies of \\d+ bytes and more go to the DMA engine|the CPU "
                                                    "copied faster at every size measured)")))
        << r.err;
    EXPECT_TRUE(read_capture(path("get.pcap")) == get);
    Stats s = stats_of(path("s.json"));
    EXPECT_EQ(shadow_total(s, "bytes_copied_dma") + shadow_total(s, "bytes_copied_cpu"), shadow_total(s, "bytes_pulled"));
}

TEST_F(Shadow, ANamedStreamServesItsReadersUnderItsOwnPolicy) {
    std::string in = sample("mixed.pcap");
    auto web = read_capture(tcpdump_filter(in, "tcp port 80", path("web.pcap")));
    uint64_t web_bytes = 0;
    for (const auto& r : web) web_bytes += r.data.size();
    ASSERT_GT(web_bytes, 0u);
    const std::string pipelines =
        "web = rx | bpf \"tcp port 80\"\n"
        "web | match \"GET \" name=get | pcap \"" + path("get.pcap") + "\"\n"
        "rx | bpf \"udp\" | match \"a\" name=udp\n";

    // Under zero copy everywhere else, copy-once for what reads `web`: the
    // first reader copies each of its packets whole, and nothing else moves.
    Result r = replay({"-q", "--shadow", "zero-copy", "-e", pipelines + "shadow web copy-once", "--stats-json",
                       path("s.json"), in});
    ASSERT_EQ(r.status, 0) << r.err;
    Stats s = stats_of(path("s.json"));
    expect_conservation(s);
    EXPECT_EQ(shadow_total(s, "bytes_pulled"), web_bytes);
    EXPECT_EQ(s.of("get", "bytes_pulled"), web_bytes);
    EXPECT_EQ(s.node("get").at("shadow").at("policy"), "copy-once") << s.node("get").dump();
    EXPECT_EQ(s.node("udp").at("shadow").at("policy"), "zero-copy") << s.node("udp").dump();
    auto with_setting = read_capture(path("get.pcap"));
    r = replay({"-q", "--shadow", "zero-copy", "-e", pipelines, in});
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_TRUE(read_capture(path("get.pcap")) == with_setting) << "the policy changes cost, never results";
    EXPECT_FALSE(with_setting.empty());

    // A prefetch stream pulls its packets whole as they enter it, before any
    // reader asks: here at the count that reads no byte.
    r = replay({"-q", "-e", "web = rx | bpf \"tcp port 80\"\nweb | count | match \"GET \"\nshadow web prefetch",
                "--stats-json", path("p.json"), in});
    ASSERT_EQ(r.status, 0) << r.err;
    Stats p = stats_of(path("p.json"));
    EXPECT_EQ(p.of("count#1", "bytes_pulled"), web_bytes);
    EXPECT_EQ(p.of("match#1", "bytes_pulled"), 0u) << "already local";

    // A setting must name a defined stream, once, with a real policy.
    r = replay({"-e", "web = rx | bpf \"tcp\"\nweb | count\nshadow wbe copy-once", in});
    EXPECT_EQ(r.status, 2);
    EXPECT_NE(r.err.find("command-line:3:8: error: shadow: unknown stream 'wbe'"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("did you mean 'web'?"), std::string::npos) << r.err;
    r = replay({"-e", "web = rx | bpf \"tcp\"\nweb | count\nshadow web lazy", in});
    EXPECT_EQ(r.status, 2);
    EXPECT_NE(r.err.find("command-line:3:12: error: the shadow policy is zero-copy"), std::string::npos) << r.err;
    r = replay({"-e", "web = rx | bpf \"tcp\"\nweb | count\nshadow web hybrid\nshadow web prefetch", in});
    EXPECT_EQ(r.status, 2);
    EXPECT_NE(r.err.find("stream 'web' has two shadow policies"), std::string::npos) << r.err;
}

TEST_F(Shadow, BadShadowOptionsAreUsageErrors) {
    for (std::vector<std::string> args : {std::vector<std::string>{"--shadow", "hybrid:0"},
                                          {"--shadow", "hybrid:x"},
                                          {"--shadow", "lazy"},
                                          {"--dma-min-bytes", "-3"}}) {
        args.insert(args.end(), {"-e", "rx | count", sample("mixed.pcap")});
        Result r = replay(args);
        EXPECT_EQ(r.status, 2) << args[1];
        EXPECT_NE(r.err.find("sl-replay: --"), std::string::npos) << r.err;
    }
    Result r = replay({"--dma", "nosuchdma", "-e", "rx | count", sample("mixed.pcap")});
    EXPECT_EQ(r.status, 1);
    EXPECT_NE(r.err.find("--dma nosuchdma: no such DMA device"), std::string::npos) << r.err;
    r = replay({"-e", "rx | match", sample("mixed.pcap")});
    EXPECT_EQ(r.status, 2);
    EXPECT_NE(r.err.find("match needs at least one pattern"), std::string::npos) << r.err;
    r = replay({"-e", "rx | regex \"(unclosed\"", sample("mixed.pcap")});
    EXPECT_EQ(r.status, 2);
    EXPECT_NE(r.err.find("command-line:1:13: error: regex: Missing close parenthesis"), std::string::npos) << r.err;
    r = replay({"-e", "rx | match \"bad\\q\"", sample("mixed.pcap")});
    EXPECT_EQ(r.status, 2) << r.err;
}
