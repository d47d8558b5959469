#include "shadow/imported_region.hpp"

#include <unistd.h>

#include <vector>

#include <fmt/format.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_vfio.h>

namespace sl::shadow {

ImportedRegion::ImportedRegion(const void* addr, size_t length) : addr_(const_cast<void*>(addr)) {
    const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
    length_ = (length + page - 1) / page * page;
    if (!addr || length == 0 || reinterpret_cast<uintptr_t>(addr) % page != 0) {
        why_ = "not registered: not a page-aligned region";
        return;
    }
    // Under IOVA-as-VA a device addresses the pages by their virtual
    // addresses. With physical addresses, file pages the kernel may evict
    // have none that stays valid: they stay CPU-only (RTE_BAD_IOVA).
    const size_t pages = length_ / page;
    // DPDK keeps a memseg (48 bytes) per page: past this many the bookkeeping
    // outweighs what registration offers, and the CPU reads the file as is.
    if (pages > kMaxPages) {
        why_ = fmt::format("not registered as external memory: {} pages, more than the {} ({} GiB) registered at most",
                           pages, kMaxPages, kMaxPages * page >> 30);
        return;
    }
    std::vector<rte_iova_t> iovas(pages, RTE_BAD_IOVA);
    if (rte_eal_iova_mode() == RTE_IOVA_VA) {
        iova_ = reinterpret_cast<rte_iova_t>(addr_);
        for (size_t i = 0; i < pages; i++) iovas[i] = iova_ + i * page;
    }
    if (rte_extmem_register(addr_, length_, iovas.data(), static_cast<unsigned>(pages), page) != 0) {
        why_ = fmt::format("not registered as external memory: {}", rte_strerror(rte_errno));
        return;
    }
    registered_ = true;
    // Devices bound to VFIO share the default container; the EAL maps only
    // its own memory into it, external memory is the owner's to map.
    if (iova_ != RTE_BAD_IOVA && rte_vfio_is_enabled("vfio") &&
        rte_vfio_container_dma_map(RTE_VFIO_DEFAULT_CONTAINER_FD, reinterpret_cast<uint64_t>(addr_), iova_,
                                   length_) == 0)
        dma_mapped_ = true;
    why_ = fmt::format("registered {} pages as external memory ({}), {}", pages,
                       iova_ == RTE_BAD_IOVA ? "no IOVA: CPU only" : "IOVA = VA",
                       dma_mapped_ ? "mapped for VFIO devices" : "no VFIO device to map it for");
}

ImportedRegion::~ImportedRegion() {
    if (!registered_) return;
    if (dma_mapped_)
        rte_vfio_container_dma_unmap(RTE_VFIO_DEFAULT_CONTAINER_FD, reinterpret_cast<uint64_t>(addr_), iova_, length_);
    rte_extmem_unregister(addr_, length_);
}

}  // namespace sl::shadow
