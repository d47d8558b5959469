// The parse node's filter: the one place where headers are parsed. It sets
// each packet's class to its input port, so that `rx N` is simply the class-N
// edge out of it, and counts malformed packets by reason.
#pragma once

#include <memory>

#include <sl/filter.hpp>

namespace sl::packet {

std::unique_ptr<Filter> make_parse_filter(FilterContext& ctx);

}  // namespace sl::packet
