// Link types by name, for messages: the rooms that meet them (the capture
// reader, the replay, the graph's checks) all say them the same way.
#pragma once

#include <string>

namespace sl {

// In libpcap's words, "EN10MB (Ethernet)", or "link type N" for one libpcap
// does not name.
std::string link_type_name(int dlt);

}  // namespace sl
