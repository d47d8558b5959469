// The pipeline language: what parses, into what, and the exact diagnostics.
#include <gtest/gtest.h>

#include "lang/ast.hpp"

using namespace sl;
using lang::Edge;
using lang::Origin;

namespace {

std::string diagnostic(const std::string& text) {
    try {
        lang::parse(text, "test.sl");
    } catch (const ConfigError& e) {
        return e.format();
    }
    return "(no error)";
}

}  // namespace

TEST(Lang, PipelineWithArguments) {
    auto p = lang::parse("rx | bpf \"tcp port 80\" | count name=web | pcap 'out.pcap'", "t");
    ASSERT_EQ(p.pipelines.size(), 1u);
    const auto& pl = p.pipelines[0];
    EXPECT_EQ(pl.origin.kind, Origin::Kind::rx);
    EXPECT_FALSE(pl.origin.port);
    ASSERT_EQ(pl.stages.size(), 3u);
    EXPECT_EQ(pl.stages[0].filter, "bpf");
    ASSERT_EQ(pl.stages[0].args.size(), 1u);
    EXPECT_EQ(pl.stages[0].args[0].value, "tcp port 80");
    EXPECT_EQ(pl.stages[0].args[0].kind, Arg::Kind::string);
    EXPECT_EQ(pl.stages[0].args[0].value_where.column, 11);
    EXPECT_EQ(pl.stages[1].args[0].key, "name");
    EXPECT_EQ(pl.stages[1].args[0].value, "web");
    EXPECT_EQ(pl.stages[2].args[0].value, "out.pcap");
}

TEST(Lang, NamedStreamsClassEdgesAndElse) {
    auto p = lang::parse("p = rx 1 | ipproto\np |17 count\np |0x6 count\np |else drop\n", "t");
    ASSERT_EQ(p.pipelines.size(), 4u);
    EXPECT_EQ(*p.pipelines[0].name, "p");
    EXPECT_EQ(*p.pipelines[0].origin.port, 1u);
    EXPECT_EQ(p.pipelines[1].origin.kind, Origin::Kind::stream);
    EXPECT_EQ(p.pipelines[1].origin.stream, "p");
    EXPECT_EQ(p.pipelines[1].stages[0].edge.kind, Edge::Kind::cls);
    EXPECT_EQ(p.pipelines[1].stages[0].edge.cls, 17u);
    EXPECT_EQ(p.pipelines[2].stages[0].edge.cls, 6u);
    EXPECT_EQ(p.pipelines[3].stages[0].edge.kind, Edge::Kind::otherwise);
}

TEST(Lang, CommentsSemicolonsAndContinuation) {
    auto p = lang::parse("# a comment\nrx | count ; rx |\n   # between\n  head 5 |\n  drop  # end\n\n", "t");
    ASSERT_EQ(p.pipelines.size(), 2u);
    EXPECT_EQ(p.pipelines[1].stages.size(), 2u);
    EXPECT_EQ(p.pipelines[1].stages[1].filter, "drop");
    EXPECT_EQ(p.pipelines[1].stages[1].where.line, 5);
}

TEST(Lang, PipeWithoutSpaceBeforeFilterName) {
    auto p = lang::parse("rx |count", "t");
    EXPECT_EQ(p.pipelines[0].stages[0].filter, "count");
    EXPECT_EQ(p.pipelines[0].stages[0].edge.kind, Edge::Kind::all);
}

TEST(Lang, StringEscapes) {
    auto p = lang::parse(R"(rx | pcap "a\"b\\c")", "t");
    EXPECT_EQ(p.pipelines[0].stages[0].args[0].value, "a\"b\\c");
}

TEST(Lang, ShadowSettingsNameAStreamAndAPolicy) {
    auto p = lang::parse("web = rx | bpf \"tcp\"\nshadow web hybrid:64\nshadow = rx | count\nshadow | count", "t");
    ASSERT_EQ(p.shadow_settings.size(), 1u);
    EXPECT_EQ(p.shadow_settings[0].stream, "web");
    EXPECT_EQ(p.shadow_settings[0].policy, "hybrid:64");
    EXPECT_EQ(p.shadow_settings[0].policy_where.line, 2);
    EXPECT_EQ(p.shadow_settings[0].policy_where.column, 12);
    ASSERT_EQ(p.pipelines.size(), 3u) << "a stream may still be called shadow";
    EXPECT_EQ(*p.pipelines[1].name, "shadow");
    EXPECT_EQ(p.pipelines[2].origin.stream, "shadow");
}

