// What libpcap does to a record as it reads it, beyond handing out its
// bytes: a few link types carry pseudo-headers whose fields are in the byte
// order of the host that captured them, and libpcap turns them into the
// reading host's order when the file was saved on a host of the other one;
// and for memory-mapped Linux USB captures it repairs the wire length that
// old libpcap versions got wrong. tcpdump -r IN -w OUT writes what libpcap
// made of each record; so does sl-replay, which is why this is here.
#pragma once

#include <cstdint>

namespace sl::io {

// Whether records of `dlt` ever need post_process(), in a file saved on a
// host of the other byte order (`swapped`) or not.
bool needs_post_process(int dlt, bool swapped) noexcept;

// Rewrites the record's pseudo-header in place, as libpcap's reading does,
// and the wire length where libpcap repairs it. Reads no further than
// `captured` bytes, whatever the record claims.
void post_process(int dlt, bool swapped, uint8_t* data, uint32_t captured, uint32_t& wire_len) noexcept;

}  // namespace sl::io
