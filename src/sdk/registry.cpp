#include "sdk/registry.hpp"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <mutex>

#include <fmt/format.h>

namespace sl {
namespace {

struct Registration {
    Registry registry;
    std::vector<std::string> errors;
    std::string loading;  // the plugin being opened, whose registrations these are
};

Registration& registration() {
    static Registration r;
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

bool Registry::add(const FilterType& type, const std::string& origin, std::string& error) {
    // Only the first field is read before the version is known to match: a
    // plugin built for another ABI may lay out the rest differently.
    if (type.abi_version != kSdkAbiVersion) {
        error = fmt::format("it was built for SDK ABI {}, and this streamline has SDK ABI {}; rebuild it against "
                            "this one",
                            type.abi_version, kSdkAbiVersion);
        return false;
    }
    if (!spellable(type.name) || !type.create) {
        error = fmt::format("filter '{}' cannot be registered: a name is a letter or '_' followed by up to 31 "
                            "letters, digits, '_' or '-', and a filter needs a factory",
                            type.name ? type.name : "(null)");
        return false;
    }
    if (const Entry* taken = entry(type.name)) {
        error = taken->origin.empty()
                    ? fmt::format("filter '{}' clashes with the built-in filter of that name", type.name)
                    : fmt::format("filter '{}' is already registered by {}", type.name, taken->origin);
        return false;
    }
    types_.push_back({type, origin});
    return true;
}

const Registry::Entry* Registry::entry(std::string_view name) const noexcept {
    for (const auto& t : types_)
        if (name == t.type.name) return &t;
    return nullptr;
}

const FilterType* Registry::find(std::string_view name) const noexcept {
    const Entry* e = entry(name);
    return e ? &e->type : nullptr;
}

std::vector<std::string> Registry::names() const {
    std::vector<std::string> names;
    for (const auto& t : types_) names.emplace_back(t.type.name);
    std::sort(names.begin(), names.end());
    return names;
}

const std::string& Registry::origin(std::string_view name) const noexcept {
    static const std::string none;
    const Entry* e = entry(name);
    return e ? e->origin : none;
}

bool register_filter_type(const FilterType& type) noexcept {
    try {
        auto& r = registration();
        std::string error;
        if (r.registry.add(type, r.loading, error)) return true;
        r.errors.push_back(std::move(error));
        return false;
    } catch (...) {
        return false;
    }
}

Registry& filter_registry() { return registration().registry; }

const std::vector<std::string>& registration_errors() { return registration().errors; }

void set_registering_plugin(const std::string& path) { registration().loading = path; }

DropReason drop_reason_id(std::string_view name) {
    auto& r = reasons();
    std::lock_guard guard(r.lock);
    for (size_t i = 0; i < r.names.size(); i++)
        if (r.names[i] == name) return static_cast<DropReason>(i);
    if (r.names.size() >= kMaxDropReasons)
        throw ConfigError(fmt::format("too many distinct drop reasons (at most {})", kMaxDropReasons));
    r.names.emplace_back(name);
    return static_cast<DropReason>(r.names.size() - 1);
}

const std::string& drop_reason_name(DropReason id) {
    auto& r = reasons();
    std::lock_guard guard(r.lock);
    static const std::string unknown = "unknown";
    return id < r.names.size() ? r.names[id] : unknown;
}

}  // namespace sl
