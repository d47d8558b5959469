// What feeds a graph: capture files in sl-replay, receive queues in
// sl-forward. The graph's source node calls read() once per walk.
#pragma once

#include <cstdint>

#include <rte_mbuf.h>

namespace sl::io {

class Source {
public:
    virtual ~Source() = default;
    // Up to `max` packets, each with its data, input port (m->port), time
    // stamp and wire length set, and entered into the graph
    // (sdk/packet_state.hpp: PacketBookkeeping::enter), all in the one pass
    // over the burst that the source makes anyway.
    virtual uint16_t read(rte_mbuf** packets, uint16_t max) noexcept = 0;
    // True once read() gives nothing more: the captures ended, or a stop
    // was asked for.
    virtual bool done() const noexcept = 0;
};

}  // namespace sl::io
