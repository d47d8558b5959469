// Plugins the way their authors make them: streamline installed into a
// temporary prefix, the example plugins, the README's example and some
// broken ones built out of tree against it with pkg-config, then loaded into
// the apps. What the examples keep is judged by tcpdump.
#include <regex>
#include <set>

#include <sl/filter.hpp>

#include <unistd.h>

#include "harness.hpp"

using namespace sl_test;

namespace {

// Builds everything once for the suite; what went wrong is in the log.
struct Built {
    fs::path root;
    std::string error;
    std::string examples;  // folder of ttl_bucket.so, http_method.so, flow_top.so
    std::string broken;    // folder of the test plugins
    std::string readme;    // the README's min_ttl.so
    std::string sdk;       // folder of docs/sdk.md's examples
    std::string stage;     // the staged install (meson install --destdir)
};

Built build_plugins() {
    Built b;
    b.root = fs::temp_directory_path() / ("sl-plugins-" + std::to_string(getpid()));
    fs::remove_all(b.root);
    fs::create_directories(b.root);
    b.examples = (b.root / "examples").string();
    b.broken = (b.root / "broken").string();
    b.readme = (b.root / "readme" / "min_ttl.so").string();
    b.sdk = (b.root / "sdk").string();
    b.stage = (b.root / "stage").string();
    std::string script = R"sh(
set -eu
root=$1 build=$2 source=$3
# 1. meson install into a staging folder, as an author's machine has it.
pkgconfig=$("$source/scripts/stage-sdk.sh" "$build" "$root/stage")
export PKG_CONFIG_PATH=$pkgconfig
mkdir -p "$root/broken" "$root/readme" "$root/sdk"
flags=$(pkg-config --cflags --libs streamline)
# What authors are told to write compiles without a warning: DPDK's headers
# come as system headers.
strict="-Wall -Wextra -Werror"
# 2. The examples with their own meson.build, the rest with c++ and pkg-config.
meson setup "$root/examples-build" "$source/src/plugins" >/dev/null
ninja -C "$root/examples-build" >/dev/null
mkdir -p "$root/examples"
cp "$root/examples-build"/*.so "$root/examples/"
awk '/^## Writing a filter/{on=1} on&&/^```cpp/{grab=1;next} grab&&/^```/{exit} grab{print}' \
  "$source/README.md" > "$root/readme/min_ttl.cpp"
c++ -std=c++20 -O2 -fPIC -shared $strict "$root/readme/min_ttl.cpp" -o "$root/readme/min_ttl.so" $flags &
# docs/sdk.md: each ```cpp block opens with "// sdk-example: NAME.cpp".
awk -v dir="$root/sdk" '/^```cpp/{grab=1;file="";next} grab&&/^```/{grab=0;next}
  grab&&file==""&&/^\/\/ sdk-example: /{file=dir "/" $3} grab&&file!=""{print > file}' "$source/docs/sdk.md"
for example in "$root"/sdk/*.cpp; do
  c++ -std=c++20 -O2 -fPIC -shared $strict "$example" -o "${example%.cpp}.so" $flags &
done
for p in wrong_abi missing_symbol clash misbehave undeclared_drop; do
  c++ -std=c++20 -O2 -fPIC -shared "$source/test/integration/plugins/$p.cpp" -o "$root/broken/$p.so" $flags &
done
c++ -O2 -fPIC -shared "$source/test/integration/plugins/not_a_plugin.cpp" -o "$root/broken/not_a_plugin.so" &
for job in $(jobs -p); do wait "$job"; done
)sh";
    std::ofstream(b.root / "build.sh") << script;
    std::string log = (b.root / "build.log").string();
    std::string cmd = "bash " + quote((b.root / "build.sh").string()) + " " + quote(b.root.string()) + " " +
                      quote(env("SL_BUILD_ROOT")) + " " + quote(env("SL_SOURCE")) + " >" + quote(log) + " 2>&1";
    if (std::system(cmd.c_str()) != 0) b.error = "building the plugins failed:\n" + slurp(log);
    for (const char* f : {"examples/ttl_bucket.so", "examples/http_method.so", "examples/flow_top.so",
                          "readme/min_ttl.so", "broken/wrong_abi.so", "broken/misbehave.so",
                          "broken/undeclared_drop.so", "sdk/frag_class.so",
                          "sdk/payload_prefix.so", "sdk/top_ports.so", "sdk/ttl_dec.so"})
        if (b.error.empty() && !fs::exists(b.root / f)) b.error = std::string(f) + " was not built:\n" + slurp(log);
    return b;
}

Built* g_built = nullptr;

}  // namespace

class Plugins : public Harness {
protected:
    static void SetUpTestSuite() {
        if (!g_built) g_built = new Built(build_plugins());
    }
    static void TearDownTestSuite() {
        if (g_built && g_built->error.empty()) fs::remove_all(g_built->root);
        delete g_built;
        g_built = nullptr;
    }
    void SetUp() override {
        Harness::SetUp();
        ASSERT_TRUE(g_built->error.empty()) << g_built->error;
    }
    std::string example(const std::string& name) { return g_built->examples + "/" + name + ".so"; }
    // Connections among tcpdump_flows(): flow_top's table holds both
    // directions of one as one flow.
    static size_t connections_of(const std::map<std::string, uint64_t>& flows) {
        std::set<std::string> connections;
        for (const auto& [flow, packets] : flows) {
            std::istringstream w(flow);
            std::string proto, a, arrow, b;
            w >> proto >> a >> arrow >> b;
            connections.insert(proto + " " + std::min(a, b) + " " + std::max(a, b));
        }
        return connections.size();
    }
    std::string broken(const std::string& name) { return g_built->broken + "/" + name + ".so"; }

    // tcpdump -nn -q's flows: "IP 10.0.0.1.4000 > 10.0.0.2.5000: UDP, length 3000"
    // -> "udp 10.0.0.1:4000 > 10.0.0.2:5000", as flow_top writes them. Lines
    // without ports (later fragments) are not flows; IPv6 first fragments
    // name their ports after the fragment header.
    std::map<std::string, uint64_t> tcpdump_flows(const std::string& capture, const std::string& filter) {
        Result r = run(quote(env("TCPDUMP")) + " -nn -q -r " + quote(capture) + " " + quote(filter));
        EXPECT_EQ(r.status, 0) << r.err;
        std::map<std::string, uint64_t> flows;
        std::istringstream lines(r.out);
        std::string line;
        while (std::getline(lines, line)) {
            std::istringstream w(line);
            std::string time, family, src, arrow, dst, proto;
            w >> time >> family >> src >> arrow >> dst >> proto;
            if ((family != "IP" && family != "IP6") || arrow != ">" || dst.empty()) continue;
            dst.pop_back();  // the ':'
            auto split = [&](const std::string& a, std::string& addr, std::string& port) {
                auto dot = a.rfind('.');
                if (dot == std::string::npos) return false;
                addr = a.substr(0, dot);
                port = a.substr(dot + 1);
                // An IPv4 address without a port still has dots: it has four parts.
                return family == "IP6" || std::count(a.begin(), a.end(), '.') == 4;
            };
            std::string sa, sp, da, dp;
        if (proto == "frag") {
            // An IPv6 first fragment: "IP6 a > b: frag (0|72) 4000 > 5000: UDP, ...".
            std::string offset, sport, dport;
            w >> offset >> sport >> arrow >> dport >> proto;
            if (offset.rfind("(0|", 0) != 0 || dport.empty()) continue;
            dport.pop_back();
            sa = src, sp = sport, da = dst, dp = dport;
        } else if (!split(src, sa, sp) || !split(dst, da, dp)) {
            continue;
        }
        std::string p = proto == "tcp" ? "tcp" : proto == "UDP," ? "udp" : proto == "sctp" ? "sctp" : "";
            if (p.empty()) continue;
            std::string key = family == "IP6" ? p + " [" + sa + "]:" + sp + " > [" + da + "]:" + dp
                                              : p + " " + sa + ":" + sp + " > " + da + ":" + dp;
            flows[key]++;
        }
        return flows;
    }
};

TEST_F(Plugins, AHeaderClassifierPluginBucketsTtlsAsTcpdumpDoes) {
    std::string in = sample("mixed.pcap");
    // libpcap's `ip` does not see inside VLAN tags; leave tagged frames out
    // on both sides (`vlan` last: it shifts the offsets after it).
    std::vector<std::pair<std::string, std::string>> buckets = {
        {"b0", "((ip and ip[8] <= 32) or (ip6 and ip6[7] <= 32)) and not vlan"},
        {"b1", "((ip and ip[8] > 32 and ip[8] <= 64) or (ip6 and ip6[7] > 32 and ip6[7] <= 64)) and not vlan"},
        {"b2", "((ip and ip[8] > 64 and ip[8] <= 128) or (ip6 and ip6[7] > 64 and ip6[7] <= 128)) and not vlan"},
        {"b3", "((ip and ip[8] > 128) or (ip6 and ip6[7] > 128)) and not vlan"},
    };
    std::string pipeline = "ttl = rx | bpf \"not vlan\" | ttl_bucket 32 64 128";
    for (size_t i = 0; i < buckets.size(); i++)
        pipeline += "\nttl |" + std::to_string(i) + " pcap \"" + path(buckets[i].first + ".pcap") + "\"";
    Result r = replay({"-q", "--plugin", example("ttl_bucket"), "-e", pipeline, "--stats-json", path("s.json"), in});
    ASSERT_EQ(r.status, 0) << r.err;
    size_t total = 0;
    for (const auto& [name, filter] : buckets) {
        auto expected = read_capture(tcpdump_filter(in, filter, path(name + "-tcpdump.pcap")));
        auto got = read_capture(path(name + ".pcap"));
        EXPECT_TRUE(got == expected) << name << ": " << got.size() << " packets, tcpdump " << expected.size();
        total += got.size();
    }
    EXPECT_GT(total, 100u);
    Stats s = stats_of(path("s.json"));
    expect_conservation(s);
    EXPECT_EQ(s.node("ttl_bucket#1").at("access"), "headers");
    EXPECT_EQ(s.of("ttl_bucket#1", "bytes_pulled"), 0u) << "hybrid pulls nothing for headers";
}

TEST_F(Plugins, APayloadPluginClassifiesHttpMethodsAsTcpdumpDoes) {
    std::string in = sample("mixed.pcap");
    // tcpdump reads the first 4 payload bytes of IPv4 TCP (libpcap indexes
    // no IPv6 transport payload).
    const std::string payload = "tcp[((tcp[12:1] & 0xf0) >> 2):4]";
    auto get = read_capture(tcpdump_filter(in, "ip and tcp and " + payload + " = 0x47455420", path("get-td.pcap")));
    auto post = read_capture(tcpdump_filter(in, "ip and tcp and " + payload + " = 0x504f5354", path("post-td.pcap")));
    ASSERT_GT(get.size(), 10u);
    ASSERT_GT(post.size(), 10u);
    for (const char* policy : {"hybrid", "zero-copy", "copy-once"}) {
        Result r = replay({"-q", "--shadow", policy, "--plugin", example("http_method"), "-e",
                           "m = rx | bpf \"ip and tcp\" | http_method\nm |1 pcap \"" + path("get.pcap") +
                               "\"\nm |2 pcap \"" + path("post.pcap") + "\"",
                           "--stats-json", path("s.json"), in});
        ASSERT_EQ(r.status, 0) << r.err;
        EXPECT_TRUE(read_capture(path("get.pcap")) == get) << policy;
        EXPECT_TRUE(read_capture(path("post.pcap")) == post) << policy;
        Stats s = stats_of(path("s.json"));
        expect_conservation(s);
        EXPECT_EQ(s.of("http_method#1", "GET"), get.size()) << policy;
        EXPECT_EQ(s.of("http_method#1", "POST"), post.size()) << policy;
        EXPECT_EQ(s.node("http_method#1").at("access"), "payload");
        uint64_t pulled = s.of("http_method#1", "bytes_pulled");
        if (std::string(policy) == "hybrid") {
            EXPECT_GT(pulled, 0u) << "it reads payloads, which hybrid pulls for it";
        } else {
            EXPECT_EQ(pulled, 0u) << policy << ": nothing left to pull (copy-once copied at the parser)";
        }
    }
}

TEST_F(Plugins, AStatefulPluginCountsEveryFlowAsTcpdumpSeesIt) {
    std::string in = sample("mixed.pcap");
    const std::string filter = "(tcp or udp or sctp) and not vlan";
    auto flows = tcpdump_flows(in, filter);
    ASSERT_GT(flows.size(), 100u);
    Result r = replay({"-q", "--plugin", example("flow_top"), "-o", path("out"), "-e",
                       "rx | bpf \"" + filter + "\" | flow_top top=5 file=\"top.txt\"", "--stats-json", path("s.json"), in});
    ASSERT_EQ(r.status, 0) << r.err;
    Stats s = stats_of(path("s.json"));
    expect_conservation(s);
    EXPECT_EQ(s.of("flow_top#1", "flows"), connections_of(flows));
    EXPECT_EQ(s.of("flow_top#1", "forgotten"), 0u);

    std::istringstream top(slurp(path("out/top.txt")));
    std::string header;
    std::getline(top, header);
    EXPECT_EQ(header, "flow_top#1: " + std::to_string(flows.size()) + " flows, top 5 by packets");
    std::getline(top, header);  // column names
    std::set<std::string> listed;
    uint64_t previous = UINT64_MAX, packets, bytes;
    std::string flow;
    while (top >> packets >> bytes && std::getline(top, flow)) {
        flow = flow.substr(flow.find_first_not_of(' '));
        ASSERT_TRUE(flows.count(flow)) << "'" << flow << "' is not a flow tcpdump saw";
        EXPECT_EQ(packets, flows[flow]) << flow;
        EXPECT_LE(packets, previous) << "sorted by packets";
        previous = packets;
        listed.insert(flow);
    }
    ASSERT_EQ(listed.size(), 5u);
    for (const auto& [f, n] : flows)
        if (!listed.count(f)) {
            EXPECT_LE(n, previous) << f << " has more packets than a listed flow";
        }
}

TEST_F(Plugins, AStatefulPluginCountsBothDirectionsOfEachConnection) {
    // Connections with replies, a RST, one whose start the capture missed,
    // IPv6: every direction's packets, as tcpdump counts them.
    std::string in = sample("streams.pcap");
    const std::string filter = "tcp and not vlan";
    auto flows = tcpdump_flows(in, filter);
    Result r = replay({"-q", "--plugin", example("flow_top"), "-o", path("out"), "-e",
                       "rx | bpf \"" + filter + "\" | flow_top top=100 file=\"top.txt\"", "--stats-json", path("s.json"), in});
    ASSERT_EQ(r.status, 0) << r.err;
    Stats s = stats_of(path("s.json"));
    expect_conservation(s);
    EXPECT_EQ(s.of("flow_top#1", "flows"), connections_of(flows));
    EXPECT_LT(connections_of(flows), flows.size());
    std::istringstream top(slurp(path("out/top.txt")));
    std::string line;
    std::getline(top, line);
    EXPECT_EQ(line, "flow_top#1: " + std::to_string(flows.size()) + " flows, top " + std::to_string(flows.size()) +
                        " by packets");
    std::getline(top, line);  // column names
    std::map<std::string, uint64_t> listed;
    uint64_t packets, bytes;
    while (top >> packets >> bytes && std::getline(top, line)) listed[line.substr(line.find_first_not_of(' '))] = packets;
    EXPECT_EQ(listed, flows);
}

TEST_F(Plugins, TheReadmeExampleKeepsWhatTcpdumpKeeps) {
    std::string in = sample("mixed.pcap");
    auto expected = read_capture(tcpdump_filter(
        in, "(not (ip or ip6) or (ip and ip[8] >= 64) or (ip6 and ip6[7] >= 64)) and not vlan", path("td.pcap")));
    Result r = replay({"-q", "--plugin", g_built->readme, "-e",
                       "rx | bpf \"not vlan\" | min_ttl 64 | pcap \"" + path("kept.pcap") + "\"", "--stats-json",
                       path("s.json"), in});
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_TRUE(read_capture(path("kept.pcap")) == expected) << read_capture(path("kept.pcap")).size() << " vs "
                                                             << expected.size();
    Stats s = stats_of(path("s.json"));
    expect_conservation(s);
    EXPECT_GT(s.of("min_ttl#1", "ttl_too_low"), 0u);
    EXPECT_GT(s.of("min_ttl#1", "checked"), 0u);
}

TEST_F(Plugins, TheSdkReferencesExamplesLoadAndRun) {
    // Built above with -Wall -Wextra -Werror from docs/sdk.md as it is.
    std::string in = sample("mixed.pcap");
    for (const char* name : {"frag_class", "payload_prefix", "top_ports", "ttl_dec"}) {
        std::string so = g_built->sdk + "/" + name + ".so";
        Result r = replay({"--plugin", so, "--filters"});
        ASSERT_EQ(r.status, 0) << r.err;
        EXPECT_NE(r.out.find("[" + so + "]"), std::string::npos) << name << " registers nothing:\n" << r.out;
    }
}

TEST_F(Plugins, TheInstalledAppsRunFromTheirPrefixWhereverItIs) {
    // Where `name` landed under the staged install; empty if nowhere.
    auto installed = [&](const std::string& name) {
        for (const auto& e : fs::recursive_directory_iterator(g_built->stage))
            if (e.path().filename() == name) return e.path();
        return fs::path();
    };
    // No LD_LIBRARY_PATH: the apps find libstreamline.so next to them
    // (an rpath relative to the binary), staged with --destdir and moved.
    fs::path bin = installed("sl-replay").parent_path();
    ASSERT_FALSE(bin.empty()) << "no sl-replay under " << g_built->stage;
    auto version = [&](const fs::path& dir) {
        return run("{ env -u LD_LIBRARY_PATH " + quote((dir / "sl-replay").string()) + " --version && env -u " +
                   "LD_LIBRARY_PATH " + quote((dir / "sl-forward").string()) + " --version; }");
    };
    Result r = run("readelf -d " + quote((bin / "sl-replay").string()));
    EXPECT_TRUE(std::regex_search(r.out, std::regex(R"(R(UN)?PATH.*\[\$ORIGIN/\.\./lib)"))) << r.out;
    r = version(bin);
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_TRUE(std::regex_search(r.out, std::regex(R"(^sl-replay [0-9]+\.[0-9]+\.[0-9]+ \(streamline SDK ABI [0-9]+\)\nDPDK 22\.11)")))
        << r.out;
    EXPECT_NE(r.out.find("sl-forward "), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("libpcap version"), std::string::npos) << r.out;
    fs::path moved = fs::path(path("moved"));
    fs::copy(g_built->stage, moved, fs::copy_options::recursive | fs::copy_options::copy_symlinks);
    fs::path moved_bin = moved / fs::relative(bin, g_built->stage);
    r = version(moved_bin);
    EXPECT_EQ(r.status, 0) << r.err;
    // And it replays from there.
    r = run("env -u LD_LIBRARY_PATH " + quote((moved_bin / "sl-replay").string()) + " -q -e 'rx | count' " +
            quote(sample("mixed.pcap")));
    EXPECT_EQ(r.status, 0) << r.err;

    // streamline(7): every built-in filter, with its drop reasons.
    fs::path page = installed("streamline.7");
    ASSERT_FALSE(page.empty()) << "streamline.7 is not installed";
    EXPECT_EQ(page.parent_path().filename(), "man7");
    std::string language = slurp(page.string());
    r = replay({"--filters"});
    std::istringstream listed(r.out);
    std::string line;
    size_t filters = 0;
    while (std::getline(listed, line)) {
        std::string name = line.substr(0, line.find(' '));
        std::string in_roff;  // a hyphen is "\-" in a man page
        for (char c : name) in_roff += c == '-' ? std::string("\\-") : std::string(1, c);
        EXPECT_NE(language.find(".TP\n\\fB" + in_roff), std::string::npos) << name << " is not in streamline(7)";
        filters++;
    }
    EXPECT_GE(filters, 13u);
    for (const char* drops : {"Drops: filtered.", "Drops: head_limit.", "Drops: no_match.", "Drops: tx_full,write_error."})
        EXPECT_NE(language.find(drops), std::string::npos) << drops;
    // The apps' man pages, made from their own --help.
    struct ManPage {
        const char* file;
        const char* title;
        const char* option;
    };
    for (const ManPage& m : {ManPage{"sl-replay.1", ".TH SL-REPLAY \"1\"", "\\-\\-workers"},
                             ManPage{"sl-forward.1", ".TH SL-FORWARD \"1\"", "\\-\\-metrics"}}) {
        fs::path man = installed(m.file);
        ASSERT_FALSE(man.empty()) << m.file << " is not installed";
        EXPECT_EQ(man.parent_path().filename(), "man1");
        std::string text = slurp(man.string());
        EXPECT_NE(text.find(m.title), std::string::npos) << text.substr(0, 300);
        EXPECT_NE(text.find(m.option), std::string::npos) << m.file << " lacks " << m.option;
    }
}

TEST_F(Plugins, APluginsArgumentErrorsPointAtTheArgument) {
    // As a built-in's do, and they name the plugin.
    Result r = replay({"--plugin", g_built->readme, "-e", "rx | min_ttl 300", sample("mixed.pcap")});
    EXPECT_EQ(r.status, 2);
    EXPECT_NE(r.err.find("command-line:1:14: error:"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("(plugin " + g_built->readme + ")"), std::string::npos) << r.err;
}

TEST_F(Plugins, APluginFolderLoadsEveryPluginInIt) {
    Result r = replay({"--plugin-dir", g_built->examples, "--filters"});
    ASSERT_EQ(r.status, 0) << r.err;
    for (const char* name : {"ttl_bucket", "http_method", "flow_top"})
        EXPECT_NE(r.out.find(std::string(name) + " "), std::string::npos) << name << " missing from\n" << r.out;
    EXPECT_NE(r.out.find("[" + example("flow_top") + "]"), std::string::npos) << "plugins say where they come from";
    EXPECT_NE(r.out.find("count "), std::string::npos) << "built-ins are still there";
}

TEST_F(Plugins, SlPluginPathLoadsPluginsForBothApps) {
    // Empty entries name nothing; a plugin named twice loads once.
    Result r = run("SL_PLUGIN_PATH=:" + quote(g_built->examples) + ": " + quote(env("SL_REPLAY")) +
            " --plugin " + quote(example("ttl_bucket")) + " -q -e 'rx | ttl_bucket |0 count' " +
            quote(sample("mixed.pcap")));
    EXPECT_EQ(r.status, 0) << r.err;
    // A folder that is not there is a typo, as with --plugin-dir.
    r = run("SL_PLUGIN_PATH=" + quote(path("nonexistent")) + ":" + quote(g_built->examples) + " " +
            quote(env("SL_REPLAY")) + " -q -e 'rx | count' " + quote(sample("mixed.pcap")));
    EXPECT_EQ(r.status, 2);
    EXPECT_NE(r.err.find("sl-replay: error: SL_PLUGIN_PATH names " + path("nonexistent") + ": No such file or directory"),
              std::string::npos)
        << r.err;
    r = run("SL_PLUGIN_PATH=" + quote(g_built->examples) + " " + quote(env("SL_FORWARD")) + " --filters");
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_NE(r.out.find("http_method "), std::string::npos) << r.out;
}

TEST_F(Plugins, APluginThatCannotLoadStopsEitherApp) {
    Result r = forward({"--plugin", broken("wrong_abi"), "--filters"});
    EXPECT_EQ(r.status, 2);
    EXPECT_NE(r.err.find("sl-forward: error: plugin"), std::string::npos) << r.err;
    r = replay({"--plugin-dir", path("nothing-here"), "--filters"});
    EXPECT_EQ(r.status, 2);
    EXPECT_NE(r.err.find("--plugin-dir " + path("nothing-here") + ": No such file or directory"), std::string::npos) << r.err;
}

TEST_F(Plugins, PluginsThatAnotherUserCouldHavePutThereAreRefused) {
    // As sudo and ld.so refuse insecure paths: a plugin runs as root on a
    // NIC, so neither it nor a folder above it may be writable by every
    // user or belong to another user.
    ASSERT_EQ(geteuid(), 0u) << "these checks need root, as sl-forward on a NIC does";
    std::string in = sample("mixed.pcap");
    std::string folder = path("shared"), file = path("shared/ttl_bucket.so");
    fs::create_directories(folder);
    fs::copy_file(example("ttl_bucket"), file);
    auto outcome = [&](const std::vector<std::string>& how) {
        std::vector<std::string> args = how;
        for (const char* a : {"-q", "-e", "rx | count"}) args.push_back(a);
        args.push_back(in);
        return replay(args);
    };
    auto refused = [&](const std::string& why) {
        for (const auto& how : std::vector<std::vector<std::string>>{{"--plugin", file}, {"--plugin-dir", folder}}) {
            Result r = outcome(how);
            EXPECT_EQ(r.status, 2) << how[0];
            EXPECT_NE(r.err.find("error: plugin " + file + ": refused: " + why), std::string::npos) << how[0] << ": " << r.err;
        }
        Result r = run("SL_PLUGIN_PATH=" + quote(folder) + " " + command_line(env("SL_REPLAY"), {"--filters"}));
        EXPECT_EQ(r.status, 2) << "SL_PLUGIN_PATH";
        EXPECT_NE(r.err.find("refused: " + why), std::string::npos) << r.err;
    };
    ASSERT_EQ(outcome({"--plugin", file}).status, 0);

    fs::permissions(folder, fs::perms::all);
    refused("the folder " + folder + " is writable by every user (mode 0777)");
    // With the sticky bit, as /tmp has it, nobody replaces another's file.
    fs::permissions(folder, fs::perms::all | fs::perms::sticky_bit);
    EXPECT_EQ(outcome({"--plugin", file}).status, 0);
    fs::permissions(folder, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                                fs::perms::others_read | fs::perms::others_exec);

    fs::permissions(file, fs::perms::others_write, fs::perm_options::add);
    refused("the file " + file + " is writable by every user");
    fs::permissions(file, fs::perms::others_write, fs::perm_options::remove);
    // Writable by a group other than root's.
    ASSERT_EQ(chown(folder.c_str(), 0, 65534), 0);
    fs::permissions(folder, fs::perms::group_write, fs::perm_options::add);
    refused("the folder " + folder + " is writable by the group nogroup");
    fs::permissions(folder, fs::perms::group_write, fs::perm_options::remove);
    ASSERT_EQ(chown(folder.c_str(), 0, 0), 0);

    ASSERT_EQ(chown(file.c_str(), 65534, 65534), 0);
    refused("the file " + file + " belongs to nobody, not to root, who runs streamline");
    ASSERT_EQ(chown(file.c_str(), 0, 0), 0);
    ASSERT_EQ(chown(folder.c_str(), 65534, 65534), 0);
    refused("the folder " + folder + " belongs to nobody");
    ASSERT_EQ(chown(folder.c_str(), 0, 0), 0);
    EXPECT_EQ(outcome({"--plugin", file}).status, 0);
}

TEST_F(Plugins, PluginsThatCannotWorkAreRefusedWithTheirReason) {
    std::string in = sample("mixed.pcap");
    auto refused = [&](const std::string& plugin, const std::string& why) {
        Result r = replay({"--plugin", plugin, "-e", "rx | count", in});
        EXPECT_EQ(r.status, 2) << plugin;
        EXPECT_NE(r.err.find("sl-replay: error: plugin " + plugin + ": " + why), std::string::npos) << r.err;
    };
    refused(broken("wrong_abi"), "it was built for SDK ABI 2, and this streamline has SDK ABI " +
                                     std::to_string(sl::kSdkAbiVersion) + "; rebuild it");
    refused(broken("not_a_plugin"), "not a streamline plugin: it registers no filter");
    refused(broken("missing_symbol"),
            "cannot load it: undefined symbol sl::function_from_a_newer_sdk(rte_mbuf const*)");
    refused(broken("clash"), "filter 'count' clashes with the built-in filter of that name");
    std::ofstream(path("text.so")) << "not even ELF\n";
    refused(path("text.so"), "cannot load it: ");
    refused(path("absent.so"), "No such file or directory");
    // Two plugins with the same filter: the second is refused, naming the first.
    fs::copy_file(example("ttl_bucket"), path("ttl_bucket_again.so"));
    Result r = replay({"--plugin", example("ttl_bucket"), "--plugin", path("ttl_bucket_again.so"), "-e", "rx | count", in});
    EXPECT_EQ(r.status, 2);
    EXPECT_NE(r.err.find("filter 'ttl_bucket' is already registered by " + example("ttl_bucket")), std::string::npos)
        << r.err;
}

TEST_F(Plugins, AFilterDropsOnlyForTheReasonsItsTypeLists) {
    // What streamline(7) and --filters say of a filter is what it does.
    std::string so = broken("undeclared_drop");
    Result r = replay({"--plugin", so, "-e", "rx | strict", sample("mixed.pcap")});
    EXPECT_EQ(r.status, 2);
    EXPECT_NE(r.err.find("command-line:1:6: error: drops packets as 'too_late', which its type does not list "
                         "(drops = \"too_early\") (plugin " + so + ")"),
              std::string::npos)
        << r.err;
}

TEST_F(Plugins, WhatAPluginThrowsNamesThePlugin) {
    std::string in = sample("mixed.pcap");
    std::string so = broken("misbehave");
    Result r = replay({"--plugin", so, "-e", "rx | misbehave fail=ctor", in});
    EXPECT_EQ(r.status, 2);
    EXPECT_NE(r.err.find("command-line:1:6: error: misbehave (plugin " + so + "): the flux capacitor is missing"),
              std::string::npos) << r.err;
    r = replay({"--plugin", so, "-e", "rx | misbehave fail=args", in});
    EXPECT_EQ(r.status, 2);
    EXPECT_NE(r.err.find("(plugin " + so + ")"), std::string::npos) << r.err;
    r = replay({"--plugin", so, "-e", "rx | misbehave fail=other", in});
    EXPECT_EQ(r.status, 2);
    EXPECT_NE(r.err.find("misbehave (plugin " + so + "): threw an exception that is not a std::exception"),
              std::string::npos) << r.err;
    // process() is noexcept: the process stops, and says which filter broke the rule.
    r = replay({"-q", "--plugin", so, "-e", "rx | misbehave fail=process", in});
    EXPECT_EQ(r.status, 128 + SIGABRT);
    EXPECT_NE(r.err.find("fatal: filter 'misbehave' (node misbehave#1, plugin " + so +
                         ") threw from process(), which must not throw: a packet was not what I expected"),
              std::string::npos) << r.err;
}

TEST_F(Plugins, TheAccessAPluginDeclaresIsAllItGets) {
    std::string in = sample("mixed.pcap");
    for (const char* policy : {"hybrid", "copy-once", "zero-copy"}) {
        Result r = replay({"-q", "--shadow", policy, "--plugin", broken("misbehave"), "-e", "rx | overreach",
                           "--stats-json", path("s.json"), in});
        ASSERT_EQ(r.status, 0) << r.err;
        Stats s = stats_of(path("s.json"));
        EXPECT_EQ(s.of("overreach#1", "reached"), 0u) << policy << ": a header filter read payload or got write access";
        EXPECT_GT(s.of("overreach#1", "refused"), 100u) << policy;
    }
}

// sl-forward's reload opens the plugins put into its plugin folder since
// the last: one that cannot be opened refuses the reload with its reason,
// and the running graph goes on; once it is gone and a good one is there,
// the next reload builds a graph with the new plugin's filter.
TEST_F(Plugins, AReloadOpensNewPluginsInTheFolderAndIsRefusedByOneThatCannotLoad) {
    fs::path folder = dir_ / "plugins";
    fs::create_directories(folder);
    std::string config = path("graph.sl");
    auto write_config = [&](const std::string& text) {
        { std::ofstream(config + ".new") << text; }
        fs::rename(config + ".new", config);
    };
    write_config("rx 0 | count name=first\n");
    std::string p = prefix("plugin-reload");
    auto fwd = start_forward(p, {"--vdev=net_pcap0,rx_pcap=" + sample("mixed.pcap") + ",infinite_rx=1", "--", "-q",
                                 "--plugin-dir", folder.string(), "-c", config, "--stats-json", path("s.json")});
    ASSERT_TRUE(live_stats_reach(p, [](const LiveStats& s) { return s.node_in("first") > 1000; })) << fwd->err();

    fs::copy_file(broken("missing_symbol"), folder / "missing_symbol.so");
    write_config("rx 0 | ttl_bucket |0 count name=second\n");
    fwd->signal(SIGHUP);
    EXPECT_TRUE(eventually([&] { return fwd->err().find("reload refused") != std::string::npos; }, 30)) << fwd->err();
    EXPECT_NE(fwd->err().find("missing_symbol.so: cannot load it"), std::string::npos) << fwd->err();
    uint64_t first = 0;
    ASSERT_TRUE(live_stats_reach(p, [&](const LiveStats& s) { return (first = s.node_in("first")) > 0; }));
    EXPECT_TRUE(live_stats_reach(p, [&](const LiveStats& s) { return s.node_in("first") > first + 1000; }))
        << "the running graph goes on\n" << fwd->err();

    fs::remove(folder / "missing_symbol.so");
    fs::copy_file(example("ttl_bucket"), folder / "ttl_bucket.so");
    fwd->signal(SIGHUP);
    EXPECT_TRUE(live_stats_reach(p, [](const LiveStats& s) { return s.node_in("second") > 1000; })) << fwd->err();
    Result r = fwd->stop();
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_NE(r.err.find("reloaded " + config), std::string::npos) << r.err;
    expect_conservation(stats_of(path("s.json")));
}

TEST_F(Plugins, PerLcoreStateMergesOverTheWorkersOfSlForward) {
    // Two workers, each polling one net_pcap port, each with its own flow
    // table; the top list at the end is over both.
    std::string a = sample("mixed.pcap"), b = sample("mixed-ns.pcap");
    const std::string filter = "(tcp or udp or sctp) and not vlan";
    auto flows = tcpdump_flows(a, filter);
    for (const auto& [flow, n] : tcpdump_flows(b, filter)) flows[flow] += n;
    auto port = [&](int n, const std::string& rx) {
        // One transmit queue (file) per worker, though nothing is sent.
        std::string v = "--vdev=net_pcap" + std::to_string(n) + ",rx_pcap=" + rx;
        for (int q = 0; q < 2; q++) v += ",tx_pcap=" + path("u" + std::to_string(n) + std::to_string(q) + ".pcap");
        return v;
    };
    std::string p = prefix("flow-top");
    auto fwd = start_forward(p, {"--lcores=0@0,1@0,2@1", port(0, a), port(1, b), "--", "-q", "--plugin",
                                 example("flow_top"), "-o", path("out"), "-e",
                                 "rx | bpf \"" + filter + "\" | flow_top top=3 file=\"top.txt\"", "--stats-json",
                                 path("s.json")});
    size_t total = read_capture(a).size() + read_capture(b).size();
    EXPECT_TRUE(live_stats_reach(p, [&](const LiveStats& s) { return s.total("packets_read") == total; }))
        << fwd->err();
    Result r = fwd->stop();
    ASSERT_EQ(r.status, 0) << r.err;
    expect_conservation(stats_of(path("s.json")));
    std::istringstream top(slurp(path("out/top.txt")));
    std::string line;
    std::getline(top, line);
    EXPECT_EQ(line, "flow_top#1: " + std::to_string(flows.size()) + " flows, top 3 by packets");
    std::getline(top, line);
    uint64_t packets, bytes;
    std::string flow;
    int listed = 0;
    while (top >> packets >> bytes && std::getline(top, flow)) {
        flow = flow.substr(flow.find_first_not_of(' '));
        EXPECT_EQ(packets, flows[flow]) << flow << ": the workers' counts are added";
        listed++;
    }
    EXPECT_EQ(listed, 3);
}
