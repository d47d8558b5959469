// Feeds the graph of one worker from the receive queues dealt to it.
#pragma once

#include <atomic>
#include <bitset>
#include <vector>

#include "core/ports.hpp"
#include "io/source.hpp"

namespace sl::core {

class PortSource final : public io::Source {
public:
    // Reads `burst` packets per receive call, and reads a queue on while it
    // fills them, up to `gather` packets per walk.
    PortSource(std::vector<RxQueue> queues, uint16_t burst, uint16_t gather, const std::atomic<bool>* stop,
               io::PacketNeeds needs);

    // Polls each queue in turn, starting where the last call stopped so
    // that no queue is favoured, up to `max` packets in all.
    uint16_t read(rte_mbuf** packets, uint16_t max, uint16_t& input) noexcept override;
    bool done() const noexcept override { return stop_->load(std::memory_order_relaxed); }
    void read_only(const std::vector<bool>& ports) noexcept override;

private:
    // Readies the `got` packets just received at packets[n]; returns n + got.
    uint16_t prepare(const RxQueue& q, rte_mbuf** packets, uint16_t n, uint16_t got, uint16_t& input,
                     uint64_t& now) noexcept;

    std::vector<RxQueue> queues_;
    std::bitset<RTE_MAX_ETHPORTS> polled_;  // the ports the graph reads
    uint16_t burst_;
    uint16_t gather_;
    size_t next_ = 0;
    const std::atomic<bool>* stop_;
    io::PacketNeeds needs_;
};

}  // namespace sl::core
