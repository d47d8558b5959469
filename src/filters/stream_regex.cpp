// stream-regex "RE" ...: stream-match for regular expressions (Hyperscan's
// PCRE subset; "." matches any byte). "$" matches where a direction ends
// (FIN or RST).
//
//   rx | reassemble | stream-regex "^(GET|POST) /admin" keep=flow | pcap "admin.pcap"
#include "filters/stream_scanner.hpp"

using StreamRegex = sl::filters::StreamFilter<sl::filters::PatternKind::regex>;

SL_REGISTER_FILTER(StreamRegex,
                   sl::FilterType{.name = "stream-regex",
                                  .access = sl::Access::metadata,
                                  .flags = sl::kClassifier | sl::kReadsStreams,
                                  .summary = "find regular expressions in each TCP stream, across segments",
                                  .usage = "stream-regex \"RE\" ... [nocase=yes] [keep=packet|flow] [report=\"FILE\"]",
                                  .drops = "no_match,no_stream"})
