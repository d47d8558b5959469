// What the integration tests share: running a program, reading captures and
// the JSON statistics, and the conservation checks every run must pass.
#pragma once

#include <gtest/gtest.h>

#include <pcap/pcap.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace sl_test {


inline std::string env(const char* name) {
    const char* v = std::getenv(name);
    if (!v) throw std::runtime_error(std::string(name) + " is not set; run the tests with meson test");
    return v;
}

inline std::string quote(const std::string& s) {
    std::string out = "'";
    for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return out + "'";
}

inline std::string slurp(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

struct Result {
    int status;
    std::string out;
    std::string err;
};

class Harness : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = fs::temp_directory_path() /
               ("sl-test-" + std::to_string(getpid()) + "-" +
                ::testing::UnitTest::GetInstance()->current_test_info()->name());
        fs::remove_all(dir_);
        fs::create_directories(dir_);
    }
    void TearDown() override {
        if (!HasFailure()) fs::remove_all(dir_);
    }

    Result run(const std::string& command) {
        std::string full = command + " >" + quote((dir_ / "stdout").string()) + " 2>" +
                           quote((dir_ / "stderr").string()) + " </dev/null";
        int rc = std::system(full.c_str());
        Result r{WIFEXITED(rc) ? WEXITSTATUS(rc) : 128 + WTERMSIG(rc), slurp(dir_ / "stdout"), slurp(dir_ / "stderr")};
        return r;
    }

    Result command(const std::string& program, const std::vector<std::string>& args) {
        std::string cmd = quote(program);
        for (const auto& a : args) cmd += " " + quote(a);
        return run(cmd);
    }
    Result replay(const std::vector<std::string>& args) { return command(env("SL_REPLAY"), args); }
    Result forward(const std::vector<std::string>& args) { return command(env("SL_FORWARD"), args); }

    std::string sample(const std::string& name) { return env("SL_SOURCE") + "/pcap-samples/" + name; }
    std::string path(const std::string& name) { return (dir_ / name).string(); }

    // tcpdump -r IN -w OUT EXPR
    std::string tcpdump_filter(const std::string& in, const std::string& expr, const std::string& out) {
        Result r = run(quote(env("TCPDUMP")) + " -r " + quote(in) + " -w " + quote(out) + " " + quote(expr));
        EXPECT_EQ(r.status, 0) << r.err;
        return out;
    }

    fs::path dir_;
};

struct Record {
    uint64_t ts_ns;
    uint32_t wire_len;
    std::string data;
    bool operator==(const Record& o) const { return ts_ns == o.ts_ns && wire_len == o.wire_len && data == o.data; }
};

inline std::vector<Record> read_capture(const std::string& file) {
    char err[PCAP_ERRBUF_SIZE];
    pcap_t* p = pcap_open_offline_with_tstamp_precision(file.c_str(), PCAP_TSTAMP_PRECISION_NANO, err);
    if (!p) throw std::runtime_error(err);
    std::vector<Record> out;
    pcap_pkthdr* h;
    const u_char* data;
    while (pcap_next_ex(p, &h, &data) == 1)
        out.push_back({uint64_t(h->ts.tv_sec) * 1000000000u + uint64_t(h->ts.tv_usec), h->len,
                       std::string(reinterpret_cast<const char*>(data), h->caplen)});
    pcap_close(p);
    return out;
}

// A minimal reader for the JSON that sl-replay writes: enough to pull numbers.
struct Stats {
    std::string text;
    uint64_t number(const std::string& pattern) const {
        std::smatch m;
        if (!std::regex_search(text, m, std::regex(pattern + R"re(\s*:\s*(\d+))re")))
            throw std::runtime_error("no " + pattern + " in stats");
        return std::stoull(m[1]);
    }
    std::string node(const std::string& name) const {
        auto at = text.find("{\"name\":\"" + name + "\"");
        if (at == std::string::npos) throw std::runtime_error("no node " + name);
        return text.substr(at, text.find("}}", at) - at + 2);
    }
};

inline uint64_t sum_object(const std::string& object) {
    uint64_t total = 0;
    std::regex number(R"re(:(\d+))re");
    for (auto it = std::sregex_iterator(object.begin(), object.end(), number); it != std::sregex_iterator(); ++it)
        total += std::stoull((*it)[1]);
    return total;
}

inline std::string object_after(const std::string& text, const std::string& key) {
    auto at = text.find("\"" + key + "\":{");
    if (at == std::string::npos) return "{}";
    at = text.find('{', at);
    return text.substr(at, text.find('}', at) - at + 1);
}

// Every node: in = out + dropped. Totals: read = written + dropped. Pool full.
inline void expect_conservation(const Stats& s) {
    std::regex node_re(R"re(\{"name":"([^"]+)","filter":"[^"]+","packets_in":(\d+),"packets_out":(\d+),"drops":(\{[^}]*\}))re");
    int nodes = 0;
    for (auto it = std::sregex_iterator(s.text.begin(), s.text.end(), node_re); it != std::sregex_iterator(); ++it) {
        uint64_t in = std::stoull((*it)[2]), out = std::stoull((*it)[3]);
        EXPECT_EQ(in, out + sum_object((*it)[4])) << "node " << (*it)[1];
        nodes++;
    }
    EXPECT_GT(nodes, 2);
    std::string totals = s.text.substr(s.text.find("\"totals\""));
    uint64_t read = s.number("\"packets_read\""), written = s.number("\"packets_written\"");
    EXPECT_EQ(read, written + sum_object(object_after(totals, "drops")));
    EXPECT_EQ(s.number("\"in_use\""), 0u) << "mbufs leaked";
}

inline Stats stats_of(const std::string& file) { return Stats{slurp(file)}; }
}  // namespace sl_test
