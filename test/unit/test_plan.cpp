// The plan on its own: what a configuration means (nodes, edges, routing by
// class, shared sinks, shadow policies) and every error it can have, at its
// file:line:col. No EAL and no filter runs: the filter types here are names
// with flags.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "graph/plan.hpp"
#include "lang/ast.hpp"

using namespace sl;
using graph::Edge;
using graph::Plan;
using graph::PlanNode;

namespace {

std::unique_ptr<Filter> never_built(FilterContext&) { return nullptr; }

// The built-ins' names and declarations, as the plan sees them.
const Registry& registry() {
    static const Registry r = [] {
        Registry reg;
        std::string error;
        auto add = [&](const char* name, Access access, uint32_t flags) {
            EXPECT_TRUE(reg.add(FilterType{.name = name, .access = access, .flags = flags, .create = never_built}, "",
                                error))
                << error;
        };
        add("bpf", Access::headers, kNoParse);
        add("count", Access::metadata, kNoParse);
        add("ipproto", Access::metadata, kClassifier);
        add("match", Access::payload, kClassifier);
        add("tx", Access::metadata, kSink | kSharedByArgs | kNoParse);
        add("pcap", Access::metadata, kSink | kSharedByArgs | kNoParse);
        return reg;
    }();
    return r;
}

Plan plan_of(const std::string& text, unsigned inputs = 1, const std::string& shadow = "hybrid") {
    graph::PlanOptions options;
    options.input_count = inputs;
    std::string error;
    options.shadow = *shadow::parse_policy(shadow, error);
    return graph::plan(lang::parse(text, "t.sl"), registry(), options);
}

std::string error_of(const std::string& text, unsigned inputs = 1) {
    try {
        plan_of(text, inputs);
    } catch (const ConfigError& e) {
        return e.format();
    }
    return "(no error)";
}

const PlanNode& node(const Plan& p, const std::string& name) {
    const PlanNode* n = p.find(name);
    if (!n) throw std::runtime_error("no node " + name);
    return *n;
}

// The names of the nodes that packets of class `cls` go to from `from`.
std::vector<std::string> targets(const Plan& p, const std::string& from, uint32_t cls) {
    const PlanNode& n = node(p, from);
    std::vector<std::string> out;
    for (Edge e : n.routing.lookup(cls).edges) out.push_back(p.nodes()[n.successors[e - 1]].name);
    return out;
}

using Names = std::vector<std::string>;

}  // namespace

TEST(Plan, ThePipelinesOfRxStartAtTheParseNode) {
    Plan p = plan_of("rx | count name=a\nrx | count name=b");
    ASSERT_EQ(p.nodes()[0].name, "parse");
    EXPECT_EQ(targets(p, "parse", 0), (Names{"a", "b"}));
    EXPECT_EQ(targets(p, "parse", 5), (Names{"a", "b"}));
}

TEST(Plan, RxNIsTheParseNodesClassNEdge) {
    Plan p = plan_of("rx 1 | count name=one\nrx | count name=all", 2);
    EXPECT_EQ(targets(p, "parse", 0), (Names{"all"}));
    EXPECT_EQ(targets(p, "parse", 1), (Names{"all", "one"}));
}

TEST(Plan, ANodeReachedFromOneRxNKnowsItsInput) {
    Plan p = plan_of("one = rx 1 | count name=a\none | tx 1\nrx | count name=all\nrx 0 | tx 1\n"
                     "rx 2 | count name=c\nrx 2 | pcap \"x.pcap\"",
                     3);
    EXPECT_EQ(node(p, "a").only_input, 1);
    EXPECT_EQ(node(p, "c").only_input, 2);
    EXPECT_EQ(node(p, "pcap#1").only_input, 2);
    EXPECT_EQ(node(p, "all").only_input, -1);
    EXPECT_EQ(node(p, "tx#1").only_input, -1) << "reached from rx 1 and rx 0";
}

TEST(Plan, AStreamReadTwiceFansOutToBothReaders) {
    Plan p = plan_of("web = rx | bpf \"tcp port 80\"\nweb | count\nweb | tx 1");
    const PlanNode& bpf = node(p, "bpf#1");
    EXPECT_EQ(targets(p, "bpf#1", 0), (Names{"count#1", "tx#1"}));
    EXPECT_EQ(bpf.routing.single, 0) << "two edges: no burst moves whole";
}

