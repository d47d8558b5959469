// What the integration tests share: running a program (in the foreground, or
// in the background while the test watches it), reading captures and the JSON
// statistics, asking sl-forward's telemetry socket, and the conservation
// checks every run must pass.
#pragma once

#include <gtest/gtest.h>

#include <fcntl.h>
#include <pcap/pcap.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

namespace fs = std::filesystem;

namespace sl_test {

using Json = nlohmann::json;

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

inline int exit_status(int wait_status) {
    return WIFEXITED(wait_status) ? WEXITSTATUS(wait_status) : 128 + WTERMSIG(wait_status);
}

// Polls `done` every 20 ms until it holds; false after `seconds`.
inline bool eventually(const std::function<bool()>& done, double seconds = 30) {
    auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    while (!done()) {
        if (std::chrono::steady_clock::now() > until) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return true;
}

// A shell command running in the background, its output in two files. The
// command should `exec` the program it watches, so that signals reach it.
class Background {
public:
    Background(const std::string& command, fs::path out, fs::path err) : out_(std::move(out)), err_(std::move(err)) {
        pid_ = fork();
        if (pid_ == 0) {
            int o = ::open(out_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
            int e = ::open(err_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
            int in = ::open("/dev/null", O_RDONLY);
            dup2(o, 1);
            dup2(e, 2);
            dup2(in, 0);
            execl("/bin/sh", "sh", "-c", command.c_str(), static_cast<char*>(nullptr));
            _exit(127);
        }
    }
    ~Background() {
        if (running()) {
            ::kill(pid_, SIGKILL);
            waitpid(pid_, nullptr, 0);
        }
    }
    Background(const Background&) = delete;
    Background& operator=(const Background&) = delete;

    bool running() {
        if (done_) return false;
        int status;
        if (waitpid(pid_, &status, WNOHANG) != pid_) return true;
        done_ = true;
        status_ = exit_status(status);
        return false;
    }
    void signal(int sig) { ::kill(pid_, sig); }
    std::string err() const { return slurp(err_); }
    // Waits for it to end (killing it past `seconds`), then its output.
    Result wait(double seconds = 60) {
        if (!eventually([&] { return !running(); }, seconds)) {
            ::kill(pid_, SIGKILL);
            int status;
            waitpid(pid_, &status, 0);
            done_ = true;
            status_ = 124;  // as timeout(1) says it
        }
        return {status_, slurp(out_), slurp(err_)};
    }
    Result stop(int sig = SIGTERM, double seconds = 60) {
        signal(sig);
        return wait(seconds);
    }

private:
    fs::path out_, err_;
    pid_t pid_ = -1;
    bool done_ = false;
    int status_ = -1;
};

// Where DPDK keeps the runtime files of the process whose file prefix is
// `prefix`, as the EAL chooses it.
inline std::string dpdk_runtime_dir(const std::string& prefix) {
    const char* runtime = std::getenv("XDG_RUNTIME_DIR");
    std::string dir = getuid() == 0 ? "/var/run/dpdk" : std::string(runtime ? runtime : "/tmp") + "/dpdk";
    return dir + "/" + prefix;
}

// Asks the telemetry socket of the DPDK process whose file prefix is
// `prefix` for `command`, as dpdk-telemetry.py does; nothing when it does not
// answer (not started yet, or gone).
inline std::optional<Json> telemetry(const std::string& prefix, const std::string& command) {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::string path = dpdk_runtime_dir(prefix) + "/dpdk_telemetry.v2";
    if (path.size() >= sizeof(addr.sun_path)) return std::nullopt;
    std::copy(path.begin(), path.end(), addr.sun_path);
    int fd = socket(AF_UNIX, SOCK_SEQPACKET, 0);
    if (fd < 0) return std::nullopt;
    std::optional<Json> answer;
    std::vector<char> buffer(1 << 16);
    if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
        read(fd, buffer.data(), buffer.size()) > 0 &&  // the greeting
        write(fd, command.data(), command.size()) == ssize_t(command.size())) {
        ssize_t n = read(fd, buffer.data(), buffer.size());
        if (n > 0) {
            Json j = Json::parse(std::string(buffer.data(), size_t(n)), nullptr, false);
            if (!j.is_discarded() && j.contains(command) && j[command].is_object()) answer = j[command];
        }
    }
    close(fd);
    return answer;
}

// sl-forward's /sl/stats, read by name.
struct LiveStats {
    Json json;
    uint64_t total(const std::string& key) const { return json.at(key).get<uint64_t>(); }
    uint64_t node_in(const std::string& name) const { return at("nodes", name, "node_packets_in"); }
    uint64_t node_dropped(const std::string& name) const { return at("nodes", name, "node_dropped"); }

private:
    // values[i] where names[i] == name; 0 when the name is not there yet.
    uint64_t at(const char* names, const std::string& name, const char* values) const {
        const Json& n = json.at(names);
        for (size_t i = 0; i < n.size(); i++)
            if (n[i] == name) return json.at(values).at(i).get<uint64_t>();
        return 0;
    }
};

// Polls the telemetry of `prefix` until `done` holds for its /sl/stats.
inline bool live_stats_reach(const std::string& prefix, const std::function<bool(const LiveStats&)>& done,
                             double seconds = 30) {
    return eventually(
        [&] {
            auto j = telemetry(prefix, "/sl/stats");
            return j && done(LiveStats{*j});
        },
        seconds);
}

// The JSON that --stats-json writes.
struct Stats {
    Json json;

    uint64_t total(const std::string& key) const { return json.at("totals").at(key).get<uint64_t>(); }
    // Packets whose final fate was a drop for `reason`.
    uint64_t dropped_as(const std::string& reason) const { return figure(json.at("totals").at("drops"), reason); }
    const Json& node(const std::string& name) const {
        for (const auto& n : json.at("nodes"))
            if (n.at("name") == name) return n;
        throw std::runtime_error("no node " + name + " in the stats");
    }
    // A node's figure by name: packets_in, packets_out, calls, or one of its
    // counters, drop reasons, facts or shadow figures.
    uint64_t of(const std::string& node_name, const std::string& key) const {
        const Json& n = node(node_name);
        if (n.contains(key) && n[key].is_number()) return n[key].get<uint64_t>();
        for (const char* group : {"counters", "drops", "info", "shadow"})
            if (n.at(group).contains(key)) return n.at(group).at(key).get<uint64_t>();
        throw std::runtime_error("node " + node_name + " has no " + key);
    }
    uint64_t shadow_total(const std::string& key) const { return json.at("shadow").at(key).get<uint64_t>(); }
    const Json& port(int p) const {
        for (const auto& x : json.at("ports"))
            if (x.at("port") == p) return x;
        throw std::runtime_error("no port " + std::to_string(p) + " in the stats");
    }
    uint64_t port_figure(int p, const std::string& key) const { return port(p).at(key).get<uint64_t>(); }
    uint64_t worker_packets(unsigned lcore) const {
        for (const auto& w : json.at("workers"))
            if (w.at("lcore") == lcore) return w.at("packets_read").get<uint64_t>();
        throw std::runtime_error("no worker on lcore " + std::to_string(lcore));
    }

private:
    static uint64_t figure(const Json& object, const std::string& key) {
        return object.contains(key) ? object.at(key).get<uint64_t>() : 0;
    }
};

inline Stats stats_of(const std::string& file) { return Stats{Json::parse(slurp(file))}; }

inline uint64_t sum_of(const Json& counts) {
    uint64_t total = 0;
    for (const auto& [name, n] : counts.items()) total += n.get<uint64_t>();
    return total;
}

// Every node: in + made = out + dropped. Totals: read + made = written +
// dropped (a filter that joins fragments makes datagrams). Every pool full.
inline void expect_conservation(const Stats& s) {
    const Json& nodes = s.json.at("nodes");
    EXPECT_GT(nodes.size(), 2u);
    for (const auto& n : nodes)
        EXPECT_EQ(n.at("packets_in").get<uint64_t>() + n.at("packets_made").get<uint64_t>(),
                  n.at("packets_out").get<uint64_t>() + sum_of(n.at("drops")))
            << "node " << n.at("name");
    const Json& totals = s.json.at("totals");
    EXPECT_EQ(totals.at("packets_read").get<uint64_t>() + totals.at("packets_made").get<uint64_t>(),
              totals.at("packets_written").get<uint64_t>() + sum_of(totals.at("drops")));
    EXPECT_FALSE(s.json.at("mempools").empty());
    for (const auto& pool : s.json.at("mempools"))
        EXPECT_EQ(pool.at("in_use").get<uint64_t>(), 0u) << "mbufs leaked from " << pool.at("name");
}

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
        return {exit_status(rc), slurp(dir_ / "stdout"), slurp(dir_ / "stderr")};
    }

    static std::string command_line(const std::string& program, const std::vector<std::string>& args) {
        std::string cmd = quote(program);
        for (const auto& a : args) {
            cmd += ' ';  // (" " + quote(a) trips GCC 12's -Wrestrict at -O3)
            cmd += quote(a);
        }
        return cmd;
    }
    Result command(const std::string& program, const std::vector<std::string>& args) {
        return run(command_line(program, args));
    }
    Result replay(const std::vector<std::string>& args) { return command(env("SL_REPLAY"), args); }
    Result forward(const std::vector<std::string>& args) { return command(env("SL_FORWARD"), args); }

    // sl-forward in the background, with the file prefix that names its
    // telemetry socket; `wrap` runs it (ip netns exec ...).
    std::unique_ptr<Background> start_forward(const std::string& prefix, const std::vector<std::string>& args,
                                               const std::string& wrap = "") {
        std::vector<std::string> all = {"--file-prefix=" + prefix};
        all.insert(all.end(), args.begin(), args.end());
        return std::make_unique<Background>("exec " + wrap + command_line(env("SL_FORWARD"), all),
                                            dir_ / (prefix + ".out"), dir_ / (prefix + ".err"));
    }
    // A file prefix no other test run uses.
    std::string prefix(const std::string& name) { return "sl-" + name + "-" + std::to_string(getpid()); }

    std::string sample(const std::string& name) { return env("SL_SOURCE") + "/pcap-samples/" + name; }
    std::string path(const std::string& name) { return (dir_ / name).string(); }

    // tcpdump -r IN -w OUT EXPR
    std::string tcpdump_filter(const std::string& in, const std::string& expr, const std::string& out) {
        Result r = run(quote(env("TCPDUMP")) + " -r " + quote(in) + " -w " + quote(out) + " " + quote(expr));
        EXPECT_EQ(r.status, 0) << r.err;
        return out;
    }

    // tcpflow's files for capture `in`, by name (its report.xml left out).
    std::map<std::string, std::string> tcpflow(const std::string& in) {
        fs::path out = dir_ / "tcpflow";
        Result r = run(quote(env("TCPFLOW")) + " -r " + quote(in) + " -o " + quote(out.string()));
        EXPECT_EQ(r.status, 0) << r.err;
        return files_in(out, "report.xml");
    }
    // The files of a folder by name, their bytes, but for `except`.
    static std::map<std::string, std::string> files_in(const fs::path& folder, const std::string& except = "") {
        std::map<std::string, std::string> files;
        for (const auto& e : fs::directory_iterator(folder))
            if (e.path().filename() != except) files[e.path().filename().string()] = slurp(e.path());
        return files;
    }

    fs::path dir_;
};

// A frame for write_frames: its bytes, its second after 1700000000, and how
// many of them the capture holds (0: all).
struct Frame {
    std::string bytes;
    long second = 0;
    uint32_t captured = 0;
};

// Writes Ethernet frames to a pcap capture, as a test's own input.
inline void write_frames(const std::string& file, const std::vector<Frame>& frames) {
    pcap_t* dead = pcap_open_dead(DLT_EN10MB, 65535);
    pcap_dumper_t* d = pcap_dump_open(dead, file.c_str());
    ASSERT_NE(d, nullptr) << pcap_geterr(dead);
    for (const auto& f : frames) {
        pcap_pkthdr h{};
        h.ts.tv_sec = 1700000000 + f.second;
        h.len = static_cast<bpf_u_int32>(f.bytes.size());
        h.caplen = f.captured ? f.captured : h.len;
        pcap_dump(reinterpret_cast<u_char*>(d), &h, reinterpret_cast<const u_char*>(f.bytes.data()));
    }
    pcap_dump_close(d);
    pcap_close(dead);
}

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

// How many records a capture holds so far (0 while it has no header yet).
inline size_t records_in(const std::string& file) {
    char err[PCAP_ERRBUF_SIZE];
    pcap_t* p = pcap_open_offline(file.c_str(), err);
    if (!p) return 0;
    size_t n = 0;
    pcap_pkthdr* h;
    const u_char* data;
    while (pcap_next_ex(p, &h, &data) == 1) n++;
    pcap_close(p);
    return n;
}

}  // namespace sl_test
