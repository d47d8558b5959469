#include "shadow/engines.hpp"

#include <spdlog/spdlog.h>

namespace sl::shadow {

CopyEngines::CopyEngines(const ShadowOptions& options, unsigned workers, int socket) {
    if (options.dma_device.empty()) return;
    uint16_t vchans = 0;
    device_ = configure_dma_device(options.dma_device, static_cast<uint16_t>(workers), vchans);
    if (vchans < workers)
        spdlog::warn("--dma {} has {} channel{} for {} workers; the others copy with the CPU", options.dma_device,
                     vchans, vchans == 1 ? "" : "s", workers);
    if (options.dma_min_bytes) {
        min_bytes_ = *options.dma_min_bytes;
    } else {
        // Below the crossover a CPU copy is cheaper than a descriptor and a
        // completion; a software engine may never win.
        min_bytes_ = measure_crossover(device_, 0, socket);
        if (min_bytes_ == UINT32_MAX)
            spdlog::debug("dma: the CPU copied faster at every size measured; --dma-min-bytes forces the DMA engine");
        else
            spdlog::debug("dma: copies of {} bytes and more go to the DMA engine", min_bytes_);
    }
    for (uint16_t v = 0; v < vchans; v++) {
        DmaConfig config;
        config.device = device_;
        config.vchan = v;
        config.min_bytes = min_bytes_;
        engines_.push_back(make_dma_engine(config));
    }
}

CopyEngines::~CopyEngines() {
    engines_.clear();
    if (device_ >= 0) stop_dma_device(device_);
}

}  // namespace sl::shadow
