// The filter types known to this process (built-ins and loaded plugins) and
// the process-wide table of drop reason names.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <sl/filter.hpp>

namespace sl::graph {

const FilterType* find_filter_type(std::string_view name);
std::vector<std::string> filter_type_names();
// Registration problems (a name taken twice, another ABI) found since
// start-up, in order; a plugin loader reads those its plugin caused.
const std::vector<std::string>& registration_errors();
size_t filter_type_count();
// The plugin a filter type came from, or "" for a built-in.
const std::string& filter_origin(std::string_view name);
// While a plugin is being opened: the path its registrations are from ("" after).
void set_registering_plugin(const std::string& path);

DropReason drop_reason_id(std::string_view name);
const std::string& drop_reason_name(DropReason id);

// Reasons the runtime itself uses when a passed packet has nowhere to go.
inline constexpr DropReason kEndOfPipeline = 0;  // no filter after this one
inline constexpr DropReason kUnclassified = 1;   // no edge takes its class

}  // namespace sl::graph