TEST(Plan, ASingleSuccessorTakesWholeBursts) {
    Plan p = plan_of("rx | bpf \"udp\" | count");
    const PlanNode& bpf = node(p, "bpf#1");
    ASSERT_EQ(bpf.successors.size(), 1u);
    EXPECT_EQ(bpf.routing.single, 1);
}

TEST(Plan, ClassEdgesSelectPacketsByClass) {
    Plan p = plan_of("p = rx | ipproto\np |17 count name=udp\np |6 count name=tcp");
    EXPECT_EQ(targets(p, "ipproto#1", 17), (Names{"udp"}));
    EXPECT_EQ(targets(p, "ipproto#1", 6), (Names{"tcp"}));
    EXPECT_TRUE(targets(p, "ipproto#1", 1).empty());
    EXPECT_EQ(node(p, "ipproto#1").routing.lookup(1).end_reason, kUnclassified);
}

TEST(Plan, ElseTakesEveryClassNoSiblingEdgeTakes) {
    Plan p = plan_of("p = rx | ipproto\np |17 count name=udp\np |else count name=other");
    EXPECT_EQ(targets(p, "ipproto#1", 17), (Names{"udp"}));
    EXPECT_EQ(targets(p, "ipproto#1", 6), (Names{"other"}));
    EXPECT_EQ(targets(p, "ipproto#1", kNoClass), (Names{"other"}));
}

TEST(Plan, AnEdgeWithoutClassTakesEveryClassBesideTheClassEdges) {
    Plan p = plan_of("p = rx | ipproto\np | count name=all\np |17 count name=udp");
    EXPECT_EQ(targets(p, "ipproto#1", 17), (Names{"all", "udp"}));
    EXPECT_EQ(targets(p, "ipproto#1", 6), (Names{"all"}));
    EXPECT_EQ(node(p, "ipproto#1").routing.single, 0) << "class edges: packets do not all go one way";
}

TEST(Plan, ABranchWithoutSinkEndsAsEndOfPipeline) {
    Plan p = plan_of("rx | count");
    const PlanNode& count = node(p, "count#1");
    EXPECT_TRUE(count.ends_paths());
    EXPECT_TRUE(count.routing.lookup(0).edges.empty());
    EXPECT_EQ(count.routing.lookup(0).end_reason, kEndOfPipeline);
}

TEST(Plan, ASinkWithTheSameArgumentsIsOneNode) {
    Plan p = plan_of("rx | bpf \"tcp\" | tx 1\nrx | bpf \"udp\" | tx 1\nrx | count | tx 2");
    EXPECT_EQ(targets(p, "bpf#1", 0), (Names{"tx#1"}));
    EXPECT_EQ(targets(p, "bpf#2", 0), (Names{"tx#1"}));
    EXPECT_EQ(targets(p, "count#1", 0), (Names{"tx#2"}));
    EXPECT_EQ(p.nodes().size(), 6u);  // parse, 2 bpf, 2 tx, count
}

TEST(Plan, NodesAreNamedByFilterAndNumberUnlessNamed) {
    Plan p = plan_of("rx | count | count name=second | count");
    EXPECT_NE(p.find("count#1"), nullptr);
    EXPECT_NE(p.find("second"), nullptr);
    EXPECT_NE(p.find("count#3"), nullptr);
}

TEST(Plan, EqualSignaturesMeanEqualFiltersWhateverTheName) {
    Plan p = plan_of("rx | bpf \"tcp\" name=a\nrx | bpf \"tcp\" name=b\nrx | bpf \"udp\" name=c");
    EXPECT_EQ(node(p, "a").signature, node(p, "b").signature);
    EXPECT_NE(node(p, "a").signature, node(p, "c").signature);
    EXPECT_EQ(node(p, "a").args.positional_count(), 1u) << "name= is the node's, not the filter's";
}

