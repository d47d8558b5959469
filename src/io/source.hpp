// What feeds a graph: capture files in sl-replay, receive queues in
// sl-forward. The graph's source node calls read() once per walk.
#pragma once

#include <cstdint>
#include <vector>

#include <rte_mbuf.h>

namespace sl::io {

// What the graph's filters will read of each packet, so that a source does
// only the work some filter needs: every stamp is a store into the mbuf.
struct PacketNeeds {
    bool bytes = true;       // some filter reads packet bytes: ask for the first line early
    bool writes = false;     // some filter modifies packets: they need memory of their own
    bool meta = true;        // time stamps and wire lengths
    bool unparsed = true;    // the parse state cleared (sdk/packet_state.hpp)
    bool references = true;  // the graph's first reference and no fate yet
    bool sequence = false;   // each record's place in the input (several workers' sinks merge by it)
    uint32_t kept = 0;       // mbufs one worker's filters may keep past a walk (sl::kKeepsPackets)
    // Deal packets to workers by their addresses alone (sl::kJoinsFragments).
    bool deal_by_addresses = false;
};

class Source {
public:
    virtual ~Source() = default;
    // Up to `max` packets, each with its data and input port (m->port), and
    // what the PacketNeeds it was given ask for: time stamp and wire length,
    // and the graph's bookkeeping (sdk/packet_state.hpp), all in the one
    // pass over the burst that the source makes anyway.
    // `input` is set to the input (m->port) every packet read came from, or
    // kMixedInputs: a burst from one input is routed without a look at
    // each packet.
    virtual uint16_t read(rte_mbuf** packets, uint16_t max, uint16_t& input) noexcept = 0;
    static constexpr uint16_t kMixedInputs = 0xffff;
    // True once read() gives nothing more: the captures ended, or a stop
    // was asked for.
    virtual bool done() const noexcept = 0;
    // By input: which ones the graph reads. A port no `rx` reads is not
    // polled, so that its traffic costs nothing. Called by the thread that
    // calls read(), between two reads; every input is read until then.
    virtual void read_only(const std::vector<bool>& inputs) noexcept { (void)inputs; }
};

}  // namespace sl::io
