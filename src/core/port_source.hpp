// Feeds the graph of one worker from the receive queues dealt to it.
#pragma once

#include <atomic>
#include <vector>

#include "core/ports.hpp"
#include "graph/runtime.hpp"

namespace sl::core {

class PortSource final : public graph::Source {
public:
    PortSource(std::vector<RxQueue> queues, uint16_t burst, const std::atomic<bool>* stop);

    // Polls each queue at most once, up to `max` packets in all, starting
    // where the last call stopped so that no queue is favoured.
    uint16_t read(rte_mbuf** packets, uint16_t max) noexcept override;

private:
    std::vector<RxQueue> queues_;
    uint16_t burst_;
    size_t next_ = 0;
    const std::atomic<bool>* stop_;
};

}  // namespace sl::core
