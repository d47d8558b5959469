#include "core/diagnostics.hpp"

#include <memory>
#include <string>

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <sl/error.hpp>

namespace sl::core {
namespace {

// "%*": the level as the line's header, where a level has one.
class LevelHeader final : public spdlog::custom_flag_formatter {
public:
    void format(const spdlog::details::log_msg& msg, const std::tm&, spdlog::memory_buf_t& dest) override {
        std::string_view header;
        switch (msg.level) {
        case spdlog::level::critical: header = "fatal: "; break;
        case spdlog::level::err: header = "error: "; break;
        case spdlog::level::warn: header = "warning: "; break;
        default: break;
        }
        dest.append(header.data(), header.data() + header.size());
    }
    std::unique_ptr<custom_flag_formatter> clone() const override { return std::make_unique<LevelHeader>(); }
};

std::shared_ptr<spdlog::logger> stderr_logger(const std::string& name, const std::string& pattern) {
    auto logger = std::make_shared<spdlog::logger>(name, std::make_shared<spdlog::sinks::stderr_sink_mt>());
    auto formatter = std::make_unique<spdlog::pattern_formatter>();
    formatter->add_flag<LevelHeader>('*').set_pattern(pattern);
    logger->set_formatter(std::move(formatter));
    // Diagnostics are rare and must not be lost when the process ends.
    logger->flush_on(spdlog::level::trace);
    return logger;
}

// Messages that carry their own header.
std::shared_ptr<spdlog::logger> g_headed;
std::string g_program = "streamline";

}  // namespace

void setup_diagnostics(std::string_view program, int verbosity) {
    g_program = std::string(program);
    auto level = verbosity > 0 ? spdlog::level::debug : spdlog::level::info;
    auto main = stderr_logger("sl", "%*%v");
    main->set_level(level);
    spdlog::set_default_logger(main);
    g_headed = stderr_logger("sl-headed", "%v");
}

void report_error(const std::exception& e) {
    auto* c = dynamic_cast<const ConfigError*>(&e);
    if (c && c->has_location() && g_headed) g_headed->error("{}", c->format());
    else spdlog::error("{}", e.what());
}

int exit_status_after(const std::exception& e) {
    report_error(e);
    return dynamic_cast<const ConfigError*>(&e) ? 2 : 1;
}

void command_line_error(std::string_view message) {
    if (g_headed) g_headed->error("{}: error: {}", g_program, message);
    else spdlog::error("{}: {}", g_program, message);
}

void command_line_usage(std::string_view message, std::string_view usage) {
    while (!usage.empty() && usage.back() == '\n') usage.remove_suffix(1);
    if (g_headed) g_headed->error("{}: {}\n{}", g_program, message, usage);
    else spdlog::error("{}: {}\n{}", g_program, message, usage);
}

}  // namespace sl::core
