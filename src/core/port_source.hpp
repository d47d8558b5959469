// Feeds the graph of one worker from the receive queues dealt to it.
#pragma once

#include <atomic>
#include <vector>

#include "core/ports.hpp"
#include "io/source.hpp"

namespace sl::core {

class PortSource final : public io::Source {
public:
    PortSource(std::vector<RxQueue> queues, uint16_t burst, const std::atomic<bool>* stop, io::PacketNeeds needs);

    // Polls each queue at most once, up to `max` packets in all, starting
    // where the last call stopped so that no queue is favoured.
    uint16_t read(rte_mbuf** packets, uint16_t max, uint16_t& input) noexcept override;
    bool done() const noexcept override { return stop_->load(std::memory_order_relaxed); }

private:
    std::vector<RxQueue> queues_;
    uint16_t burst_;
    size_t next_ = 0;
    const std::atomic<bool>* stop_;
    io::PacketNeeds needs_;
};

}  // namespace sl::core
