#include <sl/args.hpp>

#include <charconv>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "sdk/suggest.hpp"

namespace sl {

Args::Args(std::string filter, Location where, std::vector<Arg> args)
    : filter_(std::move(filter)), where_(std::move(where)), args_(std::move(args)), taken_(args_.size(), false) {}

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

void Args::fail(const std::string& message) const { throw ConfigError(where_, fmt::format("{}: {}", filter_, message)); }

uint64_t Args::number(const Arg& arg, std::string_view what, uint64_t min, uint64_t max) const {
    auto n = parse_uint(arg.value);
    if (!n || arg.kind == Arg::Kind::string) fail(arg, fmt::format("{} must be a number, not '{}'", what, arg.value));
    if (*n < min || *n > max) fail(arg, fmt::format("{} must be between {} and {}, not {}", what, min, max, *n));
    return *n;
}

void Args::take(const Arg& arg) const noexcept {
    if (taken_.size() != args_.size()) taken_.assign(args_.size(), false);
    taken_[static_cast<size_t>(&arg - args_.data())] = true;
}

void Args::check_all_read() const {
    for (size_t i = 0; i < args_.size(); i++) {
        if (i < taken_.size() && taken_[i]) continue;
        const Arg& a = args_[i];
        if (a.key.empty()) {
            size_t max = positionals_read_;
            fail(a, max == 0 ? "takes no arguments"
                             : fmt::format("takes at most {} argument{}", max, max == 1 ? "" : "s"));
        }
        std::string suggestion = nearest(a.key, keys_asked_);
        throw ConfigError(a.where, fmt::format("{}: unknown option '{}'", filter_, a.key),
                          suggestion.empty() ? std::string{} : fmt::format("did you mean '{}'?", suggestion));
    }
}

const Arg* ArgReader::next_positional(std::string_view what, bool required) {
    const Arg* a = args_.positional(next_);
    if (!a) {
        if (required) args_.fail(fmt::format("missing {}", what));
        return nullptr;
    }
    next_++;
    args_.positionals_read_ = std::max(args_.positionals_read_, next_);
    args_.take(*a);
    return a;
}

const Arg* ArgReader::take_option(std::string_view key) {
    args_.keys_asked_.emplace_back(key);
    const Arg* a = args_.option(key);
    if (a) args_.take(*a);
    return a;
}

ArgReader& ArgReader::positional(std::string_view what, std::string& value) {
    value = next_positional(what, true)->value;
    return *this;
}

ArgReader& ArgReader::positional(std::string_view what, const Arg*& arg) {
    arg = next_positional(what, true);
    return *this;
}

ArgReader& ArgReader::remaining(std::string_view what, std::vector<const Arg*>& args, size_t min) {
    args.clear();
    while (const Arg* a = next_positional(what, false)) args.push_back(a);
    if (args.size() < min)
        args_.fail(min == 1 ? fmt::format("needs at least one {}", what) : fmt::format("needs at least {} {}s", min, what));
    return *this;
}

ArgReader& ArgReader::option(std::string_view key, std::string& value) {
    if (const Arg* a = take_option(key)) value = a->value;
    return *this;
}

ArgReader& ArgReader::option(std::string_view key, bool& value) {
    const Arg* a = take_option(key);
    if (!a) return *this;
    if (a->value != "yes" && a->value != "no") args_.fail(*a, fmt::format("{} takes yes or no", key));
    value = a->value == "yes";
    return *this;
}

}  // namespace sl
