// The copy engines of a session: one per worker, on a DMA device's channels
// when --dma names one, the CPU otherwise.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "shadow/copy_engine.hpp"
#include "shadow/policy.hpp"

namespace sl::shadow {

// What both apps take on their command line.
struct ShadowOptions {
    PolicyConfig policy;                   // --shadow
    std::string dma_device;                // --dma: a dmadev name or id; empty: CPU copies
    std::optional<uint32_t> dma_min_bytes; // --dma-min-bytes; unset: measured at start
};

class CopyEngines {
public:
    // Starts the DMA device with a channel per worker (as many as it has;
    // the other workers copy with the CPU). Throws RuntimeError.
    CopyEngines(const ShadowOptions& options, unsigned workers, int socket);
    ~CopyEngines();
    CopyEngines(const CopyEngines&) = delete;
    CopyEngines& operator=(const CopyEngines&) = delete;

    // Worker w's engine; null when it copies with the CPU.
    CopyEngine* for_worker(unsigned w) const noexcept { return w < engines_.size() ? engines_[w].get() : nullptr; }
    uint32_t min_bytes() const noexcept { return min_bytes_; }

private:
    int16_t device_ = -1;
    uint32_t min_bytes_ = 0;
    std::vector<std::unique_ptr<CopyEngine>> engines_;
};

}  // namespace sl::shadow
