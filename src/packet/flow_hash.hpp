// Which worker a packet belongs to when sl-replay deals records over several
// workers, as RSS deals a NIC's packets over its queues: by a symmetric hash
// of the flow, so that both directions of a connection meet on one worker
// and a flow's packets stay in order there.
#pragma once

#include <cstdint>

namespace sl::packet {

// The hash of the flow of the frame at `data` (its first `length` bytes, of
// `captured`), of link type `dlt`: the IP addresses and, for TCP, UDP and
// SCTP packets that are not fragments, the ports, the same whichever way the
// packet goes. Fragments hash by their addresses alone, so that a
// datagram's pieces meet on one worker; `by_ports` false hashes every
// packet so (where a filter joins fragments). Frames without IP hash to 0.
uint32_t flow_hash(const uint8_t* data, uint32_t length, uint32_t captured, int dlt, bool by_ports = true) noexcept;

}  // namespace sl::packet
