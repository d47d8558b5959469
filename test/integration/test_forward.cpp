// sl-forward end to end on virtual devices: net_pcap ports reading and
// writing capture files, and af_packet ports on veth pairs in network
// namespaces the test creates. tcpdump judges what should come out.
//
// A test that runs sl-forward in the background waits for events, never for
// time: a figure its telemetry socket reports, a line it prints. Every wait is
// bounded, so a test that goes wrong ends on its own.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <regex>
#include <set>
#include <sstream>
#include <tuple>

#include "harness.hpp"

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

TEST_F(Forward, NetPcapPortsForwardExactlyWhatTcpdumpKeeps) {
    std::string in = sample("mixed.pcap");
    size_t total = read_capture(in).size();
    for (const char* expr : {"tcp port 80", "udp", "vlan 100", "ip6 and tcp", "tcp[13] == 0x18"}) {
        auto expected = frames(tcpdump_filter(in, expr, path("expected.pcap")));
        ASSERT_FALSE(expected.empty()) << expr;
        fs::remove(path("out.pcap"));
        std::string p = prefix("pcap");
        auto fwd = start_forward(p, {pcap_port(0, in, {path("unused.pcap")}), pcap_port(1, "", {path("out.pcap")}),
                                     "--", "-q", "-e", std::string("rx 0 | bpf \"") + expr + "\" | tx 1",
                                     "--stats-json", path("s.json")});
        // The capture is read whole once every packet went through the graph.
        EXPECT_TRUE(live_stats_reach(p, [&](const LiveStats& s) { return s.total("packets_read") == total; }))
            << expr << ": " << fwd->err();
        Result r = fwd->stop();
        ASSERT_EQ(r.status, 0) << expr << ": " << r.err;
        EXPECT_TRUE(frames(path("out.pcap")) == expected) << expr;
        Stats s = stats_of(path("s.json"));
        EXPECT_EQ(s.port_figure(0, "rx_packets"), total) << expr;
        EXPECT_EQ(s.port_figure(1, "tx_packets"), expected.size()) << expr;
        EXPECT_EQ(s.total("packets_written"), expected.size()) << expr;
        expect_conservation(s);
    }
}

class TwoWorkers : public Forward {
protected:
    // Three lcores on this machine's CPUs: the main one and two workers. Each
    // worker polls one of the two receiving ports and owns one transmit queue
    // (one file) on each sending port.
    void SetUp() override {
        Forward::SetUp();
        a_ = sample("mixed.pcap");
        b_ = sample("malformed.pcap");
        std::string p = prefix("workers");
        auto fwd = start_forward(p, {"--lcores=0@0,1@0,2@1", pcap_port(0, a_, {path("u0.pcap"), path("u1.pcap")}),
                                     pcap_port(1, b_, {path("u2.pcap"), path("u3.pcap")}),
                                     pcap_port(2, "", {path("p2q0.pcap"), path("p2q1.pcap")}),
                                     pcap_port(3, "", {path("p3q0.pcap"), path("p3q1.pcap")}), "--", "-q", "-e",
                                     "rx 0 | tx 2\nrx 1 | count | tx 3\nrx | pcap \"" + path("all.pcap") + "\"",
                                     "--stats-json", path("s.json")});
        size_t total = frames(a_).size() + frames(b_).size();
        EXPECT_TRUE(live_stats_reach(p, [&](const LiveStats& s) { return s.total("packets_read") == total; }))
            << fwd->err();
        Result r = fwd->stop();
        ASSERT_EQ(r.status, 0) << r.err;
    }
    std::string a_, b_;
};

TEST_F(TwoWorkers, EachWorkerForwardsItsPortWholeInOrder) {
    // Port 0 is polled by worker 0, port 1 by worker 1: each output queue
    // holds one input whole and in order, the other queue nothing.
    EXPECT_TRUE(frames(path("p2q0.pcap")) == frames(a_));
    EXPECT_TRUE(frames(path("p2q1.pcap")).empty());
    EXPECT_TRUE(frames(path("p3q0.pcap")).empty());
    EXPECT_TRUE(frames(path("p3q1.pcap")) == frames(b_));
    Stats s = stats_of(path("s.json"));
    EXPECT_EQ(s.total("packets_read"), frames(a_).size() + frames(b_).size());
    EXPECT_EQ(s.total("packets_written"), frames(a_).size() + frames(b_).size());
    EXPECT_EQ(s.of("count#1", "packets"), frames(b_).size()) << "the workers' counters are added";
    expect_conservation(s);
}

