#include "core/command_line.hpp"

#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "core/diagnostics.hpp"
#include "sdk/registry.hpp"

namespace sl::core {

void add_shadow_options(OptionTable& table, shadow::ShadowOptions& options) {
    table.add({"shadow", 0, "POLICY",
               "how filters read packets: hybrid (default: headers in\n"
               "place, payload pulled when a filter asks), hybrid:N,\n"
               "zero-copy, copy-once or prefetch",
               [&options](const char* v) -> std::optional<std::string> {
                   std::string error;
                   auto policy = shadow::parse_policy(v, error);
                   if (!policy) return "--shadow: " + error;
                   options.policy = *policy;
                   return std::nullopt;
               }});
    table.add({"dma", 0, "DEVICE",
               "pull payloads with this dmadev (a name or id, e.g.\n"
               "dma_skeleton with --vdev=dma_skeleton,lcore=1)",
               [&options](const char* v) -> std::optional<std::string> {
                   if (!*v) return std::string("--dma takes a DMA device name or id");
                   options.dma_device = v;
                   return std::nullopt;
               }});
    table.add({"dma-min-bytes", 0, "N", "copies below N bytes go to the CPU (default: measured)",
               [&options](const char* v) -> std::optional<std::string> {
                   auto n = OptionTable::bounded_number(v, 0, UINT32_MAX - 1);
                   if (!n) return fmt::format("--dma-min-bytes takes a number of bytes, not '{}'", v);
                   options.dma_min_bytes = static_cast<uint32_t>(*n);
                   return std::nullopt;
               }});
}

void add_plugin_options(OptionTable& table, PluginRequest& request) {
    table.add({"plugin", 0, "FILE", "load filters from a plugin (.so); repeatable", [&request](const char* v) {
                   request.plugins.files.emplace_back(v);
                   return std::optional<std::string>();
               }});
    table.add({"plugin-dir", 0, "DIR", "load every *.so in DIR (also: SL_PLUGIN_PATH=DIR:DIR)",
               [&request](const char* v) {
                   request.plugins.dirs.emplace_back(v);
                   return std::optional<std::string>();
               }});
    table.flag("filters", 0, "list the filters, built-in and from plugins, and exit",
               [&request] { request.list_filters = true; });
}

std::optional<int> load_plugins(PluginRequest& request) {
    if (const char* path = std::getenv("SL_PLUGIN_PATH")) request.plugins.search_path = path;
    try {
        plugin::load_plugins(request.plugins);
    } catch (const std::exception& e) {  // ConfigError, or a folder that cannot be listed
        command_line_error(e.what());
        return 2;
    }
    if (!request.list_filters) return std::nullopt;
    const Registry& registry = filter_registry();
    for (const auto& name : registry.names()) {
        const FilterType* t = registry.find(name);
        const std::string& origin = registry.origin(name);
        std::printf("%-10s %-28s %s%s\n", t->name, t->usage, t->summary,
                    origin.empty() ? "" : fmt::format(" [{}]", origin).c_str());
    }
    return 0;
}

void add_pipeline_options(OptionTable& table, std::string& config_file, std::string& config_text) {
    table.text("", 'c', "FILE", "read the pipelines from FILE", config_file)
        .text("", 'e', "PIPELINES", "pipelines inline (newlines or ';' between them)", config_text);
}

std::optional<int> after_options(const OptionTable& table, int verbosity, PluginRequest& plugins,
                                 const std::string& config_file, const std::string& config_text) {
    setup_diagnostics(table.program(), verbosity);
    if (auto status = load_plugins(plugins)) return status;
    if (config_file.empty() == config_text.empty()) {
        command_line_usage("give the pipelines with either -c FILE or -e PIPELINES", table.usage());
        return 2;
    }
    return std::nullopt;
}

lang::Program read_pipelines(const std::string& config_file, const std::string& config_text) {
    return config_file.empty() ? lang::parse(config_text, "command-line") : lang::parse_file(config_file);
}

bool create_output_dir(const std::string& dir) {
    if (dir.empty()) return true;
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) spdlog::error("{}: {}", dir, ec.message());
    return !ec;
}

}  // namespace sl::core
