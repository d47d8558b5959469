// The filter types a process knows (built-ins and loaded plugins), and the
// process-wide table of drop reason names.
#pragma once

#include <deque>
#include <string>
#include <string_view>
#include <vector>

#include <sl/filter.hpp>

namespace sl {

class Registry {
public:
    // Adds `type`, registered from `origin` ("" for a built-in, else the
    // plugin's path). False, with `error` saying why, when the type was built
    // for another SDK ABI, cannot be named in a pipeline, or its name is taken.
    bool add(const FilterType& type, const std::string& origin, std::string& error);

    const FilterType* find(std::string_view name) const noexcept;
    std::vector<std::string> names() const;  // sorted
    size_t size() const noexcept { return types_.size(); }
    // The plugin a filter type came from, or "" for a built-in.
    const std::string& origin(std::string_view name) const noexcept;

private:
    struct Entry {
        FilterType type;
        std::string origin;
    };
    const Entry* entry(std::string_view name) const noexcept;
    // A deque: running graphs point at their types, and a reload may add
    // a plugin's types while they run.
    std::deque<Entry> types_;
};

// The process's registry, which SL_REGISTER_FILTER fills.
Registry& filter_registry();
// Registration problems (a name taken twice, another ABI) found since
// start-up, in order; a plugin loader reads those its plugin caused.
const std::vector<std::string>& registration_errors();
// While a plugin is being opened: the path its registrations are from ("" after).
void set_registering_plugin(const std::string& path);

// Drop reasons by name; the same name gives the same id everywhere. At most
// kMaxDropReasons distinct names (the last id is the runtime's "written").
inline constexpr size_t kMaxDropReasons = 255;
DropReason drop_reason_id(std::string_view name);
const std::string& drop_reason_name(DropReason id);

// Reasons the runtime itself uses when a passed packet has nowhere to go.
inline constexpr DropReason kEndOfPipeline = 0;  // no filter after this one
inline constexpr DropReason kUnclassified = 1;   // no edge takes its class

}  // namespace sl