TEST_F(TwoWorkers, APcapSinkWritesAFilePerWorker) {
    EXPECT_TRUE(frames(path("all-w0.pcap")) == frames(a_));
    EXPECT_TRUE(frames(path("all-w1.pcap")) == frames(b_));
}

TEST_F(Forward, SigtermFlushesTheSinksBeforeTheRunEnds) {
    // infinite_rx replays the capture forever: traffic is flowing when the
    // signal comes.
    std::string in = sample("mixed.pcap");
    std::string p = prefix("sigterm");
    auto fwd = start_forward(p, {pcap_port(0, in, {path("u.pcap")}) + ",infinite_rx=1",
                                 pcap_port(1, "", {path("tx.pcap")}), "--", "-q", "-e",
                                 "rx 0 | bpf \"tcp\" | pcap \"" + path("tcp.pcap") + "\" | tx 1", "--stats-json",
                                 path("s.json")});
    EXPECT_TRUE(live_stats_reach(p, [](const LiveStats& s) { return s.total("packets_written") > 5000; }))
        << fwd->err();
    EXPECT_TRUE(fs::exists(dpdk_runtime_dir(p)));
    // The telemetry socket answers its owner only.
    EXPECT_EQ(fs::status(dpdk_runtime_dir(p) + "/dpdk_telemetry.v2").permissions() & fs::perms::all,
              fs::perms::owner_read | fs::perms::owner_write);
    Result r = fwd->stop(SIGTERM);
    ASSERT_EQ(r.status, 0) << r.err;
    // DPDK's runtime folder goes with the process.
    EXPECT_FALSE(fs::exists(dpdk_runtime_dir(p)));
    Stats s = stats_of(path("s.json"));
    uint64_t written = s.of("pcap#1", "written");
    EXPECT_GT(written, 5000u);
    // The pcap sink was flushed whole, and sent what it wrote.
    EXPECT_EQ(read_capture(path("tcp.pcap")).size(), written);
    EXPECT_EQ(s.of("tx#1", "sent"), written);
    expect_conservation(s);
}

class Reload : public Forward {
protected:
    void SetUp() override {
        Forward::SetUp();
        config_ = path("live.sl");
        write_config("rx 0 | bpf \"tcp\" | count name=seen | tx 1");
        prefix_ = prefix("reload");
        fwd_ = start_forward(prefix_, {pcap_port(0, sample("mixed.pcap"), {path("u.pcap")}) + ",infinite_rx=1",
                                       pcap_port(1, "", {path("tx.pcap")}), "--", "-q", "-c", config_, "--stats-json",
                                       path("s.json")});
        ASSERT_TRUE(written_reaches(1000)) << fwd_->err();
    }
    void write_config(const std::string& text) { std::ofstream(config_) << text << "\n"; }
    bool written_reaches(uint64_t n) {
        return live_stats_reach(prefix_, [&](const LiveStats& s) { return s.total("packets_written") >= n; });
    }
    uint64_t written_now() {
        uint64_t n = 0;
        live_stats_reach(prefix_, [&](const LiveStats& s) {
            n = s.total("packets_written");
            return true;
        });
        return n;
    }
    // Sends SIGHUP and waits for the line that says how it went.
    bool hang_up_until(const std::string& line) {
        fwd_->signal(SIGHUP);
        return eventually([&] { return fwd_->err().find(line) != std::string::npos; });
    }
    // Packets of `expr` in what went out of port 1.
    size_t sent(const char* expr) { return frames(tcpdump_filter(path("tx.pcap"), expr, path("f.pcap"))).size(); }

    std::string config_, prefix_;
    std::unique_ptr<Background> fwd_;
};

