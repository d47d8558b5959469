#include "core/command_line.hpp"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include <fmt/format.h>

#include "graph/registry.hpp"
#include <sl/args.hpp>
#include <sl/error.hpp>

namespace sl::core {

CommandLine split_command_line(int argc, char** argv) {
    CommandLine line;
    int first = 1;
    for (int i = 1; i < argc; i++)
        if (std::strcmp(argv[i], "--") == 0) {
            for (int j = 1; j < i; j++) line.eal_args.emplace_back(argv[j]);
            first = i + 1;
            break;
        }
    line.argv.push_back(argv[0]);
    for (int i = first; i < argc; i++) line.argv.push_back(argv[i]);
    line.argv.push_back(nullptr);
    return line;
}

std::string refused_option(const CommandLine& line, int optind, int optopt, const char* short_with_value) {
    if (optopt && optopt < 128 && std::strchr(short_with_value, optopt))
        return fmt::format("option -{} needs a value", char(optopt));
    const char* arg = optind >= 1 && optind <= line.argc() ? line.argv[static_cast<size_t>(optind - 1)] : nullptr;
    return fmt::format("unknown option '{}'", arg ? arg : "?");
}

std::optional<uint64_t> bounded_number(const char* text, uint64_t min, uint64_t max) {
    auto n = Args::parse_uint(text);
    if (!n || *n < min || *n > max) return std::nullopt;
    return n;
}

std::optional<double> seconds(const char* text) {
    char* end = nullptr;
    double v = std::strtod(text, &end);
    if (end == text || *end != '\0' || !(v > 0) || v > 1e7) return std::nullopt;
    return v;
}

lang::Program read_pipelines(const std::string& config_file, const std::string& config_text) {
    return config_file.empty() ? lang::parse(config_text, "command-line") : lang::parse_file(config_file);
}

bool create_output_dir(const std::string& dir) {
    if (dir.empty()) return true;
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) std::fprintf(stderr, "error: %s: %s\n", dir.c_str(), ec.message().c_str());
    return !ec;
}

int exit_status_after(const std::exception& e) {
    print_error(e);
    return dynamic_cast<const ConfigError*>(&e) ? 2 : 1;
}

void print_error(const std::exception& e) {
    if (auto* c = dynamic_cast<const ConfigError*>(&e)) std::fprintf(stderr, "%s\n", c->format().c_str());
    else std::fprintf(stderr, "error: %s\n", e.what());
}

bool is_shadow_option(int code) { return code >= kShadowOptionCode && code <= kShadowOptionCode + 2; }

std::optional<std::string> shadow_option(int code, const char* value, shadow::ShadowOptions& options) {
    switch (code - kShadowOptionCode) {
    case 0: {
        std::string error;
        auto policy = shadow::parse_policy(value, error);
        if (!policy) return "--shadow: " + error;
        options.policy = *policy;
        return std::nullopt;
    }
    case 1:
        if (!*value) return std::string("--dma takes a DMA device name or id");
        options.dma_device = value;
        return std::nullopt;
    default: {
        auto n = bounded_number(value, 0, UINT32_MAX - 1);
        if (!n) return fmt::format("--dma-min-bytes takes a number of bytes, not '{}'", value);
        options.dma_min_bytes = static_cast<uint32_t>(*n);
        return std::nullopt;
    }
    }
}

bool plugin_option(int code, const char* value, PluginRequest& request) {
    switch (code - kPluginOptionCode) {
    case 0: request.plugins.files.emplace_back(value); return true;
    case 1: request.plugins.dirs.emplace_back(value); return true;
    case 2: request.list_filters = true; return true;
    default: return false;
    }
}

std::optional<int> load_plugins(PluginRequest& request, const char* program) {
    if (const char* path = std::getenv("SL_PLUGIN_PATH")) request.plugins.search_path = path;
    try {
        plugin::load_plugins(request.plugins);
    } catch (const std::exception& e) {  // ConfigError, or a folder that cannot be listed
        std::fprintf(stderr, "%s: error: %s\n", program, e.what());
        return 2;
    }
    if (!request.list_filters) return std::nullopt;
    for (const auto& name : graph::filter_type_names()) {
        const FilterType* t = graph::find_filter_type(name);
        const std::string& origin = graph::filter_origin(name);
        std::printf("%-10s %-28s %s%s\n", t->name, t->usage, t->summary,
                    origin.empty() ? "" : fmt::format(" [{}]", origin).c_str());
    }
    return 0;
}

}  // namespace sl::core
