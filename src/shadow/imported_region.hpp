// An imported segment that DPDK does not own (a capture mapped from disk, a
// device's memory), registered as external memory the way device memory is
// attached: DPDK then knows its IOVAs (rte_mem_virt2iova), and devices bound
// to VFIO may DMA from it (a dmadev pulling payloads, a NIC sending them).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include <rte_memory.h>

namespace sl::shadow {

class ImportedRegion {
public:
    static constexpr size_t kMaxPages = size_t{1} << 20;  // 4 GiB of 4 KiB pages

    // Registers the pages that hold [addr, addr + length); `addr` must be
    // page-aligned (an mmap result). Never throws: a region DPDK refuses is
    // still read by the CPU, and why() says what happened.
    ImportedRegion(const void* addr, size_t length);
    ~ImportedRegion();
    ImportedRegion(const ImportedRegion&) = delete;
    ImportedRegion& operator=(const ImportedRegion&) = delete;

    bool registered() const noexcept { return registered_; }
    // One line for -v: what was registered, or why not.
    const std::string& why() const noexcept { return why_; }

private:
    void* addr_;
    size_t length_;  // whole pages
    rte_iova_t iova_ = RTE_BAD_IOVA;
    bool registered_ = false;
    bool dma_mapped_ = false;
    std::string why_;
};

}  // namespace sl::shadow