TEST_F(Reload, SighupSwitchesToTheNewConfigurationLosingNothing) {
    write_config("rx 0 | bpf \"udp\" | count name=seen | tx 1");
    ASSERT_TRUE(hang_up_until("reloaded " + config_)) << fwd_->err();
    // Everything written from here on is UDP.
    ASSERT_TRUE(written_reaches(written_now() + 1000)) << fwd_->err();
    Result r = fwd_->stop();
    ASSERT_EQ(r.status, 0) << r.err;
    // TCP before the reload, UDP after it, nothing else, nothing lost.
    size_t all = frames(path("tx.pcap")).size();
    EXPECT_GT(sent("tcp"), 1000u);
    EXPECT_GT(sent("udp"), 1000u);
    EXPECT_EQ(sent("tcp") + sent("udp"), all);
    Stats s = stats_of(path("s.json"));
    EXPECT_EQ(s.of("seen", "packets"), all) << "a node with the same name keeps counting";
    EXPECT_EQ(s.total("packets_written"), all);
    EXPECT_EQ(s.port_figure(1, "tx_packets"), all);
    expect_conservation(s);
}

TEST_F(Reload, SighupWithABadConfigurationKeepsTheRunningGraph) {
    write_config("rx 0 | cuont");
    ASSERT_TRUE(hang_up_until("reload refused, the running graph stays")) << fwd_->err();
    EXPECT_TRUE(written_reaches(written_now() + 1000)) << "the graph still runs";
    Result r = fwd_->stop();
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_NE(r.err.find("unknown filter 'cuont'"), std::string::npos) << r.err;
    EXPECT_EQ(sent("tcp"), frames(path("tx.pcap")).size()) << "only the first configuration's packets";
    expect_conservation(stats_of(path("s.json")));
}

