// sl-replay's side of a session: capture files in, merged by time stamp;
// outputs are files (and ports, when the EAL has some).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/session.hpp"
#include "io/capture_source.hpp"

namespace sl::core {

struct ReplayOptions {
    SessionOptions session;
    io::Pacing pacing;                              // --speed
    uint64_t loops = 1;                             // --loop
    bool follow = false;                            // --follow
    uint32_t segment_bytes = io::kMaxSegmentBytes;  // --segment
    unsigned workers = 0;                           // --workers; 0: one per lcore
    std::vector<std::string> captures;
};

// Exit codes: 0 success, 1 runtime error (unreadable capture, write error),
// 2 usage or configuration error. Messages go to stderr, the table to stdout.
int run_replay(const ReplayOptions& options, const char* program);

}  // namespace sl::core
