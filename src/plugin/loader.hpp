// Filter plugins: shared objects that register filters with
// SL_REGISTER_FILTER (<sl/filter.hpp>) when they are opened. They are loaded
// before any graph is built and never unloaded: a graph may run their code
// until the process ends.
#pragma once

#include <string>
#include <vector>

namespace sl::plugin {

struct PluginOptions {
    std::vector<std::string> files;  // --plugin FILE, in order
    std::vector<std::string> dirs;   // --plugin-dir DIR: every *.so in it
    std::string search_path;         // SL_PLUGIN_PATH: DIR[:DIR...], each must exist
};

// Opens every plugin the options name: SL_PLUGIN_PATH's, then --plugin-dir's,
// then --plugin's. A file named twice is opened once. Throws ConfigError
// naming the plugin when one cannot be opened, registers no filter, was
// built for another SDK ABI, or registers a name that is taken.
void load_plugins(const PluginOptions& options);

}  // namespace sl::plugin
