// An app's option table: getopt's rules for what a command line may say, the
// exit status of a usage error, and the usage text made from the table.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/options.hpp"

using sl::core::OptionTable;

namespace {

struct App {
    std::string config, json, interval;
    bool quiet = false, verbose = false;
    uint16_t burst = 32;
    double duration = 0;
    OptionTable table{"app", "[options] FILE...", "Does things.\n", "Exit status: 0.\n"};

    App() {
        table.text("", 'c', "FILE", "read the pipelines from FILE", config)
            .text("stats-json", 0, "FILE", "write statistics as JSON", json)
            .text("stats-interval", 0, "S", "print rates every S seconds", interval)
            .number("burst", "N", "packets per call", 1, 256, burst)
            .seconds("duration", "S", "stop after S seconds", duration)
            .flag("quiet", 'q', "no table", [this] { quiet = true; })
            .flag("verbose", 'v', "more lines\nand more", [this] { verbose = true; })
            .flag("help", 'h', "this text", [] {});
    }
    std::optional<int> parse(std::vector<std::string> args) { return table.parse(args, positional); }
    std::vector<std::string> positional;
};

}  // namespace

TEST(Options, ValuesComeAttachedOrInTheNextArgument) {
    App a;
    EXPECT_EQ(a.parse({"-cx.sl", "--stats-json=s.json", "--burst", "64", "in.pcap"}), std::nullopt);
    EXPECT_EQ(a.config, "x.sl");
    EXPECT_EQ(a.json, "s.json");
    EXPECT_EQ(a.burst, 64);
    EXPECT_EQ(a.positional, std::vector<std::string>{"in.pcap"});
}

TEST(Options, FlagsGroupBehindOneDash) {
    App a;
    EXPECT_EQ(a.parse({"-qv", "-c", "x.sl"}), std::nullopt);
    EXPECT_TRUE(a.quiet);
    EXPECT_TRUE(a.verbose);
    EXPECT_EQ(a.config, "x.sl");
}

TEST(Options, TheFirstPositionalArgumentOrADoubleDashEndsTheOptions) {
    App a;
    EXPECT_EQ(a.parse({"-q", "one.pcap", "-v"}), std::nullopt);
    EXPECT_FALSE(a.verbose);
    EXPECT_EQ(a.positional, (std::vector<std::string>{"one.pcap", "-v"}));
    App b;
    EXPECT_EQ(b.parse({"--", "-q"}), std::nullopt);
    EXPECT_FALSE(b.quiet);
    EXPECT_EQ(b.positional, std::vector<std::string>{"-q"});
}

TEST(Options, ALongOptionMayBeCutWhereItIsUnambiguous) {
    App a;
    EXPECT_EQ(a.parse({"--dur", "2.5", "--qui"}), std::nullopt);
    EXPECT_EQ(a.duration, 2.5);
    EXPECT_TRUE(a.quiet);
    EXPECT_EQ(App().parse({"--stats", "x"}), 2) << "--stats-json or --stats-interval";
}

TEST(Options, UsageErrorsExitTwo) {
    EXPECT_EQ(App().parse({"--bogus"}), 2);
    EXPECT_EQ(App().parse({"-x"}), 2);
    EXPECT_EQ(App().parse({"-c"}), 2) << "a missing value";
    EXPECT_EQ(App().parse({"--burst", "0"}), 2) << "out of range";
    EXPECT_EQ(App().parse({"--duration", "soon"}), 2);
    EXPECT_EQ(App().parse({"--quiet=yes"}), 2) << "a flag takes no value";
}

TEST(Options, HelpExitsZeroWhereverItIs) {
    EXPECT_EQ(App().parse({"--help"}), 0);
    EXPECT_EQ(App().parse({"-qh"}), 0);
}

TEST(Options, TheUsageTextListsEveryOptionWithItsHelp) {
    std::string usage = App().table.usage();
    EXPECT_EQ(usage.substr(0, usage.find('\n')), "usage: app [options] FILE...");
    EXPECT_NE(usage.find("\n  -c FILE               read the pipelines from FILE\n"), std::string::npos) << usage;
    EXPECT_NE(usage.find("\n  --stats-json FILE     write statistics as JSON\n"), std::string::npos) << usage;
    EXPECT_NE(usage.find("\n  -v, --verbose         more lines\n                        and more\n"), std::string::npos)
        << usage;
    EXPECT_EQ(usage.substr(usage.size() - 16), "Exit status: 0.\n");
}
