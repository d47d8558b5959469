// For a unit test program that needs DPDK: the EAL on one lcore, started once
// for the whole program, and a pool of small mbufs whose count the tests check
// to see that nothing leaked.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include <rte_mbuf.h>

#include "core/eal.hpp"

namespace sl_test {

class EalEnvironment : public ::testing::Environment {
public:
    // `extra`: EAL arguments beyond "-l 0" (virtual devices).
    EalEnvironment(std::string name, unsigned mbufs, std::vector<std::string> extra = {})
        : name_(std::move(name)), mbufs_(mbufs), extra_(std::move(extra)) {}
    void SetUp() override {
        sl::core::EalConfig eal;
        eal.user_args = {"-l", "0"};
        eal.user_args.insert(eal.user_args.end(), extra_.begin(), extra_.end());
        sl::core::start_eal(name_.c_str(), eal);
        pool_ = rte_pktmbuf_pool_create(name_.c_str(), mbufs_, 0, 0, 256 + RTE_PKTMBUF_HEADROOM, 0);
        ASSERT_NE(pool_, nullptr);
    }
    void TearDown() override {
        rte_mempool_free(pool_);
        sl::core::stop_eal();
    }
    rte_mempool* pool() const { return pool_; }

private:
    std::string name_;
    unsigned mbufs_;
    std::vector<std::string> extra_;
    rte_mempool* pool_ = nullptr;
};

}  // namespace sl_test
