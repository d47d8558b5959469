// The pipeline language: what parses, into what, and the exact diagnostics.
#include <gtest/gtest.h>

#include <functional>

#include "lang/ast.hpp"
#include "sdk/suggest.hpp"

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

TEST(Lang, NamedStreamsWithClassEdges) {
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

TEST(Lang, AShadowSettingNamesAStreamWithAPolicy) {
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

TEST(LangErrors, AShadowSettingTakesExactlyOnePolicy) {
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
    EXPECT_EQ(sl::nearest("cuont", names), "count");
    EXPECT_EQ(sl::nearest("smaple", names), "sample");
    EXPECT_EQ(sl::nearest("xyzzy", names), "");
}

TEST(Args, AWrongNumberIsRefusedAtItsColumn) {
    auto p = lang::parse("rx | head ten", "t");
    const auto& st = p.pipelines[0].stages[0];
    Args args(st.filter, st.where, st.args);
    try {
        uint64_t n = 0;
        ArgReader(args).positional("N", n, 0, 100);
        FAIL() << "no error";
    } catch (const ConfigError& e) {
        EXPECT_EQ(e.format(), "t:1:11: error: head: N must be a number, not 'ten'\n  rx | head ten\n            ^");
    }
}

TEST(Args, AnUnknownKeySuggestsAKnownOne) {
    auto p = lang::parse("rx | bpf \"tcp\" jti=no", "t");
    const auto& st = p.pipelines[0].stages[0];
    Args args(st.filter, st.where, st.args);
    try {
        std::string jit_expression;
        bool jit = true;
        ArgReader(args).positional("expression", jit_expression).option("jit", jit).complete();
        FAIL() << "no error";
    } catch (const ConfigError& e) {
        EXPECT_EQ(e.format(), "t:1:16: error: bpf: unknown option 'jti'\n  rx | bpf \"tcp\" jti=no\n"
                              "                 ^\n  did you mean 'jit'?");
    }
}

namespace {

Args args_of(const std::string& stage_text) {
    auto p = lang::parse("rx | " + stage_text, "t");
    const auto& st = p.pipelines[0].stages[0];
    return Args(st.filter, st.where, st.args);
}

std::string error_of(const std::function<void()>& f) {
    try {
        f();
    } catch (const ConfigError& e) {
        return e.format();
    }
    return "(no error)";
}

}  // namespace

TEST(Args, AReaderTakesPositionalsInOrderAndKeysByName) {
    Args args = args_of("flow_top 7 file=\"x.txt\" top=3");
    uint64_t first = 0, top = 10, flows = 65536;
    std::string file;
    ArgReader(args).positional("N", first).option("top", top, 1, 100).option("flows", flows).option("file", file).complete();
    EXPECT_EQ(first, 7u);
    EXPECT_EQ(top, 3u);
    EXPECT_EQ(flows, 65536u);  // absent: the default stays
    EXPECT_EQ(file, "x.txt");
}

TEST(Args, WhatNoReaderTookIsRefusedAtItsColumn) {
    Args extra = args_of("head 5 6");
    uint64_t n = 0;
    ArgReader(extra).positional("N", n);
    EXPECT_EQ(error_of([&] { extra.check_all_read(); }),
              "t:1:13: error: head: takes at most 1 argument\n  rx | head 5 6\n              ^");
    Args none = args_of("count 1");
    EXPECT_EQ(error_of([&] { none.check_all_read(); }),
              "t:1:12: error: count: takes no arguments\n  rx | count 1\n             ^");
}

TEST(Args, AMissingPositionalIsNamed) {
    Args args = args_of("sample");
    uint64_t n = 0;
    EXPECT_EQ(error_of([&] { ArgReader(args).positional("N", n); }),
              "t:1:6: error: sample: missing N\n  rx | sample\n       ^");
}

TEST(Args, YesOrNoOptionsRefuseOtherWords) {
    Args args = args_of("bpf \"tcp\" jit=maybe");
    bool jit = true;
    const Arg* expression = nullptr;
    EXPECT_NE(error_of([&] { ArgReader(args).positional("expression", expression).option("jit", jit); })
                  .find("bpf: jit takes yes or no"),
              std::string::npos);
}
