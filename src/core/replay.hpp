// A replay session: captures in, the configured pipelines, outputs and stats
// out. sl-replay parses its command line into ReplayOptions and calls run().
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "io/capture_source.hpp"
#include "shadow/engines.hpp"

namespace sl::core {

struct ReplayOptions {
    std::vector<std::string> eal_args;  // empty: defaults that work anywhere
    std::string config_file;            // -c
    std::string config_text;            // -e
    std::string output_dir;             // -o
    std::string stats_json;             // --stats-json
    std::string dot_file;               // --dot
    io::Pacing pacing;                  // --speed
    uint64_t loops = 1;                 // --loop
    uint32_t segment_bytes = io::kMaxSegmentBytes;  // --segment
    shadow::ShadowOptions shadow;       // --shadow, --dma, --dma-min-bytes
    int verbosity = 0;                  // -1 quiet, 0 normal, 1 verbose
    std::vector<std::string> captures;
};

// Exit codes: 0 success, 1 runtime error (unreadable capture, write error),
// 2 usage or configuration error. Messages go to stderr, the table to stdout.
int run_replay(const ReplayOptions& options, const char* program);

}  // namespace sl::core
