// sl-forward end to end on virtual devices: net_pcap ports reading and
// writing capture files, and af_packet ports on veth pairs in network
// namespaces the test creates. tcpdump judges what should come out.
#include "harness.hpp"

#include <set>

using namespace sl_test;

namespace {

class Forward : public Harness {
protected:
    // A net_pcap port: reads `rx` (if any) and writes each of `tx` (one file
    // per transmit queue).
    static std::string pcap_port(int n, const std::string& rx, const std::vector<std::string>& tx) {
        std::string v = "--vdev=net_pcap" + std::to_string(n);
        if (!rx.empty()) v += ",rx_pcap=" + rx;
        for (const auto& t : tx) v += ",tx_pcap=" + t;
        return v;
    }
};

// The bytes of each packet, in order: what a port forwards keeps no capture
// timestamp, so only data and length are compared.
std::vector<std::string> frames(const std::string& file) {
    std::vector<std::string> out;
    for (auto& r : read_capture(file)) out.push_back(std::move(r.data));
    return out;
}

std::string port_object(const Stats& s, int port) {
    auto at = s.text.find("{\"port\":" + std::to_string(port) + ",\"name\"");
    if (at == std::string::npos) throw std::runtime_error("no port " + std::to_string(port) + " in stats");
    return s.text.substr(at, s.text.find('}', at) - at + 1);
}

TEST_F(Forward, NetPcapPortsForwardExactlyWhatTcpdumpKeeps) {
    std::string in = sample("mixed.pcap");
    size_t total = read_capture(in).size();
    for (const char* expr : {"tcp port 80", "udp", "vlan 100", "ip6 and tcp", "tcp[13] == 0x18"}) {
        auto expected = frames(tcpdump_filter(in, expr, path("expected.pcap")));
        ASSERT_FALSE(expected.empty()) << expr;
        fs::remove(path("out.pcap"));
        Result r = forward({pcap_port(0, in, {path("unused.pcap")}), pcap_port(1, "", {path("out.pcap")}), "--", "-q",
                            "-e", std::string("rx 0 | bpf \"") + expr + "\" | tx 1", "--duration", "1",
                            "--stats-json", path("s.json")});
        ASSERT_EQ(r.status, 0) << expr << ": " << r.err;
        EXPECT_TRUE(frames(path("out.pcap")) == expected) << expr;
        Stats s = stats_of(path("s.json"));
        EXPECT_EQ(Stats{port_object(s, 0)}.number("\"rx_packets\""), total) << expr;
        EXPECT_EQ(Stats{port_object(s, 1)}.number("\"tx_packets\""), expected.size()) << expr;
        EXPECT_EQ(s.number("\"packets_written\""), expected.size()) << expr;
        expect_conservation(s);
    }
}

TEST_F(Forward, TwoWorkersLoseNothingAndKeepEachPortsOrder) {
    // Three lcores on this machine's CPUs: the main one and two workers. Each
    // worker polls one of the two receiving ports and owns one transmit queue
    // (one file) on each sending port.
    std::string a = sample("mixed.pcap"), b = sample("malformed.pcap");
    Result r = forward({"--lcores=0@0,1@0,2@1", pcap_port(0, a, {path("u0.pcap"), path("u1.pcap")}),
                        pcap_port(1, b, {path("u2.pcap"), path("u3.pcap")}),
                        pcap_port(2, "", {path("p2q0.pcap"), path("p2q1.pcap")}),
                        pcap_port(3, "", {path("p3q0.pcap"), path("p3q1.pcap")}), "--", "-q", "-e",
                        "rx 0 | tx 2\nrx 1 | count | tx 3\nrx | pcap \"" + path("all.pcap") + "\"", "--duration",
                        "1.5", "--stats-json", path("s.json")});
    ASSERT_EQ(r.status, 0) << r.err;
    // Port 0 is polled by worker 0, port 1 by worker 1: each output queue
    // holds one input whole and in order, the other queue nothing.
    auto p2 = frames(path("p2q0.pcap")), p2b = frames(path("p2q1.pcap"));
    auto p3 = frames(path("p3q0.pcap")), p3b = frames(path("p3q1.pcap"));
    EXPECT_TRUE(p2 == frames(a));
    EXPECT_TRUE(p2b.empty());
    EXPECT_TRUE(p3.empty());
    EXPECT_TRUE(p3b == frames(b));
    // Every packet also went to the pcap sink, which each worker writes to a
    // file of its own.
    EXPECT_TRUE(frames(path("all-w0.pcap")) == frames(a));
    EXPECT_TRUE(frames(path("all-w1.pcap")) == frames(b));
    Stats s = stats_of(path("s.json"));
    EXPECT_EQ(s.number("\"packets_read\""), frames(a).size() + frames(b).size());
    EXPECT_EQ(s.number("\"packets_written\""), frames(a).size() + frames(b).size());
    EXPECT_EQ(Stats{s.node("count#1")}.number("\"packets\""), frames(b).size());
    expect_conservation(s);
}

TEST_F(Forward, SigtermStopsWithCompleteOutputsAndEveryMbufHome) {
    // infinite_rx replays the capture forever: traffic is flowing when the
    // signal comes.
    std::string in = sample("mixed.pcap");
    std::string cmd = quote(env("SL_FORWARD")) + " " + quote(pcap_port(0, in, {path("u.pcap")}) + ",infinite_rx=1") +
                      " " + quote(pcap_port(1, "", {path("tx.pcap")})) + " -- -q -e " +
                      quote("rx 0 | bpf \"tcp\" | pcap \"" + path("tcp.pcap") + "\" | tx 1") + " --stats-json " +
                      quote(path("s.json"));
    Result r = run("sh -c " + quote(cmd + " & pid=$!; sleep 2; kill -TERM $pid; wait $pid"));
    ASSERT_EQ(r.status, 0) << r.err;
    Stats s = stats_of(path("s.json"));
    uint64_t written = Stats{s.node("pcap#1")}.number("\"written\"");
    EXPECT_GT(written, 1000u);
    // The pcap sink was flushed whole, and sent what it wrote.
    EXPECT_EQ(read_capture(path("tcp.pcap")).size(), written);
    EXPECT_EQ(Stats{s.node("tx#1")}.number("\"sent\""), written);
    expect_conservation(s);
}

TEST_F(Forward, SighupReloadsUnderTrafficAndKeepsCounting) {
    std::string in = sample("mixed.pcap");
    std::string config = path("live.sl");
    auto write_config = [&](const std::string& text) { std::ofstream(config) << text << "\n"; };
    write_config("rx 0 | bpf \"tcp\" | count name=seen | tx 1");
    std::string cmd = quote(env("SL_FORWARD")) + " " + quote(pcap_port(0, in, {path("u.pcap")}) + ",infinite_rx=1") +
                      " " + quote(pcap_port(1, "", {path("tx.pcap")})) + " -- -q -c " + quote(config) +
                      " --stats-json " + quote(path("s.json"));
    std::string script = cmd + " & pid=$!\nsleep 1.5\n" +
                         "echo 'rx 0 | bpf \"udp\" | count name=seen | tx 1' > " + quote(config) +
                         "\nkill -HUP $pid; sleep 1\n" + "echo 'rx 0 | cuont' > " + quote(config) +
                         "\nkill -HUP $pid; sleep 1\nkill -TERM $pid; wait $pid";
    Result r = run("sh -c " + quote(script));
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_NE(r.err.find("reloaded " + config), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("reload refused, the running graph stays"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("unknown filter 'cuont'"), std::string::npos) << r.err;
    // TCP before the reload, UDP after it, nothing else, nothing lost.
    auto count = [&](const char* expr) { return frames(tcpdump_filter(path("tx.pcap"), expr, path("f.pcap"))).size(); };
    size_t sent = frames(path("tx.pcap")).size();
    EXPECT_GT(count("tcp"), 1000u);
    EXPECT_GT(count("udp"), 1000u);
    EXPECT_EQ(count("tcp") + count("udp"), sent);
    Stats s = stats_of(path("s.json"));
    EXPECT_EQ(Stats{s.node("seen")}.number("\"packets\""), sent);
    EXPECT_EQ(s.number("\"packets_written\""), sent);
    EXPECT_EQ(Stats{port_object(s, 1)}.number("\"tx_packets\""), sent);
    expect_conservation(s);
}

TEST_F(Forward, TelemetryAnswersSlStatsAndSlGraph) {
    std::string prefix = "sl-telemetry-" + std::to_string(getpid());
    std::string cmd = quote(env("SL_FORWARD")) + " --file-prefix=" + prefix + " " +
                      quote(pcap_port(0, sample("mixed.pcap"), {path("u.pcap")}) + ",infinite_rx=1") + " " +
                      quote(pcap_port(1, "", {path("tx.pcap")})) + " -- -q -e " +
                      quote("rx 0 | bpf \"tcp\" name=tcp-only | tx 1") + " --duration 4";
    std::string script = cmd + " & pid=$!\nsleep 2\n" + "printf '/sl/stats\\n/sl/graph\\n' | dpdk-telemetry.py -f " +
                         prefix + " > " + quote(path("telemetry.txt")) + "\nwait $pid";
    Result r = run("sh -c " + quote(script));
    ASSERT_EQ(r.status, 0) << r.err;
    std::string answer = slurp(path("telemetry.txt"));
    EXPECT_TRUE(std::regex_search(answer, std::regex(R"re("/sl/stats": \{"packets_read": [1-9][0-9]*, "packets_written": [1-9][0-9]*)re")))
        << answer;
    EXPECT_NE(answer.find("\"nodes\": [\"rx\", \"parse\", \"tcp-only\", \"tx#1\"]"), std::string::npos) << answer;
    EXPECT_NE(answer.find("\"drop_reasons\": [\"filtered\"]"), std::string::npos) << answer;
    EXPECT_NE(answer.find("\"edges\": [\"rx -> parse\", \"parse -> tcp-only\", \"tcp-only -> tx#1\"]"),
              std::string::npos)
        << answer;
}

TEST_F(Forward, StatsIntervalPrintsPortAndNodeRates) {
    Result r = forward({"-l", "0", "--vdev=net_null0", "--vdev=net_null1,no-rx=1", "--", "-q", "-e",
                        "rx 0 | sample 2 | tx 1", "--stats-interval", "0.5", "--duration", "1.8"});
    ASSERT_EQ(r.status, 0) << r.err;
    // Three reports, each with both ports and every node, and the sampled-out
    // half as new drops.
    std::regex report(R"re(\[ +[0-9.]+ s\]\n  port 0 net_null0 +rx +[0-9.]+ Mpps +[0-9.]+ Mbit/s   tx +0\.000 Mpps)re"
                      R"re( +0\.0 Mbit/s\n  port 1 net_null1 +rx +0\.000 Mpps +0\.0 Mbit/s   tx +[0-9.]+ Mpps +[0-9.]+ Mbit/s\n)re"
                      R"re(  rx +[0-9.]+ Mpps\n  parse +[0-9.]+ Mpps\n  sample#1 +[0-9.]+ Mpps   dropped sampled_out=[0-9]+\n)re"
                      R"re(  tx#1 +[0-9.]+ Mpps\n)re");
    auto reports = std::distance(std::sregex_iterator(r.out.begin(), r.out.end(), report), std::sregex_iterator());
    EXPECT_EQ(reports, 3) << r.out;
}

TEST_F(Forward, AFullRingDropsAsTxFullAndAPacketSentOnceIsWritten) {
    // net_ring0 loops what it is sent back to its receive side, and its ring
    // holds what the forwarder has not read back yet. Each packet of port 0
    // is offered to it twice per walk, the ring frees about one burst a
    // walk: the first copies get in, the second find it full.
    Result r = forward({"-l", "0", pcap_port(0, sample("mixed.pcap"), {path("u.pcap")}) + ",infinite_rx=1",
                        "--vdev=net_ring0", "--", "-q", "-e",
                        "rx 0 | tx 1\nrx 0 | count | tx 1\nrx 1 | count name=back", "--duration", "1",
                        "--stats-json", path("s.json")});
    ASSERT_EQ(r.status, 0) << r.err;
    Stats s = stats_of(path("s.json"));
    uint64_t tx_full = Stats{s.node("tx#1")}.number("\"tx_full\"");
    EXPECT_GT(tx_full, 1000u);
    EXPECT_EQ(Stats{port_object(s, 1)}.number("\"tx_dropped\""), tx_full);
    // A packet one of whose copies went out was written.
    EXPECT_EQ(s.number("\"packets_written\""), Stats{port_object(s, 0)}.number("\"rx_packets\""));
    // What came back through the ring is port 1's, whatever port the mbuf
    // was received on before (net_ring does not set it).
    EXPECT_EQ(Stats{s.node("back")}.number("\"packets\""), Stats{port_object(s, 1)}.number("\"rx_packets\""));
    expect_conservation(s);
}

TEST_F(Forward, BadSetupsExitWithAClearMessage) {
    std::string in = sample("mixed.pcap");
    std::string port0 = pcap_port(0, in, {path("u.pcap")});

    Result r = forward({port0, "--", "-q", "-e", "rx 0 | tx 3", "--duration", "1"});
    EXPECT_EQ(r.status, 2);
    EXPECT_NE(r.err.find("command-line:1:11: error: tx: there is no DPDK port 3 (ports 0 to 0)"), std::string::npos)
        << r.err;

    r = forward({port0, "--", "-q", "-e", "rx 1 | tx 0", "--duration", "1"});
    EXPECT_EQ(r.status, 2);
    EXPECT_NE(r.err.find("rx 1: there is only 1 port (rx 0 to rx 0)"), std::string::npos) << r.err;

    r = forward({port0, "--", "-q", "-e", "rx | tx 0", "--mbufs", "100", "--duration", "1"});
    EXPECT_EQ(r.status, 1);
    EXPECT_NE(r.err.find("a pool of 100 mbufs is too small for 1 port"), std::string::npos) << r.err;

    // A device that cannot start: its capture does not exist.
    r = forward({pcap_port(0, path("missing.pcap"), {path("u.pcap")}), "--", "-q", "-e", "rx | tx 0", "--duration", "1"});
    EXPECT_EQ(r.status, 1);
    EXPECT_NE(r.err.find("DPDK found no ports"), std::string::npos) << r.err;

    r = forward({"--", "-q", "-e", "rx | tx 0", "--duration", "1"});
    EXPECT_EQ(r.status, 1);
    EXPECT_NE(r.err.find("DPDK found no ports"), std::string::npos) << r.err;

    // Ports that refuse what is asked of them.
    r = forward({port0, "--", "-q", "-e", "rx | tx 0", "--rxq", "4", "--duration", "1"});
    EXPECT_EQ(r.status, 1);
    EXPECT_NE(r.err.find("port 0 (net_pcap0) has 1 receive queue; --rxq 4 asks for more"), std::string::npos) << r.err;
    r = forward({port0, "--", "-q", "-e", "rx | tx 0", "--mtu", "9000", "--duration", "1"});
    EXPECT_EQ(r.status, 1);
    EXPECT_NE(r.err.find("port 0 (net_pcap0): cannot set MTU 9000"), std::string::npos) << r.err;

    r = forward({port0, "--", "-e", "rx | tx 0", "--burst", "0"});
    EXPECT_EQ(r.status, 2);
    EXPECT_NE(r.err.find("--burst takes 1 to 256, not '0'"), std::string::npos) << r.err;

    r = forward({port0, "--", "-e", "rx | tx 0", "--txq", "1", "--lcores=0@0,1@0,2@1"});
    EXPECT_EQ(r.status, 2);
}

TEST_F(Forward, ReplaySendsTxToTheEalsPortsAndFilesForTheRest) {
    // sl-replay with a port: `tx 0` goes out of it, `tx 1` (no such port)
    // still becomes OUTDIR/tx-1.pcap.
    std::string in = sample("mixed.pcap");
    auto web = frames(tcpdump_filter(in, "tcp port 80", path("web.pcap")));
    auto dns = read_capture(tcpdump_filter(in, "udp port 53", path("dns.pcap")));
    Result r = replay({pcap_port(0, "", {path("port0.pcap")}), "--", "-q", "-o", path("out"), "-e",
                       "rx | bpf \"tcp port 80\" | tx 0\nrx | bpf \"udp port 53\" | tx 1", "--stats-json",
                       path("s.json"), in});
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_TRUE(frames(path("port0.pcap")) == web);
    EXPECT_TRUE(read_capture(path("out/tx-1.pcap")) == dns);
    Stats s = stats_of(path("s.json"));
    EXPECT_EQ(Stats{port_object(s, 0)}.number("\"tx_packets\""), web.size());
    expect_conservation(s);
}

// ---------------------------------------------------------------------------
// Real traffic through the kernel: veth pairs in namespaces this test makes.
//
//   [gen] a --- b [dut: sl-forward, af_packet ports on b and c] c --- d [sink]
//
// tcpreplay sends a capture on a; tcpdump records what reaches d.

class Namespaces : public Forward {
protected:
    void SetUp() override {
        Forward::SetUp();
        tag_ = "sl" + std::to_string(getpid() % 100000);
        for (const char* ns : {"gen", "dut", "sink"}) {
            Result r = run("ip netns add " + ns_name(ns));
            if (r.status != 0) GTEST_SKIP() << "cannot create network namespaces here: " << r.err;
            made_.push_back(ns_name(ns));
        }
        sh("ip link add " + dev("a") + " netns " + ns_name("gen") + " type veth peer name " + dev("b") + " netns " +
           ns_name("dut"));
        sh("ip link add " + dev("c") + " netns " + ns_name("dut") + " type veth peer name " + dev("d") + " netns " +
           ns_name("sink"));
        // No IPv6 on the test links: the kernel's own neighbour discovery and
        // MLD would otherwise join the traffic.
        for (auto [ns, d] : {std::pair{"gen", "a"}, {"dut", "b"}, {"dut", "c"}, {"sink", "d"}}) {
            sh(in(ns, "sh -c 'echo 1 > /proc/sys/net/ipv6/conf/" + dev(d) + "/disable_ipv6'"));
            sh(in(ns, "ip link set " + dev(d) + " mtu 9000 up"));
        }
    }
    void TearDown() override {
        for (const auto& ns : made_) run("ip netns del " + ns);
        Forward::TearDown();
    }

    std::string ns_name(const std::string& role) const { return tag_ + "-" + role; }
    std::string dev(const std::string& end) const { return tag_ + end; }
    std::string in(const std::string& role, const std::string& command) const {
        return "ip netns exec " + ns_name(role) + " " + command;
    }
    void sh(const std::string& command) {
        Result r = run(command);
        ASSERT_EQ(r.status, 0) << command << ": " << r.err;
    }

    std::string tag_;
    std::vector<std::string> made_;
};

TEST_F(Namespaces, AfPacketForwardsWhatTcpdumpKeepsThroughVeth) {
    // Untagged frames only: veth moves VLAN tags out of the frame, which
    // tcpdump -r on the file would not see.
    std::string in_file = tcpdump_filter(sample("mixed.pcap"), "not vlan", path("in.pcap"));
    auto expected = frames(tcpdump_filter(in_file, "tcp port 80 or udp port 53", path("expected.pcap")));
    ASSERT_GT(expected.size(), 50u);

    // sl-forward on CPU 0 (its main lcore forwards); the helpers on CPU 1.
    std::string sink_cmd = in("sink", "taskset -c 1 " + quote(env("TCPDUMP")) + " -i " + dev("d") +
                                          " -U -n -w " + quote(path("got.pcap")) + " 2>" + quote(path("tcpdump.err")));
    std::string fwd = in("dut", quote(env("SL_FORWARD")) + " -l 0 --vdev=net_af_packet0,iface=" + dev("b") +
                                    ",framecnt=16384 --vdev=net_af_packet1,iface=" + dev("c") +
                                    ",framecnt=16384 -- -q -e " + quote("rx 0 | bpf \"tcp port 80 or udp port 53\" | tx 1") +
                                    " --duration 6 --stats-json " + quote(path("s.json")));
    std::string replay = in("gen", "taskset -c 1 tcpreplay -q -i " + dev("a") + " --pps=2000 " + quote(in_file));
    std::string script = sink_cmd + " & tcpdump=$!\n" + fwd + " & fwd=$!\n" +
                         "sleep 2\n" + replay + " >/dev/null || exit 90\n" +
                         "wait $fwd || exit 91\n" + "sleep 0.5; kill -INT $tcpdump; wait $tcpdump; exit 0\n";
    Result r = run("timeout 60 sh -c " + quote(script));
    ASSERT_EQ(r.status, 0) << r.err << slurp(path("tcpdump.err"));
    EXPECT_TRUE(frames(path("got.pcap")) == expected)
        << frames(path("got.pcap")).size() << " packets arrived, " << expected.size() << " expected";
    Stats s = stats_of(path("s.json"));
    EXPECT_EQ(s.number("\"packets_written\""), expected.size());
    expect_conservation(s);
}

// A flow's key from the frame: addresses, protocol and ports of untagged
// IPv4 (options allowed) and IPv6 without extension headers; "" otherwise.
std::string flow_of(const std::string& f) {
    auto u8 = [&](size_t i) { return static_cast<unsigned char>(f[i]); };
    if (f.size() >= 34 && u8(12) == 0x08 && u8(13) == 0x00) {
        size_t l4 = 14 + (u8(14) & 0xf) * 4u;
        return f.substr(23, 1) + f.substr(26, 8) + (f.size() >= l4 + 4 ? f.substr(l4, 4) : "");
    }
    if (f.size() >= 58 && u8(12) == 0x86 && u8(13) == 0xdd) return f.substr(20, 1) + f.substr(22, 32) + f.substr(54, 4);
    return "";
}

TEST_F(Namespaces, TwoWorkersOnTwoQueuesLoseNothingAndKeepEachFlowInOrder) {
    // af_packet spreads a port's queues by the kernel's flow hash (fanout),
    // the RSS of this setup. Its fanout defragments, so no fragments here.
    // (`vlan` shifts the offsets of what follows it in libpcap, so it comes last.)
    std::string in_file = tcpdump_filter(sample("mixed.pcap"),
                                         "not (ip and ip[6:2] & 0x3fff != 0) and not (ip6 and ip6[6] == 44) and not vlan",
                                         path("in.pcap"));
    auto expected = frames(tcpdump_filter(in_file, "tcp or udp", path("expected.pcap")));
    ASSERT_GT(expected.size(), 500u);

    std::string sink_cmd = in("sink", "taskset -c 1 " + quote(env("TCPDUMP")) + " -i " + dev("d") + " -U -n -w " +
                                          quote(path("got.pcap")) + " 2>" + quote(path("tcpdump.err")));
    std::string fwd = in("dut", quote(env("SL_FORWARD")) + " --lcores=0@0,1@0,2@1 --vdev=net_af_packet0,iface=" +
                                    dev("b") + ",qpairs=2,framecnt=16384 --vdev=net_af_packet1,iface=" + dev("c") +
                                    ",qpairs=2,framecnt=16384 -- -q --rxq 2 -e " +
                                    quote("rx 0 | bpf \"tcp or udp\" | tx 1") + " --duration 6 --stats-json " +
                                    quote(path("s.json")));
    std::string replay = in("gen", "taskset -c 1 tcpreplay -q -i " + dev("a") + " --pps=2000 " + quote(in_file));
    std::string script = sink_cmd + " & tcpdump=$!\n" + fwd + " & fwd=$!\n" + "sleep 2\n" + replay +
                         " >/dev/null || exit 90\n" + "wait $fwd || exit 91\n" +
                         "sleep 0.5; kill -INT $tcpdump; wait $tcpdump; exit 0\n";
    Result r = run("timeout 60 sh -c " + quote(script));
    ASSERT_EQ(r.status, 0) << r.err << slurp(path("tcpdump.err"));
    auto got = frames(path("got.pcap"));
    // Nothing lost, nothing duplicated...
    EXPECT_TRUE(std::multiset<std::string>(got.begin(), got.end()) ==
                std::multiset<std::string>(expected.begin(), expected.end()))
        << got.size() << " packets arrived, " << expected.size() << " expected";
    // ...and every flow in its order, though flows interleave differently.
    std::map<std::string, std::vector<std::string>> want, have;
    for (const auto& f : expected) want[flow_of(f)].push_back(f);
    for (const auto& f : got) have[flow_of(f)].push_back(f);
    for (const auto& [flow, packets] : want)
        if (!flow.empty()) {
            EXPECT_TRUE(have[flow] == packets) << "a flow of " << packets.size() << " packets";
        }
    // Both workers forwarded.
    Stats s = stats_of(path("s.json"));
    EXPECT_GT(s.number(R"re("lcore":1,"packets_read")re"), 100u);
    EXPECT_GT(s.number(R"re("lcore":2,"packets_read")re"), 100u);
    EXPECT_EQ(s.number("\"packets_written\""), expected.size());
    expect_conservation(s);
}

}  // namespace
