// The syntax tree of a pipeline configuration.
//
//   web = rx | bpf "tcp port 80"      # a named stream
//   web | tx 1                        # a pipeline reading that stream
//   p = rx | ipproto                  # a classifier
//   p |17 count name=udp              # only class 17
//   p |else count name=other          # every class no sibling edge takes
//   shadow web copy-once              # the shadow policy of what reads `web`
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <sl/args.hpp>
#include <sl/error.hpp>

namespace sl::lang {

// How a stage is attached to what comes before it.
struct Edge {
    enum class Kind { all, cls, otherwise };
    Kind kind = Kind::all;
    uint32_t cls = 0;  // for Kind::cls
    Location where;    // the `|`
};

struct Stage {
    Edge edge;
    std::string filter;
    Location where;  // the filter's name
    std::vector<Arg> args;
};

// Where a pipeline starts: `rx`, `rx N`, or a named stream.
struct Origin {
    enum class Kind { rx, stream };
    Kind kind = Kind::rx;
    std::optional<uint32_t> port;  // `rx N`
    std::string stream;            // for Kind::stream
    Location where;
};

struct Pipeline {
    std::optional<std::string> name;  // `name = ...`
    Location name_where;
    Origin origin;
    std::vector<Stage> stages;
};

// `shadow STREAM POLICY`: the filters that read the stream, and the streams
// named after them, serve their reads under POLICY instead of the run's.
struct ShadowSetting {
    std::string stream;
    Location stream_where;
    std::string policy;
    Location policy_where;
};

struct Program {
    std::vector<Pipeline> pipelines;
    std::vector<ShadowSetting> shadow_settings;
};

// Parses `text`; `file` names it in diagnostics ("command-line" for -e).
// Throws ConfigError with the location of the first error.
Program parse(const std::string& text, const std::string& file);
Program parse_file(const std::string& path);

}  // namespace sl::lang
