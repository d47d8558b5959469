// sl-replay --follow: a capture still being written is replayed as its
// writer appends to it, like tail -f, until SIGINT. The writer here is the
// test, which appends a capture in pieces of random sizes (records and
// pcapng blocks cut anywhere); tcpdump, run on the whole capture, is the
// oracle for what comes out.
#include <random>

#include "harness.hpp"

namespace sl_test {
namespace {

class Follow : public Harness {
protected:
    // `copies` of a sample one after another, each later in time than the
    // last: large enough to cross the reader's 512 KiB chunks.
    std::string repeated(const std::string& sample_name, int copies) {
        std::vector<Record> records = read_capture(sample(sample_name));
        std::string out = path("whole.pcap");
        pcap_t* dead = pcap_open_dead_with_tstamp_precision(DLT_EN10MB, 65535, PCAP_TSTAMP_PRECISION_NANO);
        pcap_dumper_t* d = pcap_dump_open(dead, out.c_str());
        EXPECT_NE(d, nullptr);
        uint64_t span = records.back().ts_ns - records.front().ts_ns + 1000;
        for (int c = 0; c < copies; c++)
            for (const auto& r : records) {
                pcap_pkthdr h{};
                uint64_t ts = r.ts_ns + uint64_t(c) * span;
                h.ts.tv_sec = static_cast<time_t>(ts / 1000000000u);
                h.ts.tv_usec = static_cast<suseconds_t>(ts % 1000000000u);
                h.caplen = static_cast<bpf_u_int32>(r.data.size());
                h.len = r.wire_len;
                pcap_dump(reinterpret_cast<u_char*>(d), &h, reinterpret_cast<const u_char*>(r.data.data()));
            }
        pcap_dump_close(d);
        pcap_close(dead);
        return out;
    }

    // Appends `bytes` to `file` in pieces of 1 to `largest` bytes, a few
    // milliseconds apart, as a capture program writes its buffers.
    static void append_in_pieces(const std::string& file, const std::string& bytes, size_t largest, unsigned seed) {
        std::mt19937 random(seed);
        std::uniform_int_distribution<size_t> size(1, largest);
        int fd = ::open(file.c_str(), O_WRONLY | O_APPEND);
        ASSERT_GE(fd, 0);
        for (size_t at = 0; at < bytes.size();) {
            size_t n = std::min(size(random), bytes.size() - at);
            ASSERT_EQ(::write(fd, bytes.data() + at, n), ssize_t(n));
            at += n;
            std::this_thread::sleep_for(std::chrono::milliseconds(3));
        }
        ::close(fd);
    }