TEST_F(Reload, AHundredSighupsInASecondLoseNothing) {
    // A storm of reloads, between two configurations and a broken one, while
    // traffic flows: each signal is a reload or is folded into the next;
    // the run survives, and every packet is accounted for.
    const char* configs[] = {"rx 0 | bpf \"udp\" | count name=seen | tx 1",
                             "rx 0 | bpf \"tcp\" | count name=seen | tx 1", "rx 0 | cuont"};
    for (int k = 0; k < 100; k++) {
        // Replaced whole, as an operator's editor does: a reload must not
        // read a file half written (a count node renamed "se" would take
        // "seen"'s packets for a while).
        std::ofstream(config_ + ".new") << configs[k % 3] << "\n";
        fs::rename(config_ + ".new", config_);
        fwd_->signal(SIGHUP);
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    write_config(configs[0]);
    ASSERT_TRUE(hang_up_until("reloaded " + config_)) << fwd_->err();
    ASSERT_TRUE(written_reaches(written_now() + 1000)) << "the graph runs after the storm: " << fwd_->err();
    Result r = fwd_->stop();
    ASSERT_EQ(r.status, 0) << r.err;
    Stats s = stats_of(path("s.json"));
    size_t all = frames(path("tx.pcap")).size();
    EXPECT_EQ(s.total("packets_written"), all);
    EXPECT_EQ(s.port_figure(1, "tx_packets"), all);
    EXPECT_EQ(s.of("seen", "packets"), all);
    expect_conservation(s);
}

TEST_F(Forward, OnlyThePortsAnRxReadsArePolledAlsoAfterAReload) {
    // Both net_null ports always have packets to give. What each port
    // counts as received is exactly what the graph read of it: a port no
    // `rx` names is not polled (its packets are neither read nor dropped).
    Result once = forward({"-l", "0", "--vdev=net_null0", "--vdev=net_null1", "--", "-q", "-e",
                           "rx 0 | count name=zero", "--duration", "0.3", "--stats-json", path("once.json")});
    ASSERT_EQ(once.status, 0) << once.err;
    Stats first = stats_of(path("once.json"));
    EXPECT_GT(first.of("zero", "packets"), 0u);
    EXPECT_EQ(first.port_figure(0, "rx_packets"), first.of("zero", "packets"));
    EXPECT_EQ(first.port_figure(1, "rx_packets"), 0u);

    // Reloaded to read the other port: port 0 is polled no more.
    std::string config = path("ports.sl");
    std::ofstream(config) << "rx 0 | count name=zero\n";
    std::string p = prefix("polled");
    auto fwd = start_forward(p, {"-l", "0", "--vdev=net_null0", "--vdev=net_null1", "--", "-q", "-c", config,
                                 "--stats-json", path("s.json")});
    ASSERT_TRUE(live_stats_reach(p, [](const LiveStats& s) { return s.node_in("zero") > 10000; })) << fwd->err();
    std::ofstream(config) << "rx 1 | count name=one\n";
    fwd->signal(SIGHUP);
    ASSERT_TRUE(eventually([&] { return fwd->err().find("reloaded") != std::string::npos; })) << fwd->err();
    ASSERT_TRUE(live_stats_reach(p, [](const LiveStats& s) { return s.node_in("one") > 10000; })) << fwd->err();
    Result r = fwd->stop();
    ASSERT_EQ(r.status, 0) << r.err;
    Stats s = stats_of(path("s.json"));
    EXPECT_EQ(s.port_figure(1, "rx_packets"), s.of("one", "packets"));
    EXPECT_EQ(s.port_figure(0, "rx_packets") + s.port_figure(1, "rx_packets"), s.total("packets_read"));
    // Port 0 read after the reload would have no branch to take.
    EXPECT_EQ(s.json.at("totals").at("drops").value("unclassified", uint64_t{0}), 0u) << s.json.dump();
    expect_conservation(s);
}

class Telemetry : public Forward {
protected:
    void SetUp() override {
        Forward::SetUp();
        prefix_ = prefix("telemetry");
        fwd_ = start_forward(prefix_, {pcap_port(0, sample("mixed.pcap"), {path("u.pcap")}) + ",infinite_rx=1",
                                       pcap_port(1, "", {path("tx.pcap")}), "--", "-q", "-e",
                                       "rx 0 | bpf \"tcp\" name=tcp-only | tx 1"});
        ASSERT_TRUE(live_stats_reach(prefix_, [](const LiveStats& s) { return s.total("packets_written") > 0; }))
            << fwd_->err();
    }
    void TearDown() override {
        if (fwd_) {
            EXPECT_EQ(fwd_->stop().status, 0);
        }
        Forward::TearDown();
    }
    // What DPDK's own client prints for `command`.
    std::string ask(const std::string& command) {
        Result r = run("sh -c " + quote("printf '" + command + "\\n' | dpdk-telemetry.py -f " + prefix_));
        EXPECT_EQ(r.status, 0) << r.err;
        return r.out;
    }
    std::string prefix_;
    std::unique_ptr<Background> fwd_;
};

TEST_F(Telemetry, SlStatsGivesTheTotalsAndEachNodesFigures) {
    std::string answer = ask("/sl/stats");
    EXPECT_TRUE(std::regex_search(
        answer, std::regex(R"re("/sl/stats": \{"packets_read": [1-9][0-9]*, "packets_written": [1-9][0-9]*)re")))
        << answer;
    EXPECT_NE(answer.find("\"nodes\": [\"rx\", \"parse\", \"tcp-only\", \"tx#1\"]"), std::string::npos) << answer;
    EXPECT_NE(answer.find("\"drop_reasons\": [\"filtered\"]"), std::string::npos) << answer;
}

TEST_F(Telemetry, SlGraphGivesTheEdges) {
    std::string answer = ask("/sl/graph");
    EXPECT_NE(answer.find("\"edges\": [\"rx -> parse\", \"parse -> tcp-only\", \"tcp-only -> tx#1\"]"),
              std::string::npos)
        << answer;
}

TEST_F(Forward, StatsIntervalPrintsPortAndNodeRates) {
    // The interval is what is under test here, so this one runs for a time.
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
    // The first report starts with where dpdk-telemetry.py finds the process.
    EXPECT_TRUE(std::regex_search(r.out, std::regex(R"(^telemetry: /\S+/(sl-[0-9]+-[0-9]+)/dpdk_telemetry\.v2 )"
                                                    R"(\(dpdk-telemetry\.py -f \1\)\n\[ +[0-9.]+ s\]\n)")))
        << r.out;
}

TEST_F(Forward, UnderLoadAWalkGathersReceiveCallsUpToGather) {
    // net_null fills every burst it is asked for: a queue that always has
    // more. Each walk then reads --gather packets in --burst calls, and tx
    // sends them in one call.
    for (auto [gather, burst, expected] : {std::tuple{"", "32", 64}, {"128", "32", 128}, {"32", "32", 32}, {"", "128", 128}}) {
        std::vector<std::string> args{"-l", "0", "--vdev=net_null0", "--vdev=net_null1,no-rx=1", "--", "-q", "-e",
                                      "rx 0 | tx 1", "--duration", "0.3", "--burst", burst, "--stats-json", path("g.json")};
        if (*gather) args.insert(args.end(), {"--gather", gather});
        Result r = forward(args);
        ASSERT_EQ(r.status, 0) << r.err;
        Stats s = stats_of(path("g.json"));
        ASSERT_GT(s.of("tx#1", "calls"), 0u);
        EXPECT_EQ(s.of("tx#1", "packets_in"), s.of("tx#1", "calls") * expected) << "--gather '" << gather << "' --burst " << burst;
        EXPECT_EQ(s.port_figure(1, "tx_packets"), s.of("tx#1", "packets_in"));
    }
    Result r = forward({"--vdev=net_null0", "--", "-e", "rx | tx 0", "--burst", "64", "--gather", "32"});
    EXPECT_EQ(r.status, 2);
    EXPECT_NE(r.err.find("--gather 32 is less than one burst (--burst 64)"), std::string::npos) << r.err;
}

class FullRing : public Forward {
protected:
    // net_ring0 loops what it is sent back to its receive side, and its ring
    // holds what the forwarder has not read back yet. Each packet of port 0
    // is offered to it twice per walk, the ring frees about one burst a
    // walk: the first copies get in, the second find it full.
    void SetUp() override {
        Forward::SetUp();
        std::string p = prefix("ring");
        auto fwd = start_forward(p, {"-l", "0", pcap_port(0, sample("mixed.pcap"), {path("u.pcap")}) + ",infinite_rx=1",
                                     "--vdev=net_ring0", "--", "-q", "-e",
                                     "rx 0 | tx 1\nrx 0 | count | tx 1\nrx 1 | count name=back", "--stats-json",
                                     path("s.json")});
        EXPECT_TRUE(live_stats_reach(p, [](const LiveStats& s) { return s.node_dropped("tx#1") > 1000; }))
            << fwd->err();
        Result r = fwd->stop();
        ASSERT_EQ(r.status, 0) << r.err;
    }
};

TEST_F(FullRing, WhatARingRefusesIsDroppedAsTxFull) {
    Stats s = stats_of(path("s.json"));
    uint64_t tx_full = s.of("tx#1", "tx_full");
    EXPECT_GT(tx_full, 1000u);
    EXPECT_EQ(s.port_figure(1, "tx_dropped"), tx_full);
    expect_conservation(s);
}

TEST_F(FullRing, APacketOneOfWhoseCopiesWentOutIsWritten) {
    Stats s = stats_of(path("s.json"));
    EXPECT_EQ(s.total("packets_written"), s.port_figure(0, "rx_packets"));
}

TEST_F(FullRing, WhatComesBackThroughTheRingIsThePortsOwn) {
    // net_ring does not set the port of what it hands back.
    Stats s = stats_of(path("s.json"));
    EXPECT_EQ(s.of("back", "packets"), s.port_figure(1, "rx_packets"));
}

TEST_F(Forward, MetricsServesOpenMetricsThatAPlainHttpClientScrapes) {
    std::string p = prefix("metrics");
    auto fwd = start_forward(p, {"-l", "0", "--vdev=net_null0", "--vdev=net_null1,no-rx=1", "--", "-e",
                                 "rx 0 | bpf \"udp\" name=udp-only | tx 1", "--metrics", "127.0.0.1:0"});
    std::smatch m;
    std::regex url_line(R"(metrics: (http://127\.0\.0\.1:[0-9]+/metrics)\n)");
    std::string err;
    ASSERT_TRUE(eventually([&] {
        err = fwd->err();
        return std::regex_search(err, m, url_line) && live_stats_reach(p, [](const LiveStats& s) {
                   return s.total("packets_read") > 10000;
               });
    })) << err;
    std::string url = m[1];
    auto scrape = [&](const std::string& where) {
        return run("/usr/bin/python3 -c 'import sys, urllib.request, urllib.error\n"
                   "try:\n r = urllib.request.urlopen(sys.argv[1]); print(r.headers[\"Content-Type\"]); "
                   "sys.stdout.write(r.read().decode())\n"
                   "except urllib.error.HTTPError as e: print(e.code)' " +
                   quote(where));
    };
    Result r = scrape(url);
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(r.out.rfind("application/openmetrics-text; version=1.0.0; charset=utf-8\n", 0), 0u) << r.out;
    // Every line a comment of a family or a counter's sample, and the end.
    std::istringstream lines(r.out.substr(r.out.find('\n') + 1));
    std::string line, last;
    std::regex sample(R"(^sl_[a-z_]+_total(\{[a-z]+="[^"]*"(,[a-z]+="[^"]*")*\})? [0-9]+$)");
    std::regex meta(R"(^# (TYPE sl_[a-z_]+ counter|HELP sl_[a-z_]+ .+)$)");
    while (std::getline(lines, line)) {
        if (line != "# EOF") {
            EXPECT_TRUE(std::regex_match(line, sample) || std::regex_match(line, meta)) << line;
        }
        last = line;
    }
    EXPECT_EQ(last, "# EOF");
    auto figure = [&](const std::string& series) {
        std::smatch f;
        std::string text = r.out;
        std::regex re(std::regex_replace(series, std::regex(R"([{}"])"), R"(\$&)") + " ([0-9]+)\n");
        return std::regex_search(text, f, re) ? std::stoull(f[1]) : 0;
    };
    EXPECT_GT(figure("sl_port_rx_packets_total{port=\"0\",name=\"net_null0\"}"), 10000u) << r.out;
    EXPECT_GT(figure("sl_node_packets_in_total{node=\"udp-only\",filter=\"bpf\"}"), 10000u) << r.out;
    EXPECT_GT(figure("sl_node_dropped_total{node=\"udp-only\",reason=\"filtered\"}"), 0u) << r.out;
    EXPECT_GT(figure("sl_packets_read_total"), 10000u) << r.out;
    EXPECT_NE(r.out.find("sl_shadow_bytes_total{node=\"udp-only\",how=\"zero_copy\"}"), std::string::npos);
    // Only /metrics is served.
    r = scrape(url.substr(0, url.rfind('/')) + "/other");
    EXPECT_EQ(r.out, "404\n");
    // A client that connects and says nothing holds up neither the scrapes
    // after it nor the end of the run.
    int silent = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in server{};
    server.sin_family = AF_INET;
    server.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    server.sin_port = htons(static_cast<uint16_t>(std::stoi(url.substr(url.rfind(':') + 1))));
    ASSERT_EQ(::connect(silent, reinterpret_cast<sockaddr*>(&server), sizeof(server)), 0);
    r = scrape(url);
    EXPECT_NE(r.out.find("# EOF"), std::string::npos) << r.out;
    auto before = std::chrono::steady_clock::now();
    EXPECT_EQ(fwd->stop().status, 0);
    EXPECT_LT(std::chrono::steady_clock::now() - before, std::chrono::seconds(10));
    ::close(silent);

    // An address that does not parse is a usage error; one in use, a run
    // that cannot start.
    Result bad = forward({"--vdev=net_null0", "--", "-q", "-e", "rx | tx 0", "--metrics", "9100", "--duration", "0.2"});
    EXPECT_EQ(bad.status, 2);
    EXPECT_NE(bad.err.find("--metrics takes ADDR:PORT (e.g. 127.0.0.1:9100), not '9100'"), std::string::npos)
        << bad.err;
    int taken = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::bind(taken, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
    ASSERT_EQ(::listen(taken, 1), 0);
    socklen_t length = sizeof(a);
    getsockname(taken, reinterpret_cast<sockaddr*>(&a), &length);
    std::string busy = "127.0.0.1:" + std::to_string(ntohs(a.sin_port));
    bad = forward({"--vdev=net_null0", "--", "-q", "-e", "rx | tx 0", "--metrics", busy, "--duration", "0.2"});
    ::close(taken);
    EXPECT_EQ(bad.status, 1);
    EXPECT_NE(bad.err.find("--metrics " + busy + ": Address already in use"), std::string::npos) << bad.err;
}

TEST_F(Forward, APcapngSinkFedByOnePortNamesItsInterface) {
    Result r = forward({"-l", "0", pcap_port(0, sample("mixed.pcap"), {path("u.pcap")}), "--vdev=net_null1", "--",
                        "-q", "-e", "rx 0 | pcap \"" + path("a.pcapng") + "\"\nrx | pcap \"" + path("b.pcapng") + "\"",
                        "--duration", "0.5"});
    ASSERT_EQ(r.status, 0) << r.err;
    r = run("tshark -r " + quote(path("a.pcapng")) + " -T fields -e frame.interface_name");
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(r.out.substr(0, r.out.find('\n')), "net_pcap0");
    EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), read_capture(sample("mixed.pcap")).size());
    // Fed by both ports: no single interface to name.
    r = run("capinfos " + quote(path("b.pcapng")));
    EXPECT_EQ(r.out.find("Name ="), std::string::npos) << r.out;
}

TEST_F(Forward, VerboseSaysWhereTelemetryListens) {
    std::string p = prefix("verbose");
    Result r = forward({"--file-prefix=" + p, "--vdev=net_null0", "--", "-v", "-e", "rx | tx 0", "--duration", "0.2"});
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_NE(r.err.find("telemetry: " + dpdk_runtime_dir(p) + "/dpdk_telemetry.v2 (dpdk-telemetry.py -f " + p + ")"),
              std::string::npos)
        << r.err;
}

TEST_F(Forward, NoRunLeavesDpdksRuntimeFolderBehind) {
    // Ended by its duration, by a configuration error found after DPDK
    // started, by a device that cannot start (after the EAL made the
    // folder); and sl-replay's run.
    std::string in = sample("mixed.pcap");
    std::vector<std::pair<int, std::vector<std::string>>> runs = {
        {0, {"--vdev=net_null0", "--", "-q", "-e", "rx | tx 0", "--duration", "0.2"}},
        {2, {"--vdev=net_null0", "--", "-q", "-e", "rx | tx 4", "--duration", "0.2"}},
        {1, {pcap_port(0, path("missing.pcap"), {path("u.pcap")}), "--", "-q", "-e", "rx | tx 0", "--duration", "0.2"}},
    };
    for (size_t i = 0; i < runs.size(); i++) {
        std::string p = prefix("runtime" + std::to_string(i));
        std::vector<std::string> args = {"--file-prefix=" + p};
        args.insert(args.end(), runs[i].second.begin(), runs[i].second.end());
        Result r = forward(args);
        EXPECT_EQ(r.status, runs[i].first) << r.err;
        EXPECT_FALSE(fs::exists(dpdk_runtime_dir(p))) << command_line("sl-forward", args);
    }
    // A folder that was there before belongs to whoever made it.
    std::string shared = prefix("runtime-shared");
    fs::create_directories(dpdk_runtime_dir(shared));
    Result kept = forward({"--file-prefix=" + shared, "--vdev=net_null0", "--", "-q", "-e", "rx | tx 0", "--duration",
                           "0.2"});
    EXPECT_EQ(kept.status, 0) << kept.err;
    EXPECT_TRUE(fs::exists(dpdk_runtime_dir(shared)));
    fs::remove_all(dpdk_runtime_dir(shared));
    std::string p = prefix("runtime-replay");
    Result r = replay({"--file-prefix=" + p, "--", "-q", "-e", "rx | count", in});
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_FALSE(fs::exists(dpdk_runtime_dir(p)));
}

TEST_F(Forward, BadSetupsExitWithAClearMessage) {
    // --duration only bounds a run that should not have started.
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

class ReplayWithAPort : public Forward {
protected:
    // sl-replay with a port: `tx 0` goes out of it, `tx 1` (no such port)
    // still becomes OUTDIR/tx-1.pcap.
    void SetUp() override {
        Forward::SetUp();
        Result r = replay({pcap_port(0, "", {path("port0.pcap")}), "--", "-q", "-o", path("out"), "-e",
                           "rx | bpf \"tcp port 80\" | tx 0\nrx | bpf \"udp port 53\" | tx 1", "--stats-json",
                           path("s.json"), sample("mixed.pcap")});
        ASSERT_EQ(r.status, 0) << r.err;
        expect_conservation(stats_of(path("s.json")));
    }
};

TEST_F(ReplayWithAPort, TxSendsOnTheEalsPort) {
    auto web = frames(tcpdump_filter(sample("mixed.pcap"), "tcp port 80", path("web.pcap")));
    EXPECT_TRUE(frames(path("port0.pcap")) == web);
    EXPECT_EQ(stats_of(path("s.json")).port_figure(0, "tx_packets"), web.size());
}

TEST_F(ReplayWithAPort, TxToAPortTheEalLacksWritesAFile) {
    auto dns = read_capture(tcpdump_filter(sample("mixed.pcap"), "udp port 53", path("dns.pcap")));
    EXPECT_TRUE(read_capture(path("out/tx-1.pcap")) == dns);
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
            ASSERT_EQ(r.status, 0) << "cannot create network namespaces here: " << r.err;
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

    // tcpdump on d, on CPU 1, once it listens; sl-forward in the middle with
    // `eal` and `pipeline`, once its graph runs; tcpreplay sends `capture` on
    // a; then, once sl-forward wrote `expected` packets and tcpdump holds
    // them, both are stopped.
    void forward_through(const std::vector<std::string>& eal, const std::vector<std::string>& options,
                         const std::string& capture, size_t expected) {
        Background sink("exec " + in("sink", "taskset -c 1 " + quote(env("TCPDUMP")) + " -i " + dev("d") + " -U -n -w " +
                                       quote(path("got.pcap"))),
                        dir_ / "tcpdump.out", dir_ / "tcpdump.err");
        ASSERT_TRUE(eventually([&] { return slurp(dir_ / "tcpdump.err").find("listening on") != std::string::npos; }))
            << slurp(dir_ / "tcpdump.err");
        std::string p = prefix("veth");
        std::vector<std::string> args = eal;
        args.insert(args.end(), {"--", "-q", "--stats-json", path("s.json")});
        args.insert(args.end(), options.begin(), options.end());
        auto fwd = start_forward(p, args, "ip netns exec " + ns_name("dut") + " ");
        ASSERT_TRUE(live_stats_reach(p, [](const LiveStats&) { return true; })) << fwd->err();
        Result sent = run(in("gen", "taskset -c 1 tcpreplay -q -i " + dev("a") + " --pps=2000 " + quote(capture)));
        ASSERT_EQ(sent.status, 0) << sent.err;
        EXPECT_TRUE(live_stats_reach(p, [&](const LiveStats& s) { return s.total("packets_written") >= expected; }))
            << fwd->err();
        Result r = fwd->stop(SIGINT);
        ASSERT_EQ(r.status, 0) << r.err;
        EXPECT_TRUE(eventually([&] { return records_in(path("got.pcap")) >= expected; }, 10));
        Result captured = sink.stop(SIGINT);
        ASSERT_EQ(captured.status, 0) << captured.err;
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
    forward_through({"-l", "0", "--vdev=net_af_packet0,iface=" + dev("b") + ",framecnt=16384",
                     "--vdev=net_af_packet1,iface=" + dev("c") + ",framecnt=16384"},
                    {"-e", "rx 0 | bpf \"tcp port 80 or udp port 53\" | tx 1"}, in_file, expected.size());
    EXPECT_TRUE(frames(path("got.pcap")) == expected)
        << frames(path("got.pcap")).size() << " packets arrived, " << expected.size() << " expected";
    Stats s = stats_of(path("s.json"));
    EXPECT_EQ(s.total("packets_written"), expected.size());
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

TEST_F(Namespaces, TwoWorkersOnTwoQueuesDeliverEveryFlowInItsOrder) {
    // af_packet spreads a port's queues by the kernel's flow hash (fanout),
    // the RSS of this setup. Its fanout defragments, so no fragments here.
    // (`vlan` shifts the offsets of what follows it in libpcap, so it comes last.)
    std::string in_file = tcpdump_filter(sample("mixed.pcap"),
                                         "not (ip and ip[6:2] & 0x3fff != 0) and not (ip6 and ip6[6] == 44) and not vlan",
                                         path("in.pcap"));
    auto expected = frames(tcpdump_filter(in_file, "tcp or udp", path("expected.pcap")));
    ASSERT_GT(expected.size(), 500u);
    forward_through({"--lcores=0@0,1@0,2@1", "--vdev=net_af_packet0,iface=" + dev("b") + ",qpairs=2,framecnt=16384",
                     "--vdev=net_af_packet1,iface=" + dev("c") + ",qpairs=2,framecnt=16384"},
                    {"--rxq", "2", "-e", "rx 0 | bpf \"tcp or udp\" | tx 1"}, in_file, expected.size());
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
    EXPECT_GT(s.worker_packets(1), 100u);
    EXPECT_GT(s.worker_packets(2), 100u);
    EXPECT_EQ(s.total("packets_written"), expected.size());
    expect_conservation(s);
}

}  // namespace
