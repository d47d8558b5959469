// Errors raised while a configuration is read or a pipeline is built.
// They never reach the hot path: there, problems become counted drops.
#pragma once

#include <stdexcept>
#include <string>

namespace sl {

// A place in a configuration: the file (or "command-line" for -e), a 1-based
// line and column, and the text of that line, so that a message can show it.
struct Location {
    std::string file;
    int line = 0;
    int column = 0;
    std::string line_text;
};

// A configuration or start-up error. The apps print it with format() and exit 2.
class ConfigError : public std::runtime_error {
public:
    explicit ConfigError(std::string message) : std::runtime_error(std::move(message)) {}
    ConfigError(Location where, std::string message, std::string hint = {})
        : std::runtime_error(std::move(message)), where_(std::move(where)), hint_(std::move(hint)),
          has_location_(true) {}

    const Location& where() const noexcept { return where_; }
    const std::string& hint() const noexcept { return hint_; }
    bool has_location() const noexcept { return has_location_; }

    // "file:line:col: error: message", the offending line, a caret under the
    // column, and the hint if there is one.
    std::string format() const;

private:
    Location where_;
    std::string hint_;
    bool has_location_ = false;
};

// A failure at run time that is not the configuration's fault (an unreadable
// capture, a full disk). The apps print it and exit 1.
class RuntimeError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

}  // namespace sl
