#include "graph/registry.hpp"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <mutex>

#include <fmt/format.h>

namespace sl {
namespace {

struct Registered {
    FilterType type;
    std::string origin;  // "" for a built-in, else the plugin's path
};

struct Registry {
    std::vector<Registered> types;
    std::vector<std::string> errors;
    std::string loading;  // the plugin being opened, whose registrations these are

    const Registered* find(std::string_view name) const {
        for (const auto& t : types)
            if (name == t.type.name) return &t;
        return nullptr;
    }
};

Registry& registry() {
    static Registry r;
    return r;
}

struct Reasons {
    std::mutex lock;
    std::vector<std::string> names = {"end_of_pipeline", "unclassified"};
};

Reasons& reasons() {
    static Reasons r;
    return r;
}

// The names the pipeline language can spell: a letter or '_' first, then
// letters, digits, '_' and '-'.
bool spellable(const char* name) {
    if (!name || !(std::isalpha(static_cast<unsigned char>(name[0])) || name[0] == '_')) return false;
    for (const char* c = name; *c; c++)
        if (!(std::isalnum(static_cast<unsigned char>(*c)) || *c == '_' || *c == '-')) return false;
    return std::strlen(name) <= 32;
}

}  // namespace

bool register_filter_type(const FilterType& type) noexcept {
    try {
        auto& r = registry();
        // Only the first field is read before the version is known to match:
        // a plugin built for another ABI may lay out the rest differently.
        if (type.abi_version != kSdkAbiVersion) {
            r.errors.push_back(fmt::format("it was built for SDK ABI {}, and this streamline has SDK ABI {}; rebuild "
                                           "it against this one",
                                           type.abi_version, kSdkAbiVersion));
            return false;
        }
        if (!spellable(type.name) || !type.create) {
            r.errors.push_back(fmt::format("filter '{}' cannot be registered: a name is a letter or '_' followed by "
                                           "up to 31 letters, digits, '_' or '-', and a filter needs a factory",
                                           type.name ? type.name : "(null)"));
            return false;
        }
        if (const Registered* taken = r.find(type.name)) {
            r.errors.push_back(taken->origin.empty()
                                   ? fmt::format("filter '{}' clashes with the built-in filter of that name", type.name)
                                   : fmt::format("filter '{}' is already registered by {}", type.name, taken->origin));
            return false;
        }
        r.types.push_back({type, r.loading});
        return true;
    } catch (...) {
        return false;
    }
}

namespace graph {

const FilterType* find_filter_type(std::string_view name) {
    const Registered* t = registry().find(name);
    return t ? &t->type : nullptr;
}

std::vector<std::string> filter_type_names() {
    std::vector<std::string> names;
    for (const auto& t : registry().types) names.emplace_back(t.type.name);
    std::sort(names.begin(), names.end());
    return names;
}

const std::vector<std::string>& registration_errors() { return registry().errors; }

const std::string& filter_origin(std::string_view name) {
    static const std::string none;
    const Registered* t = registry().find(name);
    return t ? t->origin : none;
}

size_t filter_type_count() { return registry().types.size(); }

void set_registering_plugin(const std::string& path) { registry().loading = path; }

DropReason drop_reason_id(std::string_view name) {
    auto& r = reasons();
    std::lock_guard guard(r.lock);
    for (size_t i = 0; i < r.names.size(); i++)
        if (r.names[i] == name) return static_cast<DropReason>(i);
    if (r.names.size() >= 256) throw ConfigError("too many distinct drop reasons (at most 256)");
    r.names.emplace_back(name);
    return static_cast<DropReason>(r.names.size() - 1);
}

const std::string& drop_reason_name(DropReason id) {
    auto& r = reasons();
    std::lock_guard guard(r.lock);
    static const std::string unknown = "unknown";
    return id < r.names.size() ? r.names[id] : unknown;
}

}  // namespace graph
}  // namespace sl
