#include <algorithm>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "lang/ast.hpp"
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

namespace sl::lang {

static size_t edit_distance(const std::string& a, const std::string& b) {
    std::vector<size_t> row(b.size() + 1);
    for (size_t j = 0; j <= b.size(); j++) row[j] = j;
    for (size_t i = 1; i <= a.size(); i++) {
        size_t diagonal = row[0];
        row[0] = i;
        for (size_t j = 1; j <= b.size(); j++) {
            size_t up = row[j];
            row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] != b[j - 1])});
            diagonal = up;
        }
    }
    return row[b.size()];
}

std::string nearest(const std::string& word, const std::vector<std::string>& candidates) {
    std::string best;
    size_t best_distance = SIZE_MAX;
    for (const auto& c : candidates) {
        size_t d = edit_distance(word, c);
        if (d < best_distance) {
            best_distance = d;
            best = c;
        }
    }
    // A suggestion must be closer than a rewrite: at most a third of the word.
    size_t limit = std::max<size_t>(1, std::max(word.size(), best.size()) / 3);
    return best_distance <= limit ? best : std::string{};
}

}  // namespace sl::lang
