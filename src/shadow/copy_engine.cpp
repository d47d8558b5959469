#include "shadow/copy_engine.hpp"

#include <algorithm>
#include <cstring>
#include <vector>

#include <fmt/format.h>
#include <rte_cycles.h>
#include <rte_dmadev.h>
#include <rte_errno.h>
#include <rte_malloc.h>
#include <rte_memcpy.h>
#include <rte_memory.h>

#include <sl/error.hpp>

namespace sl::shadow {

void Counters::add(const Counters& o) {
    bytes_zero_copy += o.bytes_zero_copy;
    bytes_pulled += o.bytes_pulled;
    bytes_copied_dma += o.bytes_copied_dma;
    bytes_copied_cpu += o.bytes_copied_cpu;
    dma_batches += o.dma_batches;
    dma_wait_cycles += o.dma_wait_cycles;
    dma_fallbacks += o.dma_fallbacks;
    shadow_full += o.shadow_full;
}

namespace {

void cpu_copy(const CopyRequest& r, Counters& c) noexcept {
    rte_memcpy(r.dst, r.src, r.length);
    c.bytes_copied_cpu += r.length;
}

class CpuEngine final : public CopyEngine {
public:
    std::string name() const override { return "cpu"; }
    void submit(const CopyRequest* requests, uint32_t count, Counters& c) noexcept override {
        for (uint32_t i = 0; i < count; i++) cpu_copy(requests[i], c);
    }
    void wait(PacketBits&, Counters&) noexcept override {}
};

class DmaEngine final : public CopyEngine {
public:
    explicit DmaEngine(const DmaConfig& config)
        : config_(config), timeout_cycles_(config.timeout_us * rte_get_tsc_hz() / 1000000) {
        rte_dma_info info{};
        rte_dma_info_get(config.device, &info);
        name_ = info.dev_name ? info.dev_name : fmt::format("dma{}", config.device);
        // The descriptors in flight: each is one request of the batch.
        in_flight_.resize(std::max<uint16_t>(info.max_desc, 64));
        status_.resize(in_flight_.size());
    }

    std::string name() const override { return name_ + (stopped_ ? " (stopped: cpu)" : ""); }

    void submit(const CopyRequest* requests, uint32_t count, Counters& c) noexcept override {
        requests_ = requests;
        for (uint32_t i = 0; i < count; i++) {
            const CopyRequest& r = requests[i];
            if (stopped_ || r.length < config_.min_bytes || r.src_iova == RTE_BAD_IOVA || r.dst_iova == RTE_BAD_IOVA) {
                cpu_copy(r, c);
                continue;
            }
            if (pending_ == in_flight_.size()) {
                ring_doorbell(c);
                PacketBits ignored{};
                drain(ignored, c, false);
            }
            int idx = rte_dma_copy(config_.device, config_.vchan, r.src_iova, r.dst_iova, r.length, 0);
            if (idx == -ENOSPC) {
                // The ring is full: let the engine finish what it has, then go on.
                ring_doorbell(c);
                PacketBits ignored{};
                drain(ignored, c, false);
                idx = rte_dma_copy(config_.device, config_.vchan, r.src_iova, r.dst_iova, r.length, 0);
            }
            if (idx < 0) {
                cpu_copy(r, c);
                c.dma_fallbacks++;
                continue;
            }
            in_flight_[pending_++] = i;
            c.bytes_copied_dma += r.length;
            unsubmitted_ = true;
        }
        ring_doorbell(c);
    }

    void wait(PacketBits& failed, Counters& c) noexcept override { drain(failed, c, true); }

private:
    void ring_doorbell(Counters& c) noexcept {
        if (!unsubmitted_) return;
        rte_dma_submit(config_.device, config_.vchan);
        unsubmitted_ = false;
        c.dma_batches++;
    }

    // Polls completions until every submitted copy is accounted for. Copies
    // complete in order on one channel, so done_ indexes in_flight_.
    void drain(PacketBits& failed, Counters& c, bool report) noexcept {
        if (done_ == pending_) {
            done_ = pending_ = 0;
            return;
        }
        uint64_t start = rte_get_tsc_cycles();
        while (done_ < pending_) {
            uint16_t last = 0;
            uint16_t want = static_cast<uint16_t>(std::min<size_t>(pending_ - done_, UINT16_MAX));
            uint16_t got = rte_dma_completed_status(config_.device, config_.vchan, want, &last, status_.data());
            for (uint16_t k = 0; k < got; k++) {
                if (status_[k] != RTE_DMA_STATUS_SUCCESSFUL) {
                    const CopyRequest& r = requests_[in_flight_[done_ + k]];
                    c.bytes_copied_dma -= r.length;
                    if (report) mark(failed, r.packet);
                    else {
                        cpu_copy(r, c);  // nobody to report to: redo it
                        c.dma_fallbacks++;
                    }
                }
            }
            done_ += got;
            if (got == 0 && rte_get_tsc_cycles() - start > timeout_cycles_) {
                // The engine stopped answering. Stop it, so that no late copy
                // lands in a shadow reused by a later burst, and let the CPU
                // do these copies and every later one.
                rte_dma_stop(config_.device);
                stopped_ = true;
                for (; done_ < pending_; done_++) {
                    const CopyRequest& r = requests_[in_flight_[done_]];
                    c.bytes_copied_dma -= r.length;
                    cpu_copy(r, c);
                    c.dma_fallbacks++;
                }
            }
        }
        c.dma_wait_cycles += rte_get_tsc_cycles() - start;
        done_ = pending_ = 0;
    }