TEST(LangErrors, ShadowSettingWithoutPolicyOrWithMore) {
    EXPECT_EQ(diagnostic("shadow web"), "test.sl:1:1: error: expected a shadow policy after 'shadow web', found end "
                                        "of input\n  shadow web\n  ^\n  zero-copy, copy-once, hybrid, hybrid:N or prefetch");
    EXPECT_NE(diagnostic("shadow web hybrid | count").find("1:19: error: unexpected | after the shadow policy"),
              std::string::npos);
    EXPECT_NE(diagnostic("shadow rx hybrid").find("1:8: error: 'rx' is not a stream name"), std::string::npos);
}

TEST(LangErrors, MissingPipe) {
    EXPECT_EQ(diagnostic("rx count"),
              "test.sl:1:4: error: expected '|' before 'count'\n  rx count\n     ^\n  filters are joined with '|'");
}

TEST(LangErrors, UnterminatedString) {
    EXPECT_EQ(diagnostic("rx | bpf \"tcp port 80"),
              "test.sl:1:10: error: unterminated string\n  rx | bpf \"tcp port 80\n           ^\n  close it with \"");
}

TEST(LangErrors, DanglingPipeAtEnd) {
    EXPECT_EQ(diagnostic("rx | count |"),
              "test.sl:1:12: error: expected a filter name after '|', found end of input\n  rx | count |\n"
              "             ^");
}

TEST(LangErrors, BadClassEdge) {
    EXPECT_EQ(diagnostic("p = rx | ipproto\np |17x count"),
              "test.sl:2:3: error: '|17x' is not a class edge\n  p |17x count\n    ^\n"
              "  write '|N' with N a number below 1073741823, or '|else'");
}

TEST(LangErrors, PipelineWithoutFilter) {
    EXPECT_EQ(diagnostic("rx\n"),
              "test.sl:1:1: error: a pipeline needs at least one filter\n  rx\n  ^\n  for example: rx | count");
}

TEST(LangErrors, UnexpectedCharacter) {
    EXPECT_EQ(diagnostic("rx | count $"), "test.sl:1:12: error: unexpected character '$'\n  rx | count $\n             ^");
}

TEST(LangErrors, StartsWithNumber) {
    EXPECT_EQ(diagnostic("42 | count"),
              "test.sl:1:1: error: expected 'rx' or a stream name, found 42\n  42 | count\n  ^");
}

TEST(LangErrors, MissingOptionValue) {
    EXPECT_EQ(diagnostic("rx | count name="),
              "test.sl:1:17: error: expected a value after 'name=', found end of input\n  rx | count name=\n"
              "                  ^");
}

TEST(Lang, NearestSuggestsCloseNamesOnly) {
    std::vector<std::string> names = {"bpf", "count", "sample", "head"};
    EXPECT_EQ(lang::nearest("cuont", names), "count");
    EXPECT_EQ(lang::nearest("smaple", names), "sample");
    EXPECT_EQ(lang::nearest("xyzzy", names), "");
}

TEST(Args, TypedGettersPointAtTheArgument) {
    auto p = lang::parse("rx | head ten", "t");
    const auto& st = p.pipelines[0].stages[0];
    Args args(st.filter, st.where, st.args);
    try {
        args.uint_at(0, "N", 0, 100);
        FAIL() << "no error";
    } catch (const ConfigError& e) {
        EXPECT_EQ(e.format(), "t:1:11: error: head: N must be a number, not 'ten'\n  rx | head ten\n            ^");
    }
}

TEST(Args, UnknownOptionSuggestsKnownOne) {
    auto p = lang::parse("rx | bpf \"tcp\" jti=no", "t");
    const auto& st = p.pipelines[0].stages[0];
    Args args(st.filter, st.where, st.args);
    try {
        args.expect(1, 1, {"jit"});
        FAIL() << "no error";
    } catch (const ConfigError& e) {
        EXPECT_EQ(e.format(), "t:1:16: error: bpf: unknown option 'jti'\n  rx | bpf \"tcp\" jti=no\n"
                              "                 ^\n  did you mean 'jit'?");
    }
}
