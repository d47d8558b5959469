#include "core/options.hpp"

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include <fmt/format.h>
#include <pcap/pcap.h>
#include <rte_version.h>
#include <fmt/ranges.h>

#include <sl/args.hpp>
#include <sl/filter.hpp>

#include "core/diagnostics.hpp"

namespace sl::core {
namespace {

constexpr size_t kHelpColumn = 24;

}  // namespace

CommandLine split_command_line(int argc, char** argv) {
    CommandLine line;
    int first = 1;
    for (int i = 1; i < argc; i++)
        if (std::strcmp(argv[i], "--") == 0) {
            for (int j = 1; j < i; j++) line.eal_args.emplace_back(argv[j]);
            first = i + 1;
            break;
        }
    for (int i = first; i < argc; i++) line.args.emplace_back(argv[i]);
    return line;
}

OptionTable::OptionTable(std::string program, std::string synopsis, std::string description, std::string epilogue)
    : program_(std::move(program)), synopsis_(std::move(synopsis)), description_(std::move(description)),
      epilogue_(std::move(epilogue)) {}

OptionTable& OptionTable::add(Option option) {
    options_.push_back(std::move(option));
    return *this;
}

OptionTable& OptionTable::flag(std::string long_name, char short_name, std::string help, std::function<void()> set) {
    return add({std::move(long_name), short_name, "", std::move(help), [set](const char*) {
                    set();
                    return std::optional<std::string>();
                }});
}

OptionTable& OptionTable::text(std::string long_name, char short_name, std::string value_name, std::string help,
                               std::string& target) {
    return add({std::move(long_name), short_name, std::move(value_name), std::move(help), [&target](const char* v) {
                    target = v;
                    return std::optional<std::string>();
                }});
}

OptionTable& OptionTable::seconds(std::string long_name, std::string value_name, std::string help, double& target) {
    return add({long_name, 0, std::move(value_name), std::move(help), [long_name, &target](const char* v) {
                    char* end = nullptr;
                    double s = std::strtod(v, &end);
                    if (end == v || *end != '\0' || !(s > 0) || s > 1e7)
                        return std::optional<std::string>(
                            fmt::format("--{} takes seconds above 0, not '{}'", long_name, v));
                    target = s;
                    return std::optional<std::string>();
                }});
}

std::optional<uint64_t> OptionTable::bounded_number(const char* text, uint64_t min, uint64_t max) {
    auto n = Args::parse_uint(text);
    if (!n || *n < min || *n > max) return std::nullopt;
    return n;
}

std::string OptionTable::range_message(const std::string& name, uint64_t min, uint64_t max, const char* value) {
    return fmt::format("--{} takes {} to {}, not '{}'", name, min, max, value);
}

std::string OptionTable::usage() const {
    std::string out = fmt::format("usage: {} {}\n\n{}\n", program_, synopsis_, description_);
    for (const auto& o : options_) {
        std::string label = "  ";
        if (o.short_name) label += fmt::format("-{}", o.short_name);
        if (o.short_name && !o.long_name.empty()) label += ", ";
        if (!o.long_name.empty()) label += "--" + o.long_name;
        if (!o.value_name.empty()) label += " " + o.value_name;
        label.resize(std::max(label.size() + 2, kHelpColumn), ' ');
        size_t from = 0;
        while (true) {
            size_t end = o.help.find('\n', from);
            out += label + o.help.substr(from, end == std::string::npos ? end : end - from) + "\n";
            if (end == std::string::npos) break;
            from = end + 1;
            label.assign(kHelpColumn, ' ');
        }
    }
    return out + "\n" + epilogue_;
}

const OptionTable::Option* OptionTable::find_long(std::string_view name, std::string& error) const {
    const Option* found = nullptr;
    std::vector<std::string> candidates;
    for (const auto& o : options_) {
        if (o.long_name.empty() || o.long_name.compare(0, name.size(), name) != 0) continue;
        if (o.long_name.size() == name.size()) return &o;
        found = &o;
        candidates.push_back("--" + o.long_name);
    }
    if (candidates.size() == 1) return found;
    error = candidates.empty()
                ? fmt::format("unknown option '--{}'", name)
                : fmt::format("option '--{}' is ambiguous: {}", name, fmt::join(candidates, ", "));
    return nullptr;
}

const OptionTable::Option* OptionTable::find_short(char name) const {
    for (const auto& o : options_)
        if (o.short_name == name) return &o;
    return nullptr;
}

int OptionTable::usage_error(const std::string& message) const {
    command_line_usage(message, usage());
    return 2;
}

std::string version_text(std::string_view program) {
    // rte_version() and pcap_lib_version() are the libraries this process
    // loaded, which is what a bug report needs, not the headers it was
    // built with.
    return fmt::format("{} {} (streamline SDK ABI {})\n{}\n{}\n", program, SL_VERSION, kSdkAbiVersion, rte_version(),
                       pcap_lib_version());
}

std::optional<int> OptionTable::parse(const std::vector<std::string>& args, std::vector<std::string>& positional) const {
    size_t i = 0;
    auto take = [&](const Option& o, const char* value) -> std::optional<int> {
        if (o.long_name == "help") {
            std::fputs(usage().c_str(), stdout);
            return 0;
        }
        if (o.long_name == "version") {
            std::fputs(version_text(program_).c_str(), stdout);
            return 0;
        }
        if (auto error = o.take(value)) return usage_error(*error);
        return std::nullopt;
    };
    for (; i < args.size(); i++) {
        const std::string& a = args[i];
        if (a == "--") {
            i++;
            break;
        }
        if (a.size() < 2 || a[0] != '-') break;  // the first positional argument
        if (a[1] == '-') {
            size_t eq = a.find('=');
            std::string name = a.substr(2, eq == std::string::npos ? std::string::npos : eq - 2);
            std::string error;
            const Option* o = find_long(name, error);
            if (!o) return usage_error(error);
            name = o->long_name;
            if (o->value_name.empty()) {
                if (eq != std::string::npos) return usage_error(fmt::format("option --{} takes no value", name));
                if (auto status = take(*o, nullptr)) return status;
                continue;
            }
            if (eq != std::string::npos) {
                if (auto status = take(*o, a.c_str() + eq + 1)) return status;
                continue;
            }
            if (i + 1 >= args.size()) return usage_error(fmt::format("option --{} needs a value", name));
            if (auto status = take(*o, args[++i].c_str())) return status;
            continue;
        }
        // Short options, grouped flags, a value attached or in the next argument.
        for (size_t k = 1; k < a.size(); k++) {
            const Option* o = find_short(a[k]);
            if (!o) return usage_error(fmt::format("unknown option '-{}'", a[k]));
            if (o->value_name.empty()) {
                if (auto status = take(*o, nullptr)) return status;
                continue;
            }
            const char* value = nullptr;
            if (k + 1 < a.size()) value = a.c_str() + k + 1;
            else if (i + 1 < args.size()) value = args[++i].c_str();
            else return usage_error(fmt::format("option -{} needs a value", a[k]));
            if (auto status = take(*o, value)) return status;
            break;
        }
    }
    positional.assign(args.begin() + static_cast<std::ptrdiff_t>(i), args.end());
    return std::nullopt;
}

}  // namespace sl::core
