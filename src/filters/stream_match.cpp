// stream-match "LIT" ...: finds literals in each TCP stream direction that
// `reassemble` puts in order, wherever the segments split them (Hyperscan's
// streaming mode). A packet passes when its bytes complete a match, its
// class being the literal's number; with keep=flow, so does every later
// packet of that flow. report="FILE" writes a line per match: the stream's
// name as tcpflow gives it, the literal's number and the stream offset just
// past the match.
//
//   rx | reassemble | stream-match "GET /admin" keep=flow | pcap "admin.pcap"
#include "filters/stream_scanner.hpp"

using StreamMatch = sl::filters::StreamFilter<sl::filters::PatternKind::literal>;

SL_REGISTER_FILTER(StreamMatch,
                   sl::FilterType{.name = "stream-match",
                                  .access = sl::Access::metadata,
                                  .flags = sl::kClassifier | sl::kReadsStreams,
                                  .summary = "find literals in each TCP stream, across segments; class = its number",
                                  .usage = "stream-match \"LIT\" ... [nocase=yes] [keep=packet|flow] [report=\"FILE\"]",
                                  .drops = "no_match,no_stream"})
