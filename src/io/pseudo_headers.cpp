#include "io/pseudo_headers.hpp"

#include <cstring>
#include <initializer_list>

#include <pcap/pcap.h>

namespace sl::io {
namespace {

// libpcap's values (pcap/dlt.h names them on every platform but these).
constexpr int kDltUsbLinux = 189;
constexpr int kDltUsbLinuxMmapped = 220;
constexpr int kDltNflog = 239;
constexpr int kDltLinuxSll2 = 276;
constexpr int kDltPflog = 117;

template <typename T>
T load(const uint8_t* p) noexcept {
    T v;
    std::memcpy(&v, p, sizeof v);
    return v;
}

template <typename T>
void swap_at(uint8_t* p) noexcept {
    T v = load<T>(p);
    if constexpr (sizeof(T) == 2) v = __builtin_bswap16(v);
    if constexpr (sizeof(T) == 4) v = __builtin_bswap32(v);
    if constexpr (sizeof(T) == 8) v = __builtin_bswap64(v);
    std::memcpy(p, &v, sizeof v);
}

// The fields are swapped one by one, each only if the record holds all of
// it, and the walk stops at the first it does not: libpcap's order.
class Fields {
public:
    Fields(uint8_t* data, uint32_t captured) : data_(data), captured_(captured) {}
    template <typename T>
    bool swap() noexcept {
        if (captured_ < at_ + sizeof(T)) return false;
        swap_at<T>(data_ + at_);
        at_ += sizeof(T);
        return true;
    }
    void skip(uint32_t bytes) noexcept { at_ += bytes; }
    uint32_t at() const noexcept { return at_; }

private:
    uint8_t* data_;
    uint32_t captured_;
    uint32_t at_ = 0;
};

// The Linux USB monitor's header (pcap/usb.h): 48 bytes, or 64 for the
// memory-mapped form, then that many isochronous descriptors of 16 bytes.
constexpr uint32_t kUsbMmappedHeader = 64;
constexpr uint32_t kUsbIsoDescriptor = 16;
constexpr uint8_t kUrbIsochronous = 0;
constexpr uint8_t kUrbComplete = 'C';
constexpr uint8_t kUrbTransferIn = 0x80;

void swap_usb(uint8_t* data, uint32_t captured, bool mmapped) noexcept {
    Fields f(data, captured);
    if (!f.swap<uint64_t>()) return;  // id
    f.skip(4);                        // event type, transfer type, endpoint, device
    if (!f.swap<uint16_t>()) return;  // bus
    f.skip(2);                        // setup and data flags
    if (!f.swap<uint64_t>() || !f.swap<uint32_t>() || !f.swap<uint32_t>()) return;  // seconds, microseconds, status
    if (!f.swap<uint32_t>() || !f.swap<uint32_t>()) return;                         // URB length, data length
    bool isochronous = data[9] == kUrbIsochronous;
    if (isochronous) {
        if (!f.swap<uint32_t>() || !f.swap<uint32_t>()) return;  // error count, descriptors
    } else {
        f.skip(8);  // the setup packet, bytes
    }
    if (!mmapped) return;
    // interval, start frame, transfer flags, descriptors in the header
    if (!f.swap<uint32_t>() || !f.swap<uint32_t>() || !f.swap<uint32_t>() || !f.swap<uint32_t>()) return;
    if (!isochronous) return;
    uint32_t descriptors = load<uint32_t>(data + 60);
    for (uint32_t i = 0; i < descriptors; i++) {
        // status, offset, length; padding
        if (!f.swap<uint32_t>() || !f.swap<uint32_t>() || !f.swap<uint32_t>()) return;
        f.skip(4);
    }
}

// Old libpcap versions took an incoming isochronous completion's wire
// length from the URB length, although its data lies scattered as its
// descriptors say: libpcap recomputes it from them.
void repair_usb_mmapped_length(const uint8_t* data, uint32_t captured, uint32_t& wire_len) noexcept {
    if (captured < kUsbMmappedHeader) return;
    uint8_t event = data[8], transfer = data[9], endpoint = data[10], data_flag = data[15];
    uint32_t urb_len = load<uint32_t>(data + 32);
    uint32_t descriptors = load<uint32_t>(data + 60);
    if (data_flag != 0 || transfer != kUrbIsochronous || event != kUrbComplete || !(endpoint & kUrbTransferIn)) return;
    // libpcap compares in size_t: no wrap-around.
    if (wire_len != uint64_t{kUsbMmappedHeader} + uint64_t{descriptors} * kUsbIsoDescriptor + urb_len) return;
    uint32_t data_end = 0;
    uint32_t left = captured - kUsbMmappedHeader;
    for (uint32_t i = 0; i < descriptors && left >= kUsbIsoDescriptor; i++, left -= kUsbIsoDescriptor) {
        const uint8_t* d = data + kUsbMmappedHeader + i * kUsbIsoDescriptor;
        uint32_t offset = load<uint32_t>(d + 4), length = load<uint32_t>(d + 8);
        if (length != 0 && offset + length > data_end) data_end = offset + length;
    }
    // In 32 bits, as libpcap's u_int.
    uint32_t repaired = kUsbMmappedHeader + descriptors * kUsbIsoDescriptor + data_end;
    if (repaired >= captured) wire_len = repaired;
    if (captured > wire_len) wire_len = captured;
}

// NFLOG: a 4-byte header in network order, then TLVs whose length and
// type are in the capturing host's order.
void swap_nflog(uint8_t* data, uint32_t captured, uint32_t wire_len) noexcept {
    if (captured < 4 || wire_len < 4) return;
    if (data[1] != 0) return;  // a version libpcap does not know
    uint32_t at = 4, caplen = captured - 4, length = wire_len - 4;
    while (caplen >= 4) {
        swap_at<uint16_t>(data + at);
        swap_at<uint16_t>(data + at + 2);
        // In 16 bits, as libpcap rounds it: 0xfffd and up round to 0.
        uint16_t size = load<uint16_t>(data + at);
        if (size % 4 != 0) size = static_cast<uint16_t>(size + 4 - size % 4);
        if (size < 4 || caplen < size || length < size) return;
        at += size;
        caplen -= size;
        length -= size;
    }
}

// SocketCAN behind a Linux cooked header: the CAN id is in the capturing
// host's order (CAN and CAN FD, protocols 12 and 13).
void swap_socketcan(uint16_t protocol, uint8_t* data, uint32_t captured, uint32_t wire_len) noexcept {
    if (protocol != 0x000c && protocol != 0x000d) return;
    if (captured < 4 || wire_len < 4) return;
    swap_at<uint32_t>(data);
}

// pflog: its uid, pid, rule uid and rule pid are in the capturing host's
// order, each there when the header's own length covers it.
void swap_pflog(uint8_t* data, uint32_t captured, uint32_t wire_len) noexcept {
    if (captured < 1) return;
    uint32_t header = data[0];
    for (uint32_t at : {44u, 48u, 52u, 56u}) {
        if (captured < at + 4 || wire_len < at + 4 || header < at + 4) return;
        swap_at<uint32_t>(data + at);
    }
}

}  // namespace

bool needs_post_process(int dlt, bool swapped) noexcept {
    switch (dlt) {
    case kDltUsbLinuxMmapped: return true;  // the length repair, in either order
    case kDltUsbLinux:
    case kDltNflog:
    case DLT_LINUX_SLL:
    case kDltLinuxSll2:
    case kDltPflog: return swapped;
    default: return false;
    }
}

void post_process(int dlt, bool swapped, uint8_t* data, uint32_t captured, uint32_t& wire_len) noexcept {
    if (swapped) {
        switch (dlt) {
        case kDltUsbLinux: swap_usb(data, captured, false); break;
        case kDltUsbLinuxMmapped: swap_usb(data, captured, true); break;
        case kDltNflog: swap_nflog(data, captured, wire_len); break;
        case DLT_LINUX_SLL:
            if (captured >= 16 && wire_len >= 16)
                swap_socketcan(static_cast<uint16_t>(data[14] << 8 | data[15]), data + 16, captured - 16, wire_len - 16);
            break;
        case kDltLinuxSll2:
            if (captured >= 20 && wire_len >= 20)
                swap_socketcan(static_cast<uint16_t>(data[0] << 8 | data[1]), data + 20, captured - 20, wire_len - 20);
            break;
        case kDltPflog: swap_pflog(data, captured, wire_len); break;
        default: break;
        }
    }
    if (dlt == kDltUsbLinuxMmapped) repair_usb_mmapped_length(data, captured, wire_len);
}

}  // namespace sl::io
