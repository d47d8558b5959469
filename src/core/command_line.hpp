// What sl-replay and sl-forward share on their command lines: the options for
// shadow buffers and plugins, the pipelines of -c or -e, and the output folder.
#pragma once

#include <optional>
#include <string>

#include "core/options.hpp"
#include "lang/ast.hpp"
#include "plugin/loader.hpp"
#include "shadow/engines.hpp"

namespace sl::core {

// --shadow, --dma, --dma-min-bytes.
void add_shadow_options(OptionTable& table, shadow::ShadowOptions& options);

struct PluginRequest {
    plugin::PluginOptions plugins;
    bool list_filters = false;
};
// --plugin, --plugin-dir, --filters.
void add_plugin_options(OptionTable& table, PluginRequest& request);
// Loads the plugins (and SL_PLUGIN_PATH's); with --filters, lists the
// filters. The exit status to end with now (2 after a plugin error, 0 after
// listing), or nothing to go on.
std::optional<int> load_plugins(PluginRequest& request);

// -c FILE and -e PIPELINES, which both apps take.
void add_pipeline_options(OptionTable& table, std::string& config_file, std::string& config_text);
// What both apps do once their table read the command line: diagnostics at
// the verbosity chosen, the plugins loaded, and exactly one of -c and -e.
// The exit status to end with now, or nothing to go on.
std::optional<int> after_options(const OptionTable& table, int verbosity, PluginRequest& plugins,
                                 const std::string& config_file, const std::string& config_text);

// The pipelines of -c FILE, or else of -e TEXT (named "command-line" in
// diagnostics). Throws ConfigError.
lang::Program read_pipelines(const std::string& config_file, const std::string& config_text);

// Creates the output folder (-o) with its parents; false after saying why.
bool create_output_dir(const std::string& dir);

}  // namespace sl::core
