// What sl-replay and sl-forward share on their command lines: EAL arguments
// before "--", the application's own after it, and getopt's complaints in
// words.
#pragma once

#include <cstdint>
#include <exception>
#include <optional>
#include <string>
#include <vector>

#include "lang/ast.hpp"
#include "plugin/loader.hpp"
#include "shadow/engines.hpp"

namespace sl::core {

struct CommandLine {
    std::vector<std::string> eal_args;  // everything before "--" (nothing when there is no "--")
    std::vector<char*> argv;            // the program name and the application's arguments, null-ended
    int argc() const noexcept { return static_cast<int>(argv.size()) - 1; }
};

CommandLine split_command_line(int argc, char** argv);

// The message for an option getopt_long refused (unknown, or missing the value
// that one of `short_with_value` needs).
std::string refused_option(const CommandLine& line, int optind, int optopt, const char* short_with_value);

// `text` as a whole number in [min, max], or nothing.
std::optional<uint64_t> bounded_number(const char* text, uint64_t min, uint64_t max);

// `text` as seconds above 0 (fractions allowed), or nothing.
std::optional<double> seconds(const char* text);

// How both apps say what went wrong, on stderr: a configuration error with
// its file, line, caret and hint; anything else as "error: ...".
void print_error(const std::exception& e);
// print_error(), then the exit status it calls for: 2 for a configuration
// error, 1 for anything else.
int exit_status_after(const std::exception& e);

// The pipelines of -c FILE, or else of -e TEXT (named "command-line" in
// diagnostics). Throws ConfigError.
lang::Program read_pipelines(const std::string& config_file, const std::string& config_text);

// The shadow-buffer options both apps take, for their getopt tables (codes
// from kShadowOptionCode on) and their usage texts.
inline constexpr int kShadowOptionCode = 2000;
#define SL_SHADOW_USAGE \
    "  --shadow POLICY       how filters read packets: hybrid (default: headers in\n" \
    "                        place, payload pulled when a filter asks), hybrid:N,\n" \
    "                        zero-copy, copy-once or prefetch\n" \
    "  --dma DEVICE          pull payloads with this dmadev (a name or id, e.g.\n" \
    "                        dma_skeleton with --vdev=dma_skeleton,lcore=1)\n" \
    "  --dma-min-bytes N     copies below N bytes go to the CPU (default: measured)\n"
// Fills `options` from one of those options; the usage error otherwise.
std::optional<std::string> shadow_option(int code, const char* value, shadow::ShadowOptions& options);
bool is_shadow_option(int code);
#define SL_SHADOW_LONG_OPTIONS                                                   \
    {"shadow", required_argument, nullptr, ::sl::core::kShadowOptionCode},       \
    {"dma", required_argument, nullptr, ::sl::core::kShadowOptionCode + 1},      \
    {"dma-min-bytes", required_argument, nullptr, ::sl::core::kShadowOptionCode + 2}

// The plugin options both apps take (codes from kPluginOptionCode on).
inline constexpr int kPluginOptionCode = 2100;
#define SL_PLUGIN_USAGE \
    "  --plugin FILE         load filters from a plugin (.so); repeatable\n" \
    "  --plugin-dir DIR      load every *.so in DIR (also: SL_PLUGIN_PATH=DIR:DIR)\n" \
    "  --filters             list the filters, built-in and from plugins, and exit\n"
#define SL_PLUGIN_LONG_OPTIONS                                                 \
    {"plugin", required_argument, nullptr, ::sl::core::kPluginOptionCode},     \
    {"plugin-dir", required_argument, nullptr, ::sl::core::kPluginOptionCode + 1}, \
    {"filters", no_argument, nullptr, ::sl::core::kPluginOptionCode + 2}
struct PluginRequest {
    plugin::PluginOptions plugins;
    bool list_filters = false;
};
// Takes one of those options; false when `code` is not one of them.
bool plugin_option(int code, const char* value, PluginRequest& request);
// Loads the plugins (and SL_PLUGIN_PATH's); with --filters, lists the
// filters. The exit status to end with now (2 after a plugin error, 0 after
// listing), or nothing to go on.
std::optional<int> load_plugins(PluginRequest& request, const char* program);

// Creates the output folder (-o) with its parents; false after saying why.
bool create_output_dir(const std::string& dir);

}  // namespace sl::core
