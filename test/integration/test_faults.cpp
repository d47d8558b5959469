// Faults in the middle of a run: a mempool smaller than what the filters may
// keep, and output folders that vanish or turn read-only while packets are
// being written. Each ends in counted outcomes, every mbuf back home, and a
// clear word at the end; none stops the packets that can still go.
#include <arpa/inet.h>

#include "harness.hpp"

namespace sl_test {
namespace {

class Faults : public Harness {
protected:
    std::unique_ptr<Background> start_replay(const std::vector<std::string>& args) {
        return std::make_unique<Background>("exec " + command_line(env("SL_REPLAY"), args), dir_ / "replay.out",
                                            dir_ / "replay.err");
    }
};

// An Ethernet frame with an IPv4 header (checksummed) around `payload`.
std::string ipv4_frame(uint32_t source, uint16_t id, uint16_t fragment, const std::string& payload) {
    std::string f(14, '\0');
    f[12] = '\x08';
    std::string ip(20, '\0');
    ip[0] = '\x45';
    uint16_t total = htons(static_cast<uint16_t>(20 + payload.size()));
    std::memcpy(&ip[2], &total, 2);
    uint16_t id_be = htons(id), frag_be = htons(fragment);
    std::memcpy(&ip[4], &id_be, 2);
    std::memcpy(&ip[6], &frag_be, 2);
    ip[8] = 64;
    ip[9] = 17;
    uint32_t src = htonl(source), dst = htonl(0x0a010001);
    std::memcpy(&ip[12], &src, 4);
    std::memcpy(&ip[16], &dst, 4);
    uint32_t sum = 0;
    for (size_t i = 0; i < 20; i += 2) sum += uint32_t(uint8_t(ip[i])) << 8 | uint8_t(ip[i + 1]);
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    uint16_t check = htons(static_cast<uint16_t>(~sum));
    std::memcpy(&ip[10], &check, 2);
    return f + ip + payload;
}

// A UDP header and `bytes` of payload.
std::string udp(size_t bytes) {
    std::string u(8, '\0');
    u[0] = '\x03', u[1] = '\xe8', u[2] = '\x07', u[3] = '\xd0';  // 1000 -> 2000
    uint16_t length = htons(static_cast<uint16_t>(8 + bytes));
    std::memcpy(&u[4], &length, 2);
    return u + std::string(bytes, 'x');
}

// 12,000 first fragments whose datagrams never complete, then 2,000 whole
// datagrams, read by a port whose pool holds 8,191 mbufs while defrag may
// hold 10,000. Were defrag to hold the pool's last mbufs, the port would
// have none to receive into, and with nothing received nothing would ever
// let them go: the port would be dead. Instead, while the pool runs low
// the oldest datagrams give up (frag_pool_low), as Linux's
// ipfrag_high_thresh makes room, and the port keeps receiving.
TEST_F(Faults, APoolSmallerThanWhatDefragMayHoldKeepsThePortReceiving) {
    std::vector<Frame> frames;
    const unsigned incomplete = 12000, whole = 2000;
    for (unsigned i = 0; i < incomplete; i++)
        frames.push_back({ipv4_frame(0x0a000000 + i, static_cast<uint16_t>(i), 0x2000, udp(992))});  // more fragments
    for (unsigned i = 0; i < whole; i++) frames.push_back({ipv4_frame(0x0a020001, static_cast<uint16_t>(i), 0, udp(100))});
    std::string in = path("fragments.pcap");
    write_frames(in, frames);
    for (bool small_pool : {true, false}) {
        std::string p = prefix(small_pool ? "small-pool" : "pool");
        std::string json = path(p + ".json");
        std::vector<std::string> args = {"--vdev=net_pcap0,rx_pcap=" + in, "--vdev=net_null0,no-rx=1", "--",
                                         "-q", "-e", "rx 0 | defrag held=10000 datagrams=16384 | tx 1",
                                         "--stats-json", json};
        if (small_pool) args.insert(args.end(), {"--mbufs", "8191"});
        auto fwd = start_forward(p, args);
        EXPECT_TRUE(live_stats_reach(p, [&](const LiveStats& s) {
            return s.total("packets_read") + s.json.at("port_rx_no_mbuf").at(0).get<uint64_t>() ==
                   incomplete + whole;
        })) << fwd->err();
        Result r = fwd->stop();
        ASSERT_EQ(r.status, 0) << r.err;
        Stats s = stats_of(json);
        expect_conservation(s);
        EXPECT_EQ(s.port_figure(0, "rx_no_mbuf"), 0u) << (small_pool ? "small pool" : "default pool");
        EXPECT_EQ(s.port_figure(0, "rx_packets"), incomplete + whole);
        EXPECT_EQ(s.port_figure(1, "tx_packets"), whole);
        uint64_t pool_low = s.of("defrag#1", "frag_pool_low");
        // Given up to the pool, past held=, or left at the end.
        EXPECT_EQ(pool_low + s.of("defrag#1", "frag_evicted") + s.of("defrag#1", "frag_incomplete"), incomplete);
        if (small_pool) {
            // It gives up no more than the pool needs: most stay held.
            EXPECT_GT(pool_low, 0u);
            EXPECT_LT(pool_low, incomplete - 6000);
        } else {
            // The default pool grows by what defrag may hold: nothing to
            // give up to it, only past its own bound.
            EXPECT_EQ(pool_low, 0u);
            EXPECT_EQ(s.of("defrag#1", "frag_evicted"), incomplete - 10000);
        }
    }
}

// A replay of a capture still being written (--follow), whose output folder
// is deleted mid-run: the pcap file, open, would take every write and keep
// none of it. The writer notices the file lost its name, the packets after
// that are dropped as write_error, and the run ends saying so (exit 1). The
// streams sink's folder goes with it: the flows that start after it are
// counted as write failures, and what the streams already wrote is gone
// with the folder, as it would be for tcpflow.
TEST_F(Faults, AnOutputFolderDeletedMidRunIsSaidAndCounted) {
    std::string whole = slurp(sample("mixed.pcap"));
    std::string live = path("live.pcap");
    size_t half = whole.size() / 2;
    {
        std::ofstream start(live, std::ios::binary);
        start << whole.substr(0, half);
    }
    fs::path out = dir_ / "out";
    // seen.pcap, outside the folder, says how far the replay got.
    auto replay = start_replay({"--workers", "1", "--follow", "-o", out.string(), "--stats-json", path("s.json"),
                                "-e",
                                "rx | pcap \"all.pcap\"\nrx | reassemble | streams \"flows\"\nrx | pcap \"" +
                                    path("seen.pcap") + "\"",
                                live});
    ASSERT_TRUE(eventually([&] { return records_in((out / "all.pcap").string()) > 100; }, 30)) << replay->err();
    fs::remove_all(out);
    // The rest comes slowly, past the writer's look after each block it
    // writes (at most 100 ms apart): the first piece, then, once it is
    // through and the writer has written it, the others.
    size_t records = read_capture(sample("mixed.pcap")).size();
    size_t piece = (whole.size() - half) / 8 + 1;
    for (size_t at = half; at < whole.size(); at += piece) {
        {
            std::ofstream rest(live, std::ios::binary | std::ios::app);
            rest << whole.substr(at, piece);
        }
        if (at == half) {
            size_t seen = records_in(path("seen.pcap"));
            ASSERT_TRUE(eventually([&] { return records_in(path("seen.pcap")) > seen; }, 60)) << replay->err();
            std::this_thread::sleep_for(std::chrono::milliseconds(300));
        }
    }
    ASSERT_TRUE(eventually([&] { return records_in(path("seen.pcap")) == records; }, 60)) << replay->err();
    Result r = replay->stop(SIGINT, 30);
    EXPECT_EQ(r.status, 1) << r.err;
    EXPECT_NE(r.err.find("all.pcap: removed while it was written; the packets after that were dropped (write_error)"),
              std::string::npos)
        << r.err;
    Stats s = stats_of(path("s.json"));
    EXPECT_EQ(s.total("packets_read"), records);
    EXPECT_GT(s.of("pcap#1", "write_error"), 0u);
    EXPECT_EQ(s.of("pcap#1", "write_error") + s.of("pcap#1", "written"), records);
    EXPECT_GT(s.of("streams#1", "write_failures"), 0u);
    expect_conservation(s);
}

// sl-forward's output folder turns read-only (immutable: even root may not
// create a file in it) while it runs. The files it has open go on being
// written; a reload that would open a new file there is refused with the
// reason, and the running graph keeps forwarding.
TEST_F(Faults, AReadOnlyOutputFolderRefusesTheReloadThatWouldWriteThere) {
    fs::path out = dir_ / "out";
    fs::create_directories(out);
    std::string config = path("graph.sl");
    {
        std::ofstream c(config);
        c << "rx 0 | count name=before | pcap \"first.pcap\"\n";
    }
    std::string p = prefix("readonly");
    auto fwd = start_forward(p, {"--vdev=net_pcap0,rx_pcap=" + sample("mixed.pcap") + ",infinite_rx=1", "--", "-q",
                                 "-o", out.string(), "-c", config, "--stats-json", path("s.json")});
    ASSERT_TRUE(live_stats_reach(p, [](const LiveStats& s) { return s.node_in("before") > 10000; })) << fwd->err();
    // chattr: the file system of the test's folder must take the flag.
    Result chattr = run("chattr +i " + quote(out.string()));
    ASSERT_EQ(chattr.status, 0) << "chattr +i on " << out << ": " << chattr.err;
    {
        std::ofstream c(config + ".new");
        c << "rx 0 | count name=after | pcap \"second.pcap\"\n";
    }
    fs::rename(config + ".new", config);
    fwd->signal(SIGHUP);
    bool refused = eventually([&] { return fwd->err().find("reload refused") != std::string::npos; }, 30);
    uint64_t before = 0;
    live_stats_reach(p, [&](const LiveStats& s) { return (before = s.node_in("before")) > 0; });
    // Still forwarding with the first graph.
    bool going = live_stats_reach(p, [&](const LiveStats& s) { return s.node_in("before") > before + 10000; });
    run("chattr -i " + quote(out.string()));  // before any assertion, so that the folder can be removed
    EXPECT_TRUE(refused) << fwd->err();
    EXPECT_TRUE(going) << fwd->err();
    Result r = fwd->stop();
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_NE(r.err.find("second.pcap: Operation not permitted"), std::string::npos) << r.err;
    EXPECT_FALSE(fs::exists(out / "second.pcap"));
    Stats s = stats_of(path("s.json"));
    EXPECT_EQ(s.of("pcap#1", "written"), s.of("before", "packets_in"));
    EXPECT_EQ(read_capture((out / "first.pcap").string()).size(), s.of("pcap#1", "written"));
    expect_conservation(s);
}

}  // namespace
}  // namespace sl_test