    DmaConfig config_;
    uint64_t timeout_cycles_;
    std::string name_;
    const CopyRequest* requests_ = nullptr;
    std::vector<uint32_t> in_flight_;  // request index of each copy submitted, in order
    std::vector<rte_dma_status_code> status_;
    size_t pending_ = 0;
    size_t done_ = 0;
    bool unsubmitted_ = false;
    bool stopped_ = false;
};

}  // namespace

std::unique_ptr<CopyEngine> make_cpu_engine() { return std::make_unique<CpuEngine>(); }
std::unique_ptr<CopyEngine> make_dma_engine(const DmaConfig& config) { return std::make_unique<DmaEngine>(config); }

int16_t configure_dma_device(const std::string& device, uint16_t vchans, uint16_t& vchans_set) {
    int id = rte_dma_get_dev_id_by_name(device.c_str());
    if (id < 0) {
        char* end = nullptr;
        long n = std::strtol(device.c_str(), &end, 10);
        if (!device.empty() && *end == '\0' && n >= 0 && n < INT16_MAX && rte_dma_is_valid(static_cast<int16_t>(n)))
            id = static_cast<int>(n);
    }
    if (id < 0) {
        std::string known;
        for (int16_t d = rte_dma_next_dev(0); d >= 0; d = rte_dma_next_dev(static_cast<int16_t>(d + 1))) {
            rte_dma_info info{};
            if (rte_dma_info_get(d, &info) == 0) known += fmt::format("{}{}", known.empty() ? "" : ", ", info.dev_name);
        }
        throw RuntimeError(fmt::format("--dma {}: no such DMA device ({}; a software one: --vdev=dma_skeleton)", device,
                                       known.empty() ? "the EAL found none" : "there are " + known));
    }
    auto dev = static_cast<int16_t>(id);
    rte_dma_info info{};
    if (rte_dma_info_get(dev, &info) != 0) throw RuntimeError(fmt::format("--dma {}: cannot read its capabilities", device));
    if (!(info.dev_capa & RTE_DMA_CAPA_MEM_TO_MEM))
        throw RuntimeError(fmt::format("--dma {}: the device cannot copy memory to memory", device));
    vchans_set = std::min<uint16_t>(vchans, info.max_vchans);
    rte_dma_conf conf{};
    conf.nb_vchans = vchans_set;
    if (rte_dma_configure(dev, &conf) != 0)
        throw RuntimeError(fmt::format("--dma {}: cannot configure it: {}", device, rte_strerror(rte_errno)));
    for (uint16_t v = 0; v < vchans_set; v++) {
        rte_dma_vchan_conf vconf{};
        vconf.direction = RTE_DMA_DIR_MEM_TO_MEM;
        vconf.nb_desc = std::clamp<uint16_t>(1024, info.min_desc, info.max_desc);
        if (rte_dma_vchan_setup(dev, v, &vconf) != 0)
            throw RuntimeError(fmt::format("--dma {}: cannot set up channel {}", device, v));
    }
    if (rte_dma_start(dev) != 0) throw RuntimeError(fmt::format("--dma {}: cannot start it", device));
    return dev;
}

void stop_dma_device(int16_t device) noexcept {
    rte_dma_stop(device);
    rte_dma_close(device);
}

uint32_t measure_crossover(int16_t device, uint16_t vchan, int socket) {
    constexpr uint32_t kSizes[] = {256, 1024, 4096, 16384, 65536};
    constexpr uint32_t kBatch = 32;
    constexpr int kRounds = 8;
    size_t bytes = size_t{kBatch} * kSizes[std::size(kSizes) - 1];
    auto* src = static_cast<uint8_t*>(rte_malloc_socket("sl_dma_probe", bytes, 64, socket));
    auto* dst = static_cast<uint8_t*>(rte_malloc_socket("sl_dma_probe", bytes, 64, socket));
    uint32_t crossover = UINT32_MAX;
    if (src && dst) {
        std::memset(src, 0x5a, bytes);
        std::memset(dst, 0, bytes);
        DmaConfig config;
        config.device = device;
        config.vchan = vchan;
        auto dma = make_dma_engine(config);
        auto cpu = make_cpu_engine();
        std::vector<CopyRequest> requests(kBatch);
        for (uint32_t size : kSizes) {
            // rte_mem_virt2iova, not rte_malloc_virt2iova: that one reads the
            // allocation's header in front of the pointer, so it takes only
            // the start of an allocation.
            for (uint32_t i = 0; i < kBatch; i++)
                requests[i] = {dst + size_t{i} * size, rte_mem_virt2iova(dst + size_t{i} * size), src + size_t{i} * size,
                               rte_mem_virt2iova(src + size_t{i} * size), size, static_cast<uint16_t>(i)};
            auto time = [&](CopyEngine& e) {
                uint64_t best = UINT64_MAX;
                for (int round = 0; round < kRounds; round++) {
                    Counters c;
                    PacketBits failed{};
                    uint64_t t0 = rte_get_tsc_cycles();
                    e.submit(requests.data(), kBatch, c);
                    e.wait(failed, c);
                    best = std::min(best, rte_get_tsc_cycles() - t0);
                }
                return best;
            };
            if (time(*dma) <= time(*cpu)) {
                crossover = size;
                break;
            }
        }
    }
    rte_free(src);
    rte_free(dst);
    return crossover;
}

}  // namespace sl::shadow