TEST(Plan, EachNodeCarriesWhatItsTypeReads) {
    Plan p = plan_of("p = rx | ipproto\np |6 count\nrx | bpf \"tcp\" | match \"GET\"");
    EXPECT_EQ(node(p, "count#1").access, Access::metadata);
    EXPECT_EQ(node(p, "bpf#1").access, Access::headers);
    EXPECT_EQ(node(p, "match#1").access, Access::payload);
}

TEST(Plan, OnlyFiltersThatReadWhatTheParserFindsNeedTheParse) {
    Plan p = plan_of("p = rx | ipproto\np |6 count | tx 1\nrx | bpf \"tcp\" | match \"GET\"");
    EXPECT_TRUE(node(p, "ipproto#1").reads_parsed) << "a classifier on parsed fields";
    EXPECT_TRUE(node(p, "match#1").reads_parsed) << "it finds the payload by the parsed offsets";
    EXPECT_FALSE(node(p, "count#1").reads_parsed);
    EXPECT_FALSE(node(p, "tx#1").reads_parsed);
    EXPECT_FALSE(node(p, "bpf#1").reads_parsed) << "bpf reads the bytes itself";
    EXPECT_FALSE(node(p, "parse").reads_parsed) << "the input node only reads the input port";
}

TEST(Plan, AStreamsShadowPolicyServesItsReaders) {
    Plan p = plan_of("web = rx | bpf \"tcp\"\nweb | match \"GET\"\nrx | match \"POST\"\nshadow web copy-once");
    EXPECT_EQ(shadow::policy_name(node(p, "match#1").policy), "copy-once");
    EXPECT_EQ(shadow::policy_name(node(p, "match#2").policy), "hybrid");
    EXPECT_EQ(shadow::policy_name(node(p, "bpf#1").policy), "hybrid");
}

TEST(Plan, ThePolicyPassesToStreamsNamedAfterTheStream) {
    Plan p = plan_of("web = rx | bpf \"tcp\"\nget = web | match \"GET\"\nget | count\nshadow web zero-copy");
    EXPECT_EQ(shadow::policy_name(node(p, "count#1").policy), "zero-copy");
}

TEST(Plan, TheFirstReaderOfAPrefetchStreamPullsWholePackets) {
    Plan p = plan_of("web = rx | bpf \"tcp\"\nweb | count | count\nshadow web prefetch");
    EXPECT_TRUE(node(p, "count#1").pulls_ahead);
    EXPECT_FALSE(node(p, "count#2").pulls_ahead);
    EXPECT_FALSE(node(p, "bpf#1").pulls_ahead);
}

TEST(PlanErrors, AnUnknownFilterSuggestsTheNearestName) {
    EXPECT_EQ(error_of("rx | cuont"), "t.sl:1:6: error: unknown filter 'cuont'\n  rx | cuont\n       ^\n"
                                      "  did you mean 'count'?");
}

TEST(PlanErrors, AnUnknownFilterFarFromAnyNameListsThemAll) {
    EXPECT_EQ(error_of("rx | xyzzy"), "t.sl:1:6: error: unknown filter 'xyzzy'\n  rx | xyzzy\n       ^\n"
                                      "  known filters: bpf, count, ipproto, match, pcap, tx");
}

TEST(PlanErrors, RxOnlyStartsAPipeline) {
    EXPECT_EQ(error_of("rx | count | rx"), "t.sl:1:14: error: 'rx' can only start a pipeline\n"
                                           "  rx | count | rx\n               ^");
}

TEST(PlanErrors, AnUnknownStreamSuggestsADefinedOne) {
    EXPECT_EQ(error_of("web = rx | count\nwbe | count"), "t.sl:2:1: error: unknown stream 'wbe'\n  wbe | count\n"
                                                        "  ^\n  did you mean 'web'?");
}

TEST(PlanErrors, APipelineCannotStartWithAFilter) {
    EXPECT_EQ(error_of("count | tx 1"), "t.sl:1:1: error: a pipeline starts with 'rx' or a stream name, not the "
                                        "filter 'count'\n  count | tx 1\n  ^\n  write: rx | count");
}

TEST(PlanErrors, RxNBeyondTheInputsNamesTheRange) {
    EXPECT_EQ(error_of("rx 2 | count", 2), "t.sl:1:1: error: rx 2: there are only 2 inputs (rx 0 to rx 1)\n"
                                           "  rx 2 | count\n  ^");
}

