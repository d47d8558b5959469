// How the runtime (and the unit tests) make the bursts that filters see.
#pragma once

#include <sl/burst.hpp>

namespace sl::detail {

struct BurstAccess {
    // `sink` may be null where no filter calls taken() or hand_over().
    static Burst make(rte_mbuf** packets, uint32_t* verdicts, uint16_t size, const Shadow* shadows, Access access,
                      SinkState* sink) noexcept {
        return Burst(packets, verdicts, size, shadows, access, sink);
    }
};

}  // namespace sl::detail
