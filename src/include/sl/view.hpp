// A filter's read-only view of one packet's bytes.
//
// A packet's bytes live in an imported segment (mbuf data a NIC wrote, a
// record of a mapped capture file), possibly chained over several mbufs, and
// some of them may have been pulled into a shadow: local memory the runtime
// filled by the shadow-buffer policy before the filter ran. The view serves
// each byte from wherever it is, so a filter never knows which policy runs.
//
// The view also enforces the filter's declared access: a header-only filter
// sees the bytes up to the parsed payload offset, a metadata-only filter sees
// none, and no filter gets a mutable pointer through it.
//
//   sl::PacketView v = burst.view(i);
//   v.for_each_span(v.payload_offset(), v.size(), [&](const uint8_t* p, uint32_t n) {
//       scan(p, n);
//       return true;  // false stops the walk
//   });
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>

#include <rte_mbuf.h>

#include <sl/packet.hpp>

namespace sl {

namespace detail {
// Where the runtime put a packet's shadow: bytes [from, to) of the packet are
// at data[0 .. to - from). One entry per packet of the graph walk.
struct Shadow {
    const uint8_t* data = nullptr;
    uint32_t from = 0;
    uint32_t to = 0;
};
}  // namespace detail

class PacketView {
public:
    PacketView() noexcept = default;
    PacketView(const rte_mbuf* m, uint32_t limit, const detail::Shadow* shadow) noexcept
        : m_(m), size_(std::min(limit, rte_pktmbuf_pkt_len(m))), shadow_(shadow && shadow->data ? shadow : nullptr) {}

    // The bytes this filter may read: the captured bytes, or fewer when the
    // filter declared header-only access.
    uint32_t size() const noexcept { return size_; }
    const rte_mbuf* mbuf() const noexcept { return m_; }
    uint32_t payload_offset() const noexcept { return std::min<uint32_t>(meta(m_).payload_offset, size_); }

    // Calls f(const uint8_t* bytes, uint32_t length) for each contiguous piece
    // of [offset, offset + length), cut at size(). Stops early and returns
    // false when f returns false.
    template <class F>
    bool for_each_span(uint32_t offset, uint32_t length, F&& f) const {
        uint32_t end = offset + std::min(length, size_ > offset ? size_ - offset : 0u);
        const rte_mbuf* seg = m_;
        uint32_t seg_start = 0;  // packet offset of seg's first byte
        for (uint32_t pos = offset; pos < end;) {
            if (shadow_ && pos >= shadow_->from && pos < shadow_->to) {
                uint32_t n = std::min(end, shadow_->to) - pos;
                if (!f(shadow_->data + (pos - shadow_->from), n)) return false;
                pos += n;
                continue;
            }
            uint32_t stop = end;
            if (shadow_ && shadow_->from > pos) stop = std::min(stop, shadow_->from);
            while (seg && seg_start + seg->data_len <= pos) {
                seg_start += seg->data_len;
                seg = seg->next;
            }
            if (!seg) return true;  // a chain shorter than pkt_len: nothing more to read
            uint32_t n = std::min(stop, seg_start + seg->data_len) - pos;
            if (!f(rte_pktmbuf_mtod_offset(seg, const uint8_t*, pos - seg_start), n)) return false;
            pos += n;
        }
        return true;
    }

    // `length` contiguous bytes at `offset`: a pointer into the packet or its
    // shadow when they are contiguous there, else a copy in `scratch` (which
    // holds `length` bytes). Null when the range goes past size().
    const uint8_t* read(uint32_t offset, uint32_t length, void* scratch) const noexcept {
        if (offset > size_ || length > size_ - offset) return nullptr;
        const uint8_t* whole = nullptr;
        uint32_t copied = 0;
        for_each_span(offset, length, [&](const uint8_t* p, uint32_t n) {
            if (copied == 0 && n == length) {
                whole = p;
                return false;
            }
            std::memcpy(static_cast<uint8_t*>(scratch) + copied, p, n);
            copied += n;
            return true;
        });
        return whole ? whole : static_cast<const uint8_t*>(scratch);
    }

private:
    const rte_mbuf* m_ = nullptr;
    uint32_t size_ = 0;
    const detail::Shadow* shadow_ = nullptr;
};

}  // namespace sl
