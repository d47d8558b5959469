#include <sl/pcap_writer.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include <sl/error.hpp>

namespace sl {

PcapWriter::PcapWriter(const std::string& path, uint32_t linktype, uint32_t snaplen)
    : path_(path), buffer_(kBufferSize) {
    fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd_ < 0) throw RuntimeError(fmt::format("{}: {}", path, std::strerror(errno)));
    struct {
        uint32_t magic;
        uint16_t major, minor;
        int32_t thiszone;
        uint32_t sigfigs, snaplen, linktype;
    } header{0xa1b23c4d, 2, 4, 0, 0, snaplen, linktype};
    static_assert(sizeof(header) == 24);
    std::memcpy(buffer_.data(), &header, sizeof(header));
    used_ = sizeof(header);
}

PcapWriter::~PcapWriter() {
    if (fd_ >= 0) {
        flush();
        ::close(fd_);
    }
}

bool PcapWriter::flush() noexcept {
    size_t done = 0;
    while (done < used_ && error_ == 0) {
        ssize_t n = ::write(fd_, buffer_.data() + done, used_ - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) error_ = n < 0 ? errno : EIO;
        else done += static_cast<size_t>(n);
    }
    used_ = 0;
    return error_ == 0;
}

bool PcapWriter::reserve(size_t bytes) noexcept {
    if (used_ + bytes <= buffer_.size()) return true;
    if (!flush()) return false;
    return bytes <= buffer_.size();
}

void PcapWriter::put_header(uint64_t timestamp_ns, uint32_t captured, uint32_t wire_len) noexcept {
    uint32_t h[4] = {static_cast<uint32_t>(timestamp_ns / 1000000000u),
                     static_cast<uint32_t>(timestamp_ns % 1000000000u), captured,
                     wire_len < captured ? captured : wire_len};
    std::memcpy(buffer_.data() + used_, h, sizeof(h));
    used_ += sizeof(h);
}

bool PcapWriter::write(const rte_mbuf* m, uint64_t timestamp_ns, uint32_t wire_len) noexcept {
    if (error_) return false;
    uint32_t length = rte_pktmbuf_pkt_len(m);
    // Records are at most 256 KiB + 16 bytes, so they always fit the buffer.
    if (!reserve(16 + size_t{length})) return false;
    put_header(timestamp_ns, length, wire_len);
    for (const rte_mbuf* seg = m; seg != nullptr; seg = seg->next) {
        std::memcpy(buffer_.data() + used_, rte_pktmbuf_mtod(seg, const uint8_t*), seg->data_len);
        used_ += seg->data_len;
    }
    packets_++;
    return true;
}

bool PcapWriter::write(const uint8_t* data, uint32_t length, uint64_t timestamp_ns, uint32_t wire_len) noexcept {
    if (error_) return false;
    if (!reserve(16 + size_t{length})) return false;
    put_header(timestamp_ns, length, wire_len);
    std::memcpy(buffer_.data() + used_, data, length);
    used_ += length;
    packets_++;
    return true;
}

void PcapWriter::close() {
    if (fd_ < 0) return;
    flush();
    if (::close(fd_) != 0 && error_ == 0) error_ = errno;
    fd_ = -1;
    if (error_) throw RuntimeError(fmt::format("{}: {}", path_, std::strerror(error_)));
}

}  // namespace sl
