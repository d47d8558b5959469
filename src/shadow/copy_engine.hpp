// Copy engines: what moves payload bytes into shadows. A burst's pulls are
// submitted together and waited for once, before the filters that need them
// run: a DMA engine (DPDK dmadev) then costs one doorbell and one completion
// poll per burst, not per packet.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>

#include <rte_memory.h>

namespace sl::shadow {

// What a node's reads cost, in the table and in --stats-json.
struct Counters {
    uint64_t bytes_zero_copy = 0;   // bytes a filter could read that were served in place
    uint64_t bytes_pulled = 0;      // bytes brought into shadows (= dma + cpu)
    uint64_t bytes_copied_dma = 0;
    uint64_t bytes_copied_cpu = 0;
    uint64_t dma_batches = 0;       // submits to a DMA engine
    uint64_t dma_wait_cycles = 0;   // TSC cycles spent waiting for completions
    uint64_t dma_fallbacks = 0;     // copies the CPU did because the DMA engine could not
    uint64_t shadow_full = 0;       // packets served in place because the shadow memory was full
    void add(const Counters& o);
};

struct CopyRequest {
    uint8_t* dst;
    rte_iova_t dst_iova;  // RTE_BAD_IOVA: only the CPU can copy it
    const uint8_t* src;
    rte_iova_t src_iova;
    uint32_t length;
    uint16_t packet;  // index in the burst, to report a failed copy
};

// One bit per packet (or shadow slot) of a burst.
using PacketBits = std::array<uint64_t, 4>;
inline void mark(PacketBits& s, uint16_t i) { s[i >> 6] |= uint64_t{1} << (i & 63); }
inline bool marked(const PacketBits& s, uint16_t i) { return s[i >> 6] >> (i & 63) & 1; }

class CopyEngine {
public:
    virtual ~CopyEngine() = default;
    virtual std::string name() const = 0;
    // Starts every copy; `requests` must stay valid until wait() returns.
    virtual void submit(const CopyRequest* requests, uint32_t count, Counters& c) noexcept = 0;
    // Returns when every submitted copy is done or has failed (marked in
    // `failed`). Bounded: a copy that never completes is redone by the CPU.
    virtual void wait(PacketBits& failed, Counters& c) noexcept = 0;
};

// rte_memcpy on the calling lcore: copies in submit(), nothing to wait for.
std::unique_ptr<CopyEngine> make_cpu_engine();

struct DmaConfig {
    int16_t device = -1;
    uint16_t vchan = 0;
    uint32_t min_bytes = 0;     // copies below this go to the CPU (the crossover)
    uint64_t timeout_us = 10000; // a completion later than this is given up
};

// A DPDK dmadev virtual channel, configured and started by the caller
// (configure_dma_device). Copies shorter than min_bytes, or whose memory has
// no IOVA, are done by the CPU.
std::unique_ptr<CopyEngine> make_dma_engine(const DmaConfig& config);

// Sets up `device` (a name or an id) with `vchans` memory-to-memory channels
// and starts it. Returns its id; throws RuntimeError with the reason.
int16_t configure_dma_device(const std::string& device, uint16_t vchans, uint16_t& vchans_set);
void stop_dma_device(int16_t device) noexcept;

// The copy size from which the DMA engine beats rte_memcpy on this machine:
// times batches of copies of a few sizes both ways. UINT32_MAX when the
// engine never wins.
uint32_t measure_crossover(int16_t device, uint16_t vchan, int socket);

}  // namespace sl::shadow
