// match "LIT" ...: keeps the packets whose payload holds one of the literals
// (Hyperscan, all of them in one pass); the class is the literal's number
// (1-based), so `|N` branches by literal. Reads payloads: under the hybrid
// policy their bytes are pulled into shadows before it runs.
#include "filters/payload_scanner.hpp"

using Match = sl::filters::PayloadFilter<sl::filters::PayloadScanner::Kind::literal>;

SL_REGISTER_FILTER(Match, sl::FilterType{.name = "match",
                                         .access = sl::Access::payload,
                                         .flags = sl::kClassifier,
                                         .summary = "keep packets whose payload holds a literal; class = its number",
                                         .usage = "match \"LIT\" ... [nocase=yes]",
                                         .drops = "no_match"})
