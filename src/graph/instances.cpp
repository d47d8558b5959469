#include "graph/instances.hpp"

#include <algorithm>

#include <fmt/format.h>

#include <sl/error.hpp>

#include "graph/runtime.hpp"
#include "packet/link_layer.hpp"
#include "packet/parse_filter.hpp"
#include "sdk/link_type.hpp"
#include "sdk/registry.hpp"

namespace sl::graph {
namespace {

class Context final : public FilterContext {
public:
    Context(const PlanNode& node, Instance& instance, const Args& args, const WorkerContext& where)
        : node_(node), instance_(instance), args_(args), where_(where) {}
    const Args& args() const override { return args_; }
    const std::string& node_name() const override { return node_.name; }
    int link_type() const override { return where_.dlt; }
    uint32_t capture_linktype() const override { return where_.linktype; }
    uint32_t capture_snaplen() const override { return where_.snaplen; }
    bool capture_byte_swapped() const override { return where_.byte_swapped; }
    std::string input_name() const override {
        auto i = static_cast<size_t>(node_.only_input);
        return node_.only_input >= 0 && i < where_.input_names.size() ? where_.input_names[i] : std::string();
    }
    uint64_t& counter(std::string_view name) override {
        for (auto& c : instance_.counters)
            if (c.first == name) return c.second;
        instance_.counters.emplace_back(std::string(name), 0);
        return instance_.counters.back().second;
    }
    void info(std::string_view name, uint64_t value) override {
        for (auto& i : instance_.info)
            if (i.first == name) {
                i.second = value;
                return;
            }
        instance_.info.emplace_back(std::string(name), value);
    }
    DropReason drop_reason(std::string_view name) override {
        // A type that lists its drop reasons uses no other.
        if (const char* declared = node_.type ? node_.type->drops : nullptr) {
            std::string_view list = declared;
            bool found = false;
            for (size_t from = 0; from <= list.size() && !found;) {
                size_t comma = std::min(list.find(',', from), list.size());
                found = list.substr(from, comma - from) == name;
                from = comma + 1;
            }
            if (!found)
                throw ConfigError(fmt::format("drops packets as '{}', which its type does not list (drops = \"{}\")",
                                              name, declared));
        }
        return drop_reason_id(name);
    }
    std::string output_path(std::string_view path) const override {
        if (path.empty() || path[0] == '/' || where_.output_dir.empty()) return std::string(path);
        return where_.output_dir + "/" + std::string(path);
    }
    int socket_id() const override { return where_.socket; }
    unsigned worker_index() const override { return where_.worker; }
    unsigned worker_count() const override { return where_.workers; }
    bool live() const override { return where_.live; }
    unsigned ways_in() const override { return std::max(node_.ways_in, 1u); }
    int tx_queue(uint16_t port) const override {
        return port < where_.tx_queues.size() ? where_.tx_queues[port] : -1;
    }
    void set_access(Access access) override { instance_.access = access; }
    void keeps_packets(uint32_t most) override { instance_.kept = most; }
    ShadowPolicy shadow_policy() const override {
        switch (node_.policy.policy) {
        case shadow::Policy::zero_copy: return ShadowPolicy::zero_copy;
        case shadow::Policy::copy_once: return ShadowPolicy::copy_once;
        case shadow::Policy::prefetch: return ShadowPolicy::prefetch;
        case shadow::Policy::hybrid: break;
        }
        return ShadowPolicy::hybrid;
    }

private:
    const PlanNode& node_;
    Instance& instance_;
    const Args& args_;
    const WorkerContext& where_;
};

// Runs the filter's constructor. A plugin's errors name the plugin: its
// author and its user are rarely the same person.
std::unique_ptr<Filter> construct(const PlanNode& node, Instance& instance, const WorkerContext& where) {
    Args args = node.args;  // each instance reads its own copy
    Context ctx(node, instance, args, where);
    const std::string& origin = node.type ? filter_registry().origin(node.type->name) : std::string();
    std::string from = origin.empty() ? "" : fmt::format(" (plugin {})", origin);
    std::unique_ptr<Filter> filter;
    try {
        filter = node.type ? node.type->create(ctx) : packet::make_input_filter(ctx);
        // What the filter did not read is not an argument it takes.
        args.check_all_read();
    } catch (const ConfigError& e) {
        if (origin.empty()) throw;
        if (!e.has_location()) throw ConfigError(node.where, e.what() + from);
        throw ConfigError(e.where(), e.what() + from, e.hint());
    } catch (const std::exception& e) {
        throw ConfigError(node.where, fmt::format("{}{}: {}", node.filter_name(), from, e.what()));
    } catch (...) {
        throw ConfigError(node.where,
                          fmt::format("{}{}: threw an exception that is not a std::exception", node.filter_name(), from));
    }
    if (!filter) throw ConfigError(node.where, fmt::format("{}: the filter could not be created", node.name));
    return filter;
}

}  // namespace

Instances::Instances(const Plan& plan, const WorkerContext& context, const Runtime* previous) : context_(context) {
    const auto& planned = plan.nodes();
    nodes_.resize(planned.size());
    for (size_t i = 0; i < planned.size(); i++) {
        const PlanNode& node = planned[i];
        Instance& instance = nodes_[i];
        // A reload keeps the filter of a node that is the same as before:
        // same name, same filter, same arguments. The input node is each
        // graph's own (the parser it holds is the graph's).
        if (previous && node.type) {
            const auto& old = previous->nodes();
            for (size_t k = 0; k < old.size(); k++)
                if (old[k]->name == node.name && old[k]->signature == node.signature && old[k]->filter) {
                    instance.adopts = k;
                    instance.access = old[k]->access;
                    break;
                }
            if (instance.adopts != Instance::kNone) continue;
        }
        if (node.type && node.reads_parsed && !packet::link_type_supported(context_.dlt))
            throw ConfigError(node.where,
                              fmt::format("{}: it reads packet headers, and streamline does not read those of {}",
                                          node.filter_name(), link_type_name(context_.dlt)),
                              "headers are read on Ethernet, Linux cooked (SLL, SLL2), raw IP, BSD loopback, 802.11 "
                              "(with radiotap or none) and PPP; bpf, count, head, sample, drop, pcap and tx work on "
                              "any link type");
        instance.access = node.access;
        instance.filter = construct(node, instance, context_);
    }
}

bool Instances::writes_packets() const noexcept {
    for (const auto& n : nodes_)
        if (n.access == Access::write) return true;
    return false;
}

const char* access_name(Access access) {
    switch (access) {
    case Access::none: return "none";
    case Access::metadata: return "metadata";
    case Access::headers: return "headers";
    case Access::payload: return "payload";
    case Access::write: return "write";
    }
    return "?";
}

}  // namespace sl::graph
