#include "sdk/link_type.hpp"

#include <fmt/format.h>
#include <pcap/pcap.h>

namespace sl {

std::string link_type_name(int dlt) {
    const char* name = pcap_datalink_val_to_name(dlt);
    const char* description = pcap_datalink_val_to_description(dlt);
    if (!name) return fmt::format("link type {}", dlt);
    return description ? fmt::format("{} ({})", name, description) : std::string(name);
}

}  // namespace sl