TEST(PlanErrors, TwoNodesCannotShareAName) {
    EXPECT_EQ(error_of("rx | count name=c\nrx | count name=c"),
              "t.sl:2:6: error: two nodes are named 'c'\n  rx | count name=c\n       ^\n  give each a different name=");
}

TEST(PlanErrors, ANodeNameMustBeSpellable) {
    EXPECT_NE(error_of("rx | count name=\"a b\"").find("t.sl:1:18: error: 'a b' is not a valid node name"),
              std::string::npos);
}

TEST(PlanErrors, AStreamIsDefinedOnce) {
    EXPECT_EQ(error_of("web = rx | count\nweb = rx | bpf \"tcp\""),
              "t.sl:2:1: error: stream 'web' is defined twice\n  web = rx | bpf \"tcp\"\n  ^\n"
              "  the first definition is on line 1");
}

TEST(PlanErrors, AStreamCannotTakeAFiltersName) {
    EXPECT_NE(error_of("count = rx | bpf \"tcp\"").find("'count' is a filter name; choose another stream name"),
              std::string::npos);
}

TEST(PlanErrors, AStreamThatSelectsAClassTakesNoSecondClassEdge) {
    EXPECT_EQ(error_of("one = rx 0\none |6 count"), "t.sl:2:5: error: this stream already selects a class; add a "
                                                    "filter before '|N'\n  one |6 count\n      ^");
}

TEST(PlanErrors, AClassEdgeFollowsAClassifier) {
    EXPECT_EQ(error_of("rx | bpf \"tcp\" |6 count"),
              "t.sl:1:16: error: '|6' follows bpf#1, which sets no class (every packet it passes has class 0)\n"
              "  rx | bpf \"tcp\" |6 count\n                 ^\n  a class edge follows a classifier: ipproto, match");
    EXPECT_EQ(error_of("c = rx | count\nc |else count"),
              "t.sl:2:3: error: '|else' follows count#1, which sets no class (every packet it passes has class 0)\n"
              "  c |else count\n    ^\n  a class edge follows a classifier: ipproto, match");
    // A classifier, and rx's own class edges, are fine.
    EXPECT_EQ(error_of("p = rx | ipproto\np |6 count\np |else count\nrx 1 | count", 2), "(no error)");
}

TEST(PlanErrors, ASinkFedItsOwnOutputIsALoop) {
    EXPECT_EQ(error_of("a = rx | tx 1 | count\na | tx 1"),
              "t.sl:2:3: error: this edge makes a loop through 'tx#1'\n  a | tx 1\n    ^");
}

TEST(PlanErrors, MoreThan255BranchesAreRefused) {
    // A packet holds a graph reference per branch it is on, in 8 bits.
    auto readers = [](int n) {
        std::string text = "a = rx | count\n";
        for (int i = 0; i < n; i++) text += "a | count name=x" + std::to_string(i) + "\n";
        return text;
    };
    EXPECT_EQ(error_of(readers(255)), "(no error)");
    EXPECT_EQ(error_of(readers(256)), "t.sl:1:8: error: a packet could be on 256 branches at once; at most 255 are "
                                      "allowed\n  a = rx | count\n         ^");
}

TEST(PlanErrors, AShadowSettingNamesADefinedStream) {
    EXPECT_EQ(error_of("web = rx | bpf \"tcp\"\nweb | count\nshadow wbe copy-once"),
              "t.sl:3:8: error: shadow: unknown stream 'wbe'\n  shadow wbe copy-once\n         ^\n"
              "  did you mean 'web'?");
}

TEST(PlanErrors, AShadowSettingNamesARealPolicy) {
    EXPECT_NE(error_of("web = rx | count\nshadow web lazy").find("t.sl:2:12: error: the shadow policy is zero-copy"),
              std::string::npos);
}

TEST(PlanErrors, AStreamHasOneShadowPolicy) {
    EXPECT_EQ(error_of("web = rx | count\nshadow web hybrid\nshadow web prefetch"),
              "t.sl:3:8: error: stream 'web' has two shadow policies\n  shadow web prefetch\n         ^\n"
              "  the first is on line 2");
}
