// An app's command line as one table: each option with its help text and what
// taking it does. The usage text is made from the table, so the two cannot
// disagree, and both apps share the options they have in common.
//
// getopt's rules: "-c FILE", "-cFILE", "--stats-json FILE",
// "--stats-json=FILE", a long option cut short where no other starts the
// same way ("--dur 2"), flags grouped as "-qv"; the first argument that is
// not an option, or "--", ends the options (the rest are positional, as
// sl-replay's captures). -h or --help prints the usage text.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sl::core {

// The arguments of a command line: the EAL's before "--", the app's after it.
struct CommandLine {
    std::vector<std::string> eal_args;  // everything before "--" (nothing when there is no "--")
    std::vector<std::string> args;      // the application's arguments
};
CommandLine split_command_line(int argc, char** argv);

// What --version prints: "sl-replay 0.1.0 (streamline SDK ABI N)", then
// DPDK's and libpcap's versions as loaded.
std::string version_text(std::string_view program);

class OptionTable {
public:
    // Takes an option's value (null for a flag); returns the message of a
    // usage error, or nothing when the value is good.
    using Take = std::function<std::optional<std::string>(const char* value)>;

    struct Option {
        std::string long_name;   // "stats-json", or ""
        char short_name = 0;     // 'c', or 0
        std::string value_name;  // "FILE"; "" for a flag
        std::string help;        // lines separated by '\n'
        Take take;
    };

    // `synopsis` follows "usage: PROGRAM "; `description` and `epilogue`
    // come before and after the options in the usage text.
    OptionTable(std::string program, std::string synopsis, std::string description, std::string epilogue);

    OptionTable& add(Option option);
    OptionTable& flag(std::string long_name, char short_name, std::string help, std::function<void()> set);
    OptionTable& text(std::string long_name, char short_name, std::string value_name, std::string help,
                      std::string& target);
    // A whole number in [min, max]: "--burst takes 1 to 256, not '0'".
    template <typename T>
    OptionTable& number(std::string long_name, std::string value_name, std::string help, uint64_t min, uint64_t max,
                        T& target) {
        return add({long_name, 0, std::move(value_name), std::move(help), [=, &target](const char* v) {
                        auto n = bounded_number(v, min, max);
                        if (!n) return std::optional<std::string>(range_message(long_name, min, max, v));
                        target = static_cast<T>(*n);
                        return std::optional<std::string>();
                    }});
    }
    // Seconds above 0, fractions allowed.
    OptionTable& seconds(std::string long_name, std::string value_name, std::string help, double& target);

    const std::string& program() const noexcept { return program_; }
    std::string usage() const;
    // Parses the app's arguments into the table's targets; the positional
    // ones go to `positional`. Returns the exit status to end with now: 0
    // after --help, 2 after a usage error (said on stderr with the usage).
    std::optional<int> parse(const std::vector<std::string>& args, std::vector<std::string>& positional) const;

    // `text` as a whole number in [min, max], or nothing.
    static std::optional<uint64_t> bounded_number(const char* text, uint64_t min, uint64_t max);

private:
    static std::string range_message(const std::string& name, uint64_t min, uint64_t max, const char* value);
    // The option named `name`, or the only one whose name starts with it;
    // `error` says why there is none.
    const Option* find_long(std::string_view name, std::string& error) const;
    const Option* find_short(char name) const;
    int usage_error(const std::string& message) const;

    std::string program_, synopsis_, description_, epilogue_;
    std::vector<Option> options_;
};

}  // namespace sl::core
