// A filter's arguments as written in the pipeline: positional strings, numbers
// and bare words, and key=value options. The typed getters check a value and,
// when it is wrong, throw a ConfigError that points at that argument's column.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <sl/error.hpp>

namespace sl {

struct Arg {
    enum class Kind { string, number, word };
    Kind kind = Kind::word;
    std::string key;      // empty for a positional argument
    std::string value;    // the text, without quotes for a string
    Location where;       // where the argument starts (the key, if any)
    Location value_where; // where the value starts (inside the quotes for a string)
};

class Args {
public:
    Args() = default;
    Args(std::string filter, Location where, std::vector<Arg> args)
        : filter_(std::move(filter)), where_(std::move(where)), args_(std::move(args)) {}

    const std::string& filter() const noexcept { return filter_; }
    const Location& where() const noexcept { return where_; }
    const std::vector<Arg>& all() const noexcept { return args_; }

    size_t positional_count() const noexcept;
    const Arg* positional(size_t i) const noexcept;
    const Arg* option(std::string_view key) const noexcept;

    // Positional getters; `what` names the argument in messages ("expression").
    std::string string_at(size_t i, std::string_view what) const;
    uint64_t uint_at(size_t i, std::string_view what, uint64_t min, uint64_t max) const;
    std::optional<uint64_t> optional_uint_at(size_t i, std::string_view what, uint64_t min,
                                             uint64_t max) const;

    // key=value getters with defaults.
    std::string string_option(std::string_view key, std::string fallback) const;
    uint64_t uint_option(std::string_view key, uint64_t fallback, uint64_t min, uint64_t max) const;

    // Rejects positional arguments beyond `max_positional` and options not in
    // `known_keys`, naming the nearest known key for a typo.
    void expect(size_t min_positional, size_t max_positional,
                std::initializer_list<std::string_view> known_keys = {}) const;

    [[noreturn]] void fail(const Arg& arg, const std::string& message) const;
    [[noreturn]] void fail(const std::string& message) const;  // at the filter's name

    // Parses a decimal or 0x-hex number; nullopt when `text` is not one.
    static std::optional<uint64_t> parse_uint(std::string_view text) noexcept;

private:
    uint64_t check_uint(const Arg& arg, std::string_view what, uint64_t min, uint64_t max) const;

    std::string filter_;
    Location where_;
    std::vector<Arg> args_;
};

}  // namespace sl
