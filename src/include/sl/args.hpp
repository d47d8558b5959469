// A filter's arguments as written in the pipeline: positional strings, numbers
// and bare words, and key=value options.
//
// A filter reads them in one statement, naming each key once, in the style of
// Click's Args:
//
//   uint64_t every = 0;
//   bool nocase = false;
//   sl::ArgReader(ctx.args())
//       .positional("N", every, 1, UINT32_MAX)   // required, in order
//       .option("nocase", nocase)                // key=value, may be left out
//       .complete();                             // nothing else may be there
//
// Every read checks its value and, when it is wrong, throws a ConfigError that
// points at that argument's column. An argument that no read took is refused
// with its own column (an unknown key gets the nearest known one as a hint):
// by complete(), and by the runtime after the filter is constructed, so a
// filter that takes no arguments needs no code to refuse them.
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
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
    Args(std::string filter, Location where, std::vector<Arg> args);

    const std::string& filter() const noexcept { return filter_; }
    const Location& where() const noexcept { return where_; }
    const std::vector<Arg>& all() const noexcept { return args_; }
    size_t positional_count() const noexcept;
    const Arg* positional(size_t i) const noexcept;
    const Arg* option(std::string_view key) const noexcept;

    // A ConfigError at the argument's value, or at the filter's name.
    [[noreturn]] void fail(const Arg& arg, const std::string& message) const;
    [[noreturn]] void fail(const std::string& message) const;

    // Throws the ConfigError for the first argument that no ArgReader took.
    void check_all_read() const;

    // Parses a decimal or 0x-hex number; nullopt when `text` is not one.
    static std::optional<uint64_t> parse_uint(std::string_view text) noexcept;
    // `arg` as a whole number in [min, max]; `what` names it in the message.
    uint64_t number(const Arg& arg, std::string_view what, uint64_t min, uint64_t max) const;

private:
    friend class ArgReader;
    void take(const Arg& arg) const noexcept;

    std::string filter_;
    Location where_;
    std::vector<Arg> args_;
    // What the readers took, for check_all_read(): the arguments, the
    // positions read and the keys asked for (hints for a mistyped key).
    mutable std::vector<bool> taken_;
    mutable size_t positionals_read_ = 0;
    mutable std::vector<std::string> keys_asked_;
};

class ArgReader {
public:
    explicit ArgReader(const Args& args) noexcept : args_(args) {}

    // The next positional argument; missing is an error ("missing N").
    ArgReader& positional(std::string_view what, std::string& value);
    ArgReader& positional(std::string_view what, const Arg*& arg);  // the raw argument, to check it yourself
    template <typename T>
        requires std::is_unsigned_v<T>
    ArgReader& positional(std::string_view what, T& value, uint64_t min = 0,
                          uint64_t max = std::numeric_limits<T>::max()) {
        value = static_cast<T>(args_.number(*next_positional(what, true), what, min, max));
        return *this;
    }
    // The next positional argument if there is one; `value` is left as it is otherwise.
    template <typename T>
        requires std::is_unsigned_v<T>
    ArgReader& optional_positional(std::string_view what, std::optional<T>& value, uint64_t min = 0,
                                   uint64_t max = std::numeric_limits<T>::max()) {
        if (const Arg* a = next_positional(what, false)) value = static_cast<T>(args_.number(*a, what, min, max));
        return *this;
    }
    // Every positional argument left, at least `min` of them.
    ArgReader& remaining(std::string_view what, std::vector<const Arg*>& args, size_t min = 0);

    // key=value; `value` keeps its default when the key is not there.
    ArgReader& option(std::string_view key, std::string& value);
    ArgReader& option(std::string_view key, bool& value);  // yes or no
    template <typename T>
        requires std::is_unsigned_v<T>
    ArgReader& option(std::string_view key, T& value, uint64_t min = 0, uint64_t max = std::numeric_limits<T>::max()) {
        if (const Arg* a = take_option(key)) value = static_cast<T>(args_.number(*a, key, min, max));
        return *this;
    }

    // Refuses what no read took: an extra positional argument, an unknown key.
    void complete() const { args_.check_all_read(); }

private:
    const Arg* next_positional(std::string_view what, bool required);
    const Arg* take_option(std::string_view key);

    const Args& args_;
    size_t next_ = 0;  // positional arguments read so far
};

}  // namespace sl
