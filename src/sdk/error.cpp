#include <string>

#include <fmt/format.h>

#include <sl/error.hpp>

namespace sl {

std::string ConfigError::format() const {
    if (!has_location_) return fmt::format("error: {}", what());
    std::string out = fmt::format("{}:{}:{}: error: {}", where_.file, where_.line, where_.column, what());
    if (!where_.line_text.empty()) {
        out += fmt::format("\n  {}\n  ", where_.line_text);
        // Keep tabs so the caret lines up under tab-indented text.
        for (int i = 1; i < where_.column && i - 1 < static_cast<int>(where_.line_text.size()); i++)
            out += where_.line_text[i - 1] == '\t' ? '\t' : ' ';
        out += '^';
    }
    if (!hint_.empty()) out += fmt::format("\n  {}", hint_);
    return out;
}

}  // namespace sl
