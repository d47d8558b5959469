// The EAL arguments the apps complete: what the user chose is kept, and only
// what is missing is added.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "core/eal.hpp"

namespace {

using Args = std::vector<std::string>;

size_t count_prefix(const Args& args, const std::string& prefix) {
    return static_cast<size_t>(
        std::count_if(args.begin(), args.end(), [&](const std::string& a) { return a.rfind(prefix, 0) == 0; }));
}

Args complete(const Args& user, bool pci = false, bool all_cpus = false, unsigned max_lcores = 0) {
    sl::core::EalConfig config;
    config.user_args = user;
    config.pci = pci;
    config.all_cpus = all_cpus;
    config.max_lcores = max_lcores;
    return sl::core::complete_eal_args(config);
}

TEST(EalArgs, NothingGivenGetsAWorkingSet) {
    Args a = complete({});
    EXPECT_EQ(count_prefix(a, "-l"), 1u);
    EXPECT_EQ(count_prefix(a, "--file-prefix=sl-"), 1u);
    EXPECT_EQ(count_prefix(a, "--no-shconf"), 1u);
    EXPECT_EQ(count_prefix(a, "--no-pci"), 1u);
    EXPECT_EQ(count_prefix(a, "--no-telemetry"), 1u);
    // Without free hugepages DPDK must not ask for them; with some it uses them.
    EXPECT_EQ(count_prefix(a, "--no-huge"), sl::core::hugepages_available() ? 0u : 1u);
}

TEST(EalArgs, WhatTheUserChoseIsKeptOnce) {
    Args a = complete({"--lcores=0@0,1@1", "--file-prefix=mine", "-m", "512", "--no-huge", "--telemetry"});
    EXPECT_EQ(count_prefix(a, "-l"), 0u);
    EXPECT_EQ(count_prefix(a, "--lcores"), 1u);
    EXPECT_EQ(count_prefix(a, "--file-prefix"), 1u);
    EXPECT_EQ(count_prefix(a, "--no-huge"), 1u);
    EXPECT_EQ(count_prefix(a, "-m"), 1u);
    EXPECT_EQ(count_prefix(a, "--no-telemetry"), 0u);
    // Short options with their value attached count as given.
    EXPECT_EQ(count_prefix(complete({"-c0x3"}), "-l"), 0u);
    EXPECT_EQ(count_prefix(complete({"-l", "1"}), "-l"), 1u);
}

TEST(EalArgs, NamedDevicesKeepThePciScan) {
    EXPECT_EQ(count_prefix(complete({"-a", "0000:3b:00.0"}), "--no-pci"), 0u);
    EXPECT_EQ(count_prefix(complete({"--allow=0000:3b:00.0"}), "--no-pci"), 0u);
    EXPECT_EQ(count_prefix(complete({"--vdev=net_null0"}), "--no-pci"), 1u);
}

TEST(EalArgs, AllCpusMakesOneLcorePerAllowedCpu) {
    Args a = complete({}, false, true);
    auto l = std::find(a.begin(), a.end(), "-l");
    ASSERT_NE(l, a.end());
    ASSERT_NE(l + 1, a.end());
    cpu_set_t set;
    CPU_ZERO(&set);
    ASSERT_EQ(sched_getaffinity(0, sizeof(set), &set), 0);
    EXPECT_EQ(static_cast<int>(std::count((l + 1)->begin(), (l + 1)->end(), ',')) + 1, CPU_COUNT(&set)) << *(l + 1);
}

TEST(EalArgs, WorkersChooseTheLcoresAndShareCpusWhenMore) {
    // sl-replay --workers N: N lcores; one on a one-CPU set.
    Args one = complete({}, false, true, 1);
    auto l = std::find(one.begin(), one.end(), "-l");
    ASSERT_NE(l, one.end());
    EXPECT_EQ((l + 1)->find(','), std::string::npos) << *(l + 1);
    // More workers than CPUs: lcore i on CPU i mod n, named by --lcores.
    unsigned cpus = sl::core::allowed_cpu_count();
    Args many = complete({}, false, true, cpus + 2);
    EXPECT_EQ(count_prefix(many, "-l"), 0u);
    auto lcores = std::find(many.begin(), many.end(), "--lcores");
    ASSERT_NE(lcores, many.end());
    ASSERT_NE(lcores + 1, many.end());
    const std::string& list = *(lcores + 1);
    EXPECT_EQ(static_cast<unsigned>(std::count(list.begin(), list.end(), '@')), cpus + 2) << list;
    EXPECT_NE(("," + list).find("," + std::to_string(cpus + 1) + "@"), std::string::npos) << list;
}

}  // namespace
