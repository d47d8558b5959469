// The capture reader (pcap and pcapng) on fuzzed files: every record it hands
// out must lie within its buffers, and a file it cannot read must end the
// walk with an error, not a crash or a loop.
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <exception>
#include <string>

#include "io/capture_reader.hpp"
#include "packet/flow_hash.hpp"
#include "fuzz_support.hpp"

namespace {

uint32_t hash_record(const uint8_t* data, uint32_t captured, int dlt) noexcept {
    return sl::packet::flow_hash(data, captured, captured, dlt);
}

// Walks every record; with `indexed`, as several workers do, through the
// chunks' index. Returns a sum of the bytes so that ASan sees each read.
unsigned walk(const std::string& path, bool indexed) {
    unsigned sum = 0;
    try {
        sl::io::CaptureReader reader(path);
        if (indexed) reader.index_chunks(hash_record);
        sl::io::Record record;
        uint64_t epoch = 1;
        unsigned records = 0, stalls = 0;
        reader.begin_epoch(epoch, epoch);
        while (stalls < 64) {
            if (reader.next(record)) {
                stalls = 0;
                for (uint32_t i = 0; i < record.captured; i++) sum += record.data[i];
                // Release what was handed out now and then, as the replay's
                // feed does, so that chunks are read again.
                if (++records % 16 == 0) {
                    epoch++;
                    reader.begin_epoch(epoch, epoch);
                }
                continue;
            }
            if (!reader.waiting()) break;
            stalls++;
            if (!reader.read_ahead(2)) {
                epoch++;
                reader.begin_epoch(epoch, epoch);
            }
        }
        if (stalls == 64) std::abort();  // a reader that neither ends nor moves
        sum += static_cast<unsigned>(reader.error().size());
    } catch (const std::exception&) {
        // A file libpcap refuses: the message is the outcome.
    }
    return sum;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static int fd = memfd_create("capture", 0);
    static std::string path = "/proc/self/fd/" + std::to_string(fd);
    if (fd < 0) sl_fuzz::fail("memfd_create");
    if (ftruncate(fd, 0) != 0 || (size && pwrite(fd, data, size, 0) != static_cast<ssize_t>(size)))
        sl_fuzz::fail("writing the capture");
    volatile unsigned sink = walk(path, false) + walk(path, true);
    (void)sink;
    return 0;
}
