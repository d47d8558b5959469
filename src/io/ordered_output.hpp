// One capture file (pcap, or pcapng by its name) that several replay workers
// write while they run, in the order the input holds the packets: the file
// one worker would write.
//
// Each worker appends its packets, stamped with their place in the input,
// to a ring of its own; a merging thread takes them out in the order of
// their places and writes them with writev(2) straight from the rings. It
// may take a worker's next packet once every other worker has either a
// packet with a later place waiting, or is past that place in the input
// (RecordFeed::done_before). So the file is written once, beside the
// graphs, and a worker waits only when its ring is full, that is when the
// disk or another worker is behind.
#pragma once

#include <rte_mbuf.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

namespace sl::io {

class OrderedOutput {
public:
    // The output of `path` for `workers` workers, created (the file
    // truncated, its header written) by the first worker's sink to ask and
    // shared with the others. Throws sl::RuntimeError if the file cannot be
    // created.
    static std::shared_ptr<OrderedOutput> open(const std::string& path, uint32_t linktype, uint32_t snaplen,
                                               unsigned workers);
    ~OrderedOutput();
    OrderedOutput(const OrderedOutput&) = delete;
    OrderedOutput& operator=(const OrderedOutput&) = delete;

    // Worker `w`'s side, from its thread only. Appends a packet (cut to the
    // snap length); false once the file could not be written, and for every
    // packet after that.
    bool append(unsigned w, uint64_t sequence, const rte_mbuf* m, uint64_t timestamp_ns, uint32_t wire_len) noexcept;
    // The end of a burst: what was appended may be written.
    void publish(unsigned w) noexcept;
    // `w` appends no more.
    void finish(unsigned w) noexcept;

    // Once every worker finished: waits until everything is written, and
    // closes the file. Throws sl::RuntimeError naming the file if data was
    // lost.
    void close();

    struct Lane;
    OrderedOutput(const std::string& path, uint32_t linktype, uint32_t snaplen, unsigned workers);

private:
    static void* merging_thread(void* self) noexcept;
    void merge() noexcept;
    bool write_out() noexcept;

    std::string path_;
    uint8_t format_;  // io::FileFormat
    uint32_t snaplen_;
    std::string header_;
    int fd_ = -1;
    std::unique_ptr<Lane[]> lanes_;
    unsigned workers_;
    std::atomic<int> error_{0};
    std::atomic<bool> abandon_{false};
    pthread_t thread_{};
    bool threaded_ = false;
    bool closed_ = false;
};

}  // namespace sl::io
