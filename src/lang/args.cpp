#include <charconv>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "lang/ast.hpp"
#include <sl/args.hpp>

namespace sl {

std::optional<uint64_t> Args::parse_uint(std::string_view text) noexcept {
    int base = 10;
    if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
        base = 16;
        text.remove_prefix(2);
    }
    if (text.empty()) return std::nullopt;
    uint64_t value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value, base);
    if (ec != std::errc{} || end != text.data() + text.size()) return std::nullopt;
    return value;
}

size_t Args::positional_count() const noexcept {
    size_t n = 0;
    for (const auto& a : args_) n += a.key.empty();
    return n;
}

const Arg* Args::positional(size_t i) const noexcept {
    for (const auto& a : args_)
        if (a.key.empty() && i-- == 0) return &a;
    return nullptr;
}

const Arg* Args::option(std::string_view key) const noexcept {
    for (const auto& a : args_)
        if (a.key == key) return &a;
    return nullptr;
}

void Args::fail(const Arg& arg, const std::string& message) const {
    throw ConfigError(arg.value_where, fmt::format("{}: {}", filter_, message));
}

void Args::fail(const std::string& message) const {
    throw ConfigError(where_, fmt::format("{}: {}", filter_, message));
}

std::string Args::string_at(size_t i, std::string_view what) const {
    const Arg* a = positional(i);
    if (!a) fail(fmt::format("missing {}", what));
    return a->value;
}

uint64_t Args::check_uint(const Arg& arg, std::string_view what, uint64_t min, uint64_t max) const {
    auto n = parse_uint(arg.value);
    if (!n || arg.kind == Arg::Kind::string)
        fail(arg, fmt::format("{} must be a number, not '{}'", what, arg.value));
    if (*n < min || *n > max) fail(arg, fmt::format("{} must be between {} and {}, not {}", what, min, max, *n));
    return *n;
}

uint64_t Args::uint_at(size_t i, std::string_view what, uint64_t min, uint64_t max) const {
    const Arg* a = positional(i);
    if (!a) fail(fmt::format("missing {}", what));
    return check_uint(*a, what, min, max);
}

std::optional<uint64_t> Args::optional_uint_at(size_t i, std::string_view what, uint64_t min,
                                               uint64_t max) const {
    const Arg* a = positional(i);
    if (!a) return std::nullopt;
    return check_uint(*a, what, min, max);
}

std::string Args::string_option(std::string_view key, std::string fallback) const {
    const Arg* a = option(key);
    return a ? a->value : fallback;
}

uint64_t Args::uint_option(std::string_view key, uint64_t fallback, uint64_t min, uint64_t max) const {
    const Arg* a = option(key);
    return a ? check_uint(*a, key, min, max) : fallback;
}

void Args::expect(size_t min_positional, size_t max_positional,
                  std::initializer_list<std::string_view> known_keys) const {
    size_t n = positional_count();
    if (n < min_positional)
        fail(min_positional == 1 ? "expects an argument" : fmt::format("expects {} arguments", min_positional));
    if (n > max_positional) {
        const Arg* extra = positional(max_positional);
        fail(*extra, max_positional == 0 ? "takes no arguments"
                                         : fmt::format("takes at most {} argument{}", max_positional,
                                                       max_positional == 1 ? "" : "s"));
    }
    std::vector<std::string> keys(known_keys.begin(), known_keys.end());
    for (const auto& a : args_) {
        if (a.key.empty()) continue;
        bool known = false;
        for (auto k : known_keys) known |= a.key == k;
        if (known) continue;
        std::string suggestion = lang::nearest(a.key, keys);
        throw ConfigError(a.where, fmt::format("{}: unknown option '{}'", filter_, a.key),
                          suggestion.empty() ? std::string{} : fmt::format("did you mean '{}'?", suggestion));
    }
}

}  // namespace sl
