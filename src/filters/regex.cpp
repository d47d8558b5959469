// regex "PCRE" ...: as match, with regular expressions (Hyperscan's PCRE
// subset; `.` also matches a newline). The class is the expression's number.
#include "filters/payload_scanner.hpp"

namespace {

class Regex final : public sl::Filter {
public:
    explicit Regex(sl::FilterContext& ctx) : scanner_(ctx, sl::filters::PayloadScanner::Kind::regex) {}
    void process(sl::Burst& burst) noexcept override { scanner_.process(burst); }

private:
    sl::filters::PayloadScanner scanner_;
};

}  // namespace

SL_REGISTER_FILTER(Regex, "regex", sl::Access::payload, sl::kClassifier,
                   "keep packets whose payload matches a regular expression; class = its number",
                   "regex \"PCRE\" ... [nocase=yes]")
