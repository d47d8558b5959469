// regex "PCRE" ...: as match, with regular expressions (Hyperscan's PCRE
// subset; `.` also matches a newline). The class is the expression's number.
#include "filters/payload_scanner.hpp"

using Regex = sl::filters::PayloadFilter<sl::filters::PayloadScanner::Kind::regex>;

SL_REGISTER_FILTER(Regex,
                   sl::FilterType{.name = "regex",
                                  .access = sl::Access::payload,
                                  .flags = sl::kClassifier,
                                  .summary = "keep packets whose payload matches a regular expression; class = its number",
                                  .usage = "regex \"PCRE\" ... [nocase=yes]",
                                  .drops = "no_match"})