    std::unique_ptr<Background> start_replay(const std::vector<std::string>& args) {
        return std::make_unique<Background>("exec " + command_line(env("SL_REPLAY"), args), dir_ / "replay.out",
                                            dir_ / "replay.err");
    }
};

// From an empty file (the writer has not put out its header yet) to 1.3 MB
// in pieces, with two workers writing one file in order: each record is
// replayed as it arrives, and the output holds them before the run ends.
TEST_F(Follow, ReplaysRecordsAsTheyArriveUntilInterrupted) {
    std::string whole = repeated("mixed.pcap", 4);
    std::string live = path("live.pcap");
    { std::ofstream create(live); }
    auto replay = start_replay({"--workers", "2", "--follow", "-e", "rx | bpf \"tcp\" | pcap \"out.pcap\"", "-o",
                                dir_.string(), "--stats-json", path("stats.json"), live});
    append_in_pieces(live, slurp(whole), 40000, 1);
    std::vector<Record> expected = read_capture(tcpdump_filter(whole, "tcp", path("expected.pcap")));
    ASSERT_GT(expected.size(), 2000u);
    // Written while it still runs: nothing waits for an end of the file.
    EXPECT_TRUE(eventually([&] { return records_in(path("out.pcap")) == expected.size(); }, 30))
        << records_in(path("out.pcap")) << " of " << expected.size() << "\n" << replay->err();
    EXPECT_TRUE(replay->running());
    Result r = replay->stop(SIGINT, 30);
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(read_capture(path("out.pcap")), expected);
    Stats s = stats_of(path("stats.json"));
    EXPECT_EQ(s.total("packets_read"), read_capture(whole).size());
    expect_conservation(s);
}

// pcapng, one worker: blocks cut anywhere, and the writer pausing in the
// middle of one. One writer's file (pcap) is written behind the packets
// too, within its write-behind time.
TEST_F(Follow, PcapngBlocksCutAnywhere) {
    std::string whole = slurp(sample("mixed.pcapng"));
    std::string live = path("live.pcapng");
    size_t half = whole.size() / 2 + 7;  // most likely inside a block; the pieces cut many
    {
        std::ofstream start(live, std::ios::binary);
        start << whole.substr(0, half);
    }
    auto replay = start_replay({"--workers", "1", "--follow", "-e", "rx | count | pcap \"out.pcap\"", "-o",
                                dir_.string(), "--stats-json", path("stats.json"), live});
    std::vector<Record> expected = read_capture(sample("mixed.pcapng"));
    // The first half's whole records come out while it waits for the rest.
    EXPECT_TRUE(eventually([&] { return records_in(path("out.pcap")) > expected.size() / 3; }, 30))
        << replay->err();
    append_in_pieces(live, whole.substr(half), 3000, 2);
    EXPECT_TRUE(eventually([&] { return records_in(path("out.pcap")) == expected.size(); }, 30)) << replay->err();
    Result r = replay->stop(SIGINT, 30);
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(read_capture(path("out.pcap")), expected);
    Stats s = stats_of(path("stats.json"));
    EXPECT_EQ(s.of("count#1", "packets_in"), expected.size());
    expect_conservation(s);
}

// A file that shrinks under the reader (rewritten from the start by a new
// writer) ends the run with a message, not with records read from the
// wrong place; a record that cannot be one ends it like a corrupt file.
TEST_F(Follow, ShrinkingOrCorruptFileEndsTheRun) {
    std::string whole = slurp(sample("mixed.pcap"));
    std::string live = path("live.pcap");
    {
        std::ofstream start(live, std::ios::binary);
        start << whole;
    }
    size_t records = read_capture(sample("mixed.pcap")).size();
    // Once every record is through (the output is at most 100 ms behind),
    // the reader waits at the end of the file.
    auto replay = start_replay({"--workers", "1", "--follow", "-o", path("first"), "-e",
                                "rx | count | pcap \"out.pcap\"", live});
    ASSERT_TRUE(eventually([&] { return records_in(path("first/out.pcap")) == records; }, 60)) << replay->err();
    ASSERT_EQ(::truncate(live.c_str(), 1000), 0);
    Result r = replay->wait(30);
    EXPECT_EQ(r.status, 1) << r.err;
    EXPECT_NE(r.err.find("live.pcap, offset " + std::to_string(whole.size()) +
                         ": the file shrank from " + std::to_string(whole.size()) + " to 1000 bytes"),
              std::string::npos)
        << r.err;

    // A record header that claims more than any snap length.
    {
        std::ofstream start(live, std::ios::binary | std::ios::trunc);
        start << whole;
    }
    replay = start_replay({"--workers", "1", "--follow", "-e", "rx | count | pcap \"out.pcap\"", "-o",
                           dir_.string(), "--stats-json", path("stats.json"), live});
    ASSERT_TRUE(eventually([&] { return records_in(path("out.pcap")) == records; }, 60)) << replay->err();
    std::string bad(16, '\0');
    bad[8] = '\xff', bad[9] = '\xff', bad[10] = '\xff', bad[11] = '\x7f';  // captured length, little-endian
    append_in_pieces(live, bad, 5, 3);
    r = replay->wait(30);
    EXPECT_EQ(r.status, 1) << r.err;
    EXPECT_NE(r.err.find("offset " + std::to_string(whole.size()) + ": invalid packet capture length"),
              std::string::npos)
        << r.err;
    EXPECT_EQ(read_capture(path("out.pcap")), read_capture(sample("mixed.pcap")));
    expect_conservation(stats_of(path("stats.json")));
}

TEST_F(Follow, RefusesToLoop) {
    Result r = replay({"--follow", "--loop", "2", "-e", "rx | drop", sample("mixed.pcap")});
    EXPECT_EQ(r.status, 2);
    EXPECT_NE(r.err.find("--follow and --loop cannot go together"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace sl_test
