#include "graph/runtime.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <functional>
#include <set>

#include <fmt/format.h>
#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_string_fns.h>

#include "graph/registry.hpp"
#include "shadow/shadows.hpp"

namespace sl::graph {

// Where a passed packet goes for one class: the edges, or (when there are
// none) the reason recorded as it is released.
struct Targets {
    std::vector<rte_edge_t> edges;
    DropReason end_reason = kEndOfPipeline;
};

struct Routing {
    // Set when every packet goes to one edge whatever its class; then a burst
    // with no drops moves to the next node as a whole.
    rte_edge_t single = 0;
    std::vector<uint32_t> classes;  // sorted
    std::vector<Targets> class_targets;
    Targets otherwise;

    const Targets& lookup(uint32_t cls) const noexcept {
        if (classes.empty()) return otherwise;
        auto it = std::lower_bound(classes.begin(), classes.end(), cls);
        if (it != classes.end() && *it == cls) return class_targets[size_t(it - classes.begin())];
        return otherwise;
    }
};

struct Runtime::Node {
    struct Out {
        lang::Edge::Kind kind;
        uint32_t cls;
        size_t target;
        Location where;
    };

    std::string name;
    const FilterType* type = nullptr;  // null for the parse node
    Args args;
    Location where;
    std::string share_key;
    std::string signature;  // filter and arguments: equal signatures, equal filters
    Node* adopt = nullptr;  // the previous graph's node whose filter this one takes over
    std::vector<Out> outs;
    std::vector<size_t> successors;  // node indices, in edge order from edge 1
    std::unique_ptr<Filter> filter;
    std::deque<std::pair<std::string, uint64_t>> counters;
    std::vector<std::pair<std::string, uint64_t>> info;
    Access access = Access::metadata;  // the type's, or what the filter set from its arguments
    shadow::PolicyConfig policy;       // --shadow, or its stream's `shadow NAME POLICY`
    // The first filter after a stream whose policy is prefetch: it pulls
    // every packet whole, whatever it reads itself.
    bool pulls_ahead = false;
    shadow::Counters shadow;
    Runtime* runtime = nullptr;
    uint64_t in = 0;
    uint64_t out = 0;
    uint64_t earlier_calls = 0;   // from the graphs this one replaced
    uint64_t earlier_cycles = 0;
    std::array<uint64_t, 256> drops{};
    Routing routing;
    rte_node_t id = RTE_NODE_ID_INVALID;
    rte_node* rte = nullptr;
    alignas(64) std::array<uint32_t, RTE_GRAPH_BURST_SIZE> verdicts{};
};

namespace {

class Context final : public FilterContext {
public:
    Context(Runtime::Node& node, const BuildOptions& options) : node_(node), options_(options) {}
    const Args& args() const override { return node_.args; }
    const std::string& node_name() const override { return node_.name; }
    int link_type() const override { return options_.dlt; }
    uint32_t capture_linktype() const override { return options_.linktype; }
    uint64_t& counter(std::string_view name) override {
        for (auto& c : node_.counters)
            if (c.first == name) return c.second;
        node_.counters.emplace_back(std::string(name), 0);
        return node_.counters.back().second;
    }
    void info(std::string_view name, uint64_t value) override {
        for (auto& i : node_.info)
            if (i.first == name) {
                i.second = value;
                return;
            }
        node_.info.emplace_back(std::string(name), value);
    }
    DropReason drop_reason(std::string_view name) override { return drop_reason_id(name); }
    std::string output_path(std::string_view path) const override {
        if (path.empty() || path[0] == '/' || options_.output_dir.empty()) return std::string(path);
        return options_.output_dir + "/" + std::string(path);
    }
    int socket_id() const override { return options_.socket; }
    unsigned worker_index() const override { return options_.worker; }
    unsigned worker_count() const override { return options_.workers; }
    bool live() const override { return options_.live; }
    int tx_queue(uint16_t port) const override {
        return port < options_.tx_queues.size() ? options_.tx_queues[port] : -1;
    }
    bool ends_paths() const override { return node_.outs.empty(); }
    void set_access(Access access) override { node_.access = access; }

private:
    Runtime::Node& node_;
    const BuildOptions& options_;
};

bool valid_node_name(const std::string& s) {
    if (s.empty() || s.size() > 40) return false;
    for (char c : s)
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.' || c == '#' || c == ':'))
            return false;
    return true;
}

unsigned g_generation = 0;
// The runtime whose graph rte_graph_create() is building; node init callbacks
// use it to find their state. Graphs are only created from the main thread.
Runtime* g_creating = nullptr;

// The filter whose process() this thread is in. process() is noexcept, so a
// filter (a plugin) that throws from it ends the process in std::terminate;
// the handler then says which filter did it instead of a bare abort.
// initial-exec: one store per burst, no __tls_get_addr call.
__attribute__((tls_model("initial-exec"))) thread_local const Runtime::Node* t_in_process = nullptr;
std::terminate_handler g_previous_terminate = nullptr;

[[noreturn]] void on_terminate();

}  // namespace

// Node callbacks live in a struct so that they can be friends of Runtime.
struct NodeCallbacks {
    static Runtime::Node* node_of(const rte_node* node) {
        Runtime::Node* n;
        std::memcpy(&n, node->ctx, sizeof(n));
        return n;
    }
    static Runtime* runtime_of(const rte_node* node) {
        Runtime* r;
        std::memcpy(&r, node->ctx, sizeof(r));
        return r;
    }

    static int init(const rte_graph*, rte_node* node) {
        Runtime* rt = g_creating;
        if (!rt) return -EINVAL;
        if (node->id == rt->source_id_ || node->id == rt->drop_id_) {
            std::memcpy(node->ctx, &rt, sizeof(rt));
            (node->id == rt->drop_id_ ? rt->drop_node_ : rt->source_node_) = node;
            return 0;
        }
        for (auto& n : rt->nodes_)
            if (n->id == node->id) {
                Runtime::Node* p = n.get();
                std::memcpy(node->ctx, &p, sizeof(p));
                n->rte = node;
                return 0;
            }
        return -ENOENT;
    }

    static uint16_t source(rte_graph* graph, rte_node* node, void**, uint16_t) {
        Runtime* rt = runtime_of(node);
        void** out = rte_node_next_stream_get(graph, node, 0, RTE_GRAPH_BURST_SIZE);
        auto** packets = reinterpret_cast<rte_mbuf**>(out);
        uint16_t n = rt->source_->read(packets, RTE_GRAPH_BURST_SIZE);
        for (uint16_t i = 0; i < n; i++) {
            PacketMeta& pm = meta(packets[i]);
            pm.flags = 0;
            pm.release_reason = 0;
            pm.graph_refs = 1;
        }
        rt->shadows_->begin_walk(packets, n, rt->rx_shadow_);
        rt->totals_.read += n;
        if (n) rte_node_next_stream_put(graph, node, 0, n);
        return n;
    }

    static uint16_t filter(rte_graph* graph, rte_node* node, void** objs, uint16_t count) {
        Runtime::Node& n = *node_of(node);
        auto** packets = reinterpret_cast<rte_mbuf**>(objs);
        // A node with several predecessors can receive more than one burst
        // at once; filters always see at most RTE_GRAPH_BURST_SIZE packets.
        if (count <= RTE_GRAPH_BURST_SIZE) {
            uint16_t kept = bring_in(graph, node, n, packets, count);
            if (kept == 0) return count;
            Burst burst = run_filter(n, packets, kept);
            if (kept == count && burst.drop_count() == 0 && n.routing.single) {
                n.out += count;
                rte_node_next_stream_move(graph, node, n.routing.single);
                return count;
            }
            if (!route_uniform(graph, node, n, packets, kept, kept == count)) route(graph, node, n, packets, kept);
            return count;
        }
        for (uint16_t done = 0; done < count;) {
            uint16_t chunk = std::min<uint16_t>(RTE_GRAPH_BURST_SIZE, count - done);
            uint16_t kept = bring_in(graph, node, n, packets + done, chunk);
            if (kept) {
                run_filter(n, packets + done, kept);
                if (!route_uniform(graph, node, n, packets + done, kept, false))
                    route(graph, node, n, packets + done, kept);
            }
            done += chunk;
        }
        return count;
    }

    // Makes local what the shadow policy wants local before the filter reads.
    // A packet whose pull failed is dropped as dma_error (the shadows moved
    // it to the end); returns how many packets the filter gets.
    static uint16_t bring_in(rte_graph* graph, rte_node* node, Runtime::Node& n, rte_mbuf** packets, uint16_t count) {
        if (n.access == Access::metadata && !n.pulls_ahead) return count;
        uint16_t kept = n.runtime->shadows_->prepare(packets, count, n.pulls_ahead ? Access::payload : n.access,
                                                     n.policy, n.shadow);
        if (kept == count) return count;
        static const DropReason dma_error = drop_reason_id("dma_error");
        uint16_t failed = static_cast<uint16_t>(count - kept);
        n.in += failed;
        n.drops[dma_error] += failed;
        for (uint16_t i = kept; i < count; i++) meta(packets[i]).release_reason = dma_error;
        rte_node_enqueue(graph, node, 0, reinterpret_cast<void**>(packets + kept), failed);
        return kept;
    }

    static Burst run_filter(Runtime::Node& n, rte_mbuf** packets, uint16_t count) {
        std::memset(n.verdicts.data(), 0, sizeof(uint32_t) * count);
        shadow::Shadows& shadows = *n.runtime->shadows_;
        // The parser reads headers before it knows where they end: its view
        // is the whole packet, while the shadows treat it as header-only.
        Access view = n.type ? n.access : Access::payload;
        Burst burst(packets, n.verdicts.data(), count, &n.runtime->totals_, shadows.table(), view);
        t_in_process = &n;
        n.filter->process(burst);
        t_in_process = nullptr;
        n.in += count;
        if (n.access != Access::metadata) shadows.account_in_place(packets, count, n.access, n.shadow);
        if (n.access == Access::write) shadows.forget(packets, count);
        return burst;
    }

    // The common case of a burst whose packets all got the same verdict (one
    // class, or the same drop): one lookup and bulk moves instead of a
    // lookup and an enqueue per packet. False when the verdicts differ.
    static bool route_uniform(rte_graph* graph, rte_node* node, Runtime::Node& n, rte_mbuf** packets, uint16_t count,
                              bool whole_stream) {
        const uint32_t v = n.verdicts[0];
        uint32_t differ = 0;
        for (uint16_t i = 1; i < count; i++) differ |= n.verdicts[i] ^ v;
        if (differ) return false;
        auto** objs = reinterpret_cast<void**>(packets);
        if (v & kHandedOverBit) {  // a device holds them now; nothing to release
            if (v & kDropBit) n.drops[v & 0xff] += count;
            else n.out += count;
            return true;
        }
        if (v & kDropBit) {
            auto reason = static_cast<DropReason>(v & 0xff);
            n.drops[reason] += count;
            for (uint16_t i = 0; i < count; i++) meta(packets[i]).release_reason = reason;
            rte_node_enqueue(graph, node, 0, objs, count);
            return true;
        }
        n.out += count;
        const Targets& t = n.routing.lookup(v);
        size_t k = t.edges.size();
        if (k == 0) {
            for (uint16_t i = 0; i < count; i++) meta(packets[i]).release_reason = t.end_reason;
            rte_node_enqueue(graph, node, 0, objs, count);
            return true;
        }
        if (k == 1 && whole_stream) {
            rte_node_next_stream_move(graph, node, t.edges[0]);
            return true;
        }
        if (k > 1)
            for (uint16_t i = 0; i < count; i++) {
                rte_pktmbuf_refcnt_update(packets[i], static_cast<int16_t>(k - 1));
                meta(packets[i]).graph_refs = static_cast<uint8_t>(meta(packets[i]).graph_refs + k - 1);
            }
        for (rte_edge_t e : t.edges) rte_node_enqueue(graph, node, e, objs, count);
        return true;
    }

    static void route(rte_graph* graph, rte_node* node, Runtime::Node& n, rte_mbuf** packets, uint16_t count) {
        for (uint16_t i = 0; i < count; i++) {
            rte_mbuf* m = packets[i];
            uint32_t v = n.verdicts[i];
            if (v & kHandedOverBit) {  // a device holds it now; nothing to release
                if (v & kDropBit) n.drops[v & 0xff]++;
                else n.out++;
                continue;
            }
            if (v & kDropBit) {
                auto reason = static_cast<DropReason>(v & 0xff);
                n.drops[reason]++;
                meta(m).release_reason = reason;
                rte_node_enqueue_x1(graph, node, 0, m);
                continue;
            }
            n.out++;
            const Targets& t = n.routing.lookup(v);
            size_t k = t.edges.size();
            if (k == 0) {
                meta(m).release_reason = t.end_reason;
                rte_node_enqueue_x1(graph, node, 0, m);
                continue;
            }
            // Fan-out shares the packet by reference count; nothing is copied.
            // Every segment holds its own count, so chains are counted whole.
            if (k > 1) {
                rte_pktmbuf_refcnt_update(m, static_cast<int16_t>(k - 1));
                meta(m).graph_refs = static_cast<uint8_t>(meta(m).graph_refs + k - 1);
            }
            for (rte_edge_t e : t.edges) rte_node_enqueue_x1(graph, node, e, m);
        }
    }

    // Releases one graph reference per object; the last one decides the
    // packet's final fate: written by some sink, or dropped for the reason the
    // last branch gave. The mbufs are freed in bulk, which drops one mbuf
    // reference per appearance, in order (a packet on several branches may
    // appear several times; a NIC's transmit ring may still hold one).
    static uint16_t drop(rte_graph*, rte_node* node, void** objs, uint16_t count) {
        Runtime* rt = runtime_of(node);
        auto** packets = reinterpret_cast<rte_mbuf**>(objs);
        for (uint16_t i = 0; i < count; i++) {
            PacketMeta& pm = meta(packets[i]);
            if (--pm.graph_refs == 0) {
                if (pm.flags & kWritten) rt->totals_.written++;
                else rt->totals_.drops[pm.release_reason]++;
            }
        }
        rte_pktmbuf_free_bulk(packets, count);
        return count;
    }
};

const char* access_name(Access access) {
    switch (access) {
    case Access::metadata: return "metadata";
    case Access::headers: return "headers";
    case Access::payload: return "payload";
    case Access::write: return "write";
    }
    return "?";
}

uint64_t NodeReport::dropped() const {
    uint64_t n = 0;
    for (const auto& [reason, count] : drops) n += count;
    return n;
}

uint64_t Report::dropped() const {
    uint64_t n = 0;
    for (const auto& [reason, count] : drops) n += count;
    return n;
}

static_assert(RTE_GRAPH_BURST_SIZE == kMaxBurst, "the SDK promises filters bursts of at most kMaxBurst packets");

namespace {

void on_terminate() {
    if (const Runtime::Node* n = t_in_process) {
        std::string what = "an exception that is not a std::exception";
        if (std::exception_ptr e = std::current_exception()) {
            try {
                std::rethrow_exception(e);
            } catch (const std::exception& x) {
                what = x.what();
            } catch (...) {
            }
        }
        const std::string& origin = n->type ? filter_origin(n->type->name) : std::string();
        std::fprintf(stderr, "fatal: filter '%s' (node %s%s) threw from process(), which must not throw: %s\n",
                     n->type ? n->type->name : "parse", n->name.c_str(),
                     origin.empty() ? "" : fmt::format(", plugin {}", origin).c_str(), what.c_str());
    }
    if (g_previous_terminate) g_previous_terminate();
    std::abort();
}

}  // namespace

Runtime::Runtime(const lang::Program& program, const BuildOptions& options, Runtime* previous)
    : options_(options), previous_(previous) {
    if (g_generation == 0) g_previous_terminate = std::set_terminate(on_terminate);
    generation_ = g_generation++;
    build(program);
    check_acyclic();
    construct_filters();
    compute_routing();
    bool copies = false;
    for (const auto& node : nodes_) copies |= node->policy.policy != shadow::Policy::zero_copy;
    shadows_ = std::make_unique<shadow::Shadows>(options_.shadow, copies, options_.largest_packet, options_.socket,
                                                 options_.copy_engine);
}

void Runtime::take_over() noexcept {
    if (!previous_) return;
    totals_ = previous_->totals_;
    rx_shadow_ = previous_->rx_shadow_;
    for (auto& node : nodes_) {
        Node* old = nullptr;
        for (auto& o : previous_->nodes_)
            if (o->name == node->name) old = o.get();
        if (!old) continue;
        node->in = old->in;
        node->out = old->out;
        node->drops = old->drops;
        node->shadow = old->shadow;
        node->earlier_calls = old->earlier_calls + (old->rte ? old->rte->total_calls : 0);
        node->earlier_cycles = old->earlier_cycles + (old->rte ? old->rte->total_cycles : 0);
        if (node->adopt == old) {
            // The filter keeps its state, its open files and its counters
            // (a deque moves without moving its elements, which the filter
            // holds references to).
            node->filter = std::move(old->filter);
            node->counters = std::move(old->counters);
            node->info = std::move(old->info);
            continue;
        }
        for (auto& [name, value] : node->counters)
            for (const auto& [old_name, old_value] : old->counters)
                if (old_name == name) value += old_value;
    }
    previous_ = nullptr;
}

Runtime::~Runtime() {
    // A walk always runs until every stream is empty, so no packet is queued
    // here; rte_graph_destroy frees only the graph's own memory.
    if (graph_id_ != RTE_GRAPH_ID_INVALID) rte_graph_destroy(graph_id_);
}

size_t Runtime::add_node(const lang::Stage& stage, const std::string& share_key, const shadow::PolicyConfig& policy) {
    // A shared node (`tx 1` on two branches) keeps the policy of its first
    // use; shared nodes are sinks, which read no bytes.
    if (!share_key.empty())
        for (size_t i = 0; i < nodes_.size(); i++)
            if (nodes_[i]->share_key == share_key) return i;
    auto node = std::make_unique<Node>();
    node->runtime = this;
    node->policy = policy;
    node->type = find_filter_type(stage.filter);
    node->where = stage.where;
    node->share_key = share_key;
    std::vector<Arg> args;
    for (const auto& a : stage.args) {
        if (a.key == "name") {
            if (!valid_node_name(a.value))
                throw ConfigError(a.value_where, fmt::format("'{}' is not a valid node name", a.value),
                                  "use up to 40 letters, digits and '_', '-', '.', '#', ':'");
            node->name = a.value;
        } else {
            args.push_back(a);
        }
    }
    if (node->name.empty()) {
        size_t same = 1;
        for (const auto& n : nodes_) same += n->type == node->type;
        node->name = fmt::format("{}#{}", stage.filter, same);
    }
    for (const auto& n : nodes_)
        if (n->name == node->name)
            throw ConfigError(stage.where, fmt::format("two nodes are named '{}'", node->name),
                              "give each a different name=");
    node->signature = stage.filter;
    for (const auto& a : args) node->signature += "\x1f" + a.key + "=" + a.value;
    node->args = Args(stage.filter, stage.where, std::move(args));
    nodes_.push_back(std::move(node));
    return nodes_.size() - 1;
}

void Runtime::build(const lang::Program& program) {
    auto parse_node = std::make_unique<Node>();
    parse_node->runtime = this;
    parse_node->name = "parse";
    parse_node->signature = "parse";
    parse_node->policy = options_.shadow;
    nodes_.push_back(std::move(parse_node));

    struct Setting {
        shadow::PolicyConfig policy;
        const lang::ShadowSetting* where;
        bool defined = false;
    };
    std::map<std::string, Setting> settings;
    for (const auto& s : program.shadow_settings) {
        std::string error;
        auto policy = shadow::parse_policy(s.policy, error);
        if (!policy) throw ConfigError(s.policy_where, error);
        auto [it, added] = settings.emplace(s.stream, Setting{*policy, &s});
        if (!added)
            throw ConfigError(s.stream_where, fmt::format("stream '{}' has two shadow policies", s.stream),
                              fmt::format("the first is on line {}", it->second.where->stream_where.line));
    }

    // A named stream is a node plus the edge that reading it implies
    // (`x = rx 1` reads class 1 of the parse node).
    struct Stream {
        size_t node = 0;
        lang::Edge edge{};
        Location where{};
        bool read = false;
        shadow::PolicyConfig policy;  // of the filters that read it
    };
    std::map<std::string, Stream> streams;
    const auto filter_names = filter_type_names();

    for (const auto& p : program.pipelines) {
        Stream from;
        from.where = p.origin.where;
        from.policy = options_.shadow;
        if (p.origin.kind == lang::Origin::Kind::rx) {
            if (p.origin.port) {
                if (*p.origin.port >= options_.input_count)
                    throw ConfigError(p.origin.where,
                                      fmt::format("rx {}: there {} only {} {}{} (rx 0 to rx {})", *p.origin.port,
                                                  options_.input_count == 1 ? "is" : "are", options_.input_count,
                                                  options_.live ? "port" : "input",
                                                  options_.input_count == 1 ? "" : "s", options_.input_count - 1));
                from.edge.kind = lang::Edge::Kind::cls;
                from.edge.cls = *p.origin.port;
            }
        } else {
            auto it = streams.find(p.origin.stream);
            if (it == streams.end()) {
                if (find_filter_type(p.origin.stream))
                    throw ConfigError(p.origin.where,
                                      fmt::format("a pipeline starts with 'rx' or a stream name, not the filter '{}'",
                                                  p.origin.stream),
                                      fmt::format("write: rx | {}", p.origin.stream));
                std::vector<std::string> known = {"rx"};
                for (const auto& [name, s] : streams) known.push_back(name);
                std::string near = lang::nearest(p.origin.stream, known);
                throw ConfigError(p.origin.where, fmt::format("unknown stream '{}'", p.origin.stream),
                                  near.empty() ? "define it first: NAME = rx | ..."
                                               : fmt::format("did you mean '{}'?", near));
            }
            it->second.read = true;
            from = it->second;
        }

        size_t prev = from.node;
        lang::Edge pending = from.edge;
        for (const auto& stage : p.stages) {
            const FilterType* type = find_filter_type(stage.filter);
            if (!type) {
                std::string near = lang::nearest(stage.filter, filter_names);
                if (stage.filter == "rx")
                    throw ConfigError(stage.where, "'rx' can only start a pipeline");
                throw ConfigError(stage.where, fmt::format("unknown filter '{}'", stage.filter),
                                  near.empty() ? fmt::format("known filters: {}", fmt::join(filter_names, ", "))
                                               : fmt::format("did you mean '{}'?", near));
            }
            lang::Edge edge = stage.edge;
            if (pending.kind != lang::Edge::Kind::all) {
                if (edge.kind != lang::Edge::Kind::all)
                    throw ConfigError(edge.where, "this stream already selects a class; add a filter before '|N'");
                edge = pending;
                edge.where = stage.edge.where;
                pending = {};
            }
            std::string share_key;
            if (type->flags & kSharedByArgs) {
                share_key = stage.filter;
                for (const auto& a : stage.args)
                    if (a.key != "name") share_key += "\x1f" + a.key + "=" + a.value;
            }
            size_t target = add_node(stage, share_key, from.policy);
            // Packets enter a prefetch stream whole; rx's prefetch pulled
            // them as they were read.
            if (&stage == &p.stages.front() && p.origin.kind == lang::Origin::Kind::stream &&
                from.policy.policy == shadow::Policy::prefetch && options_.shadow.policy != shadow::Policy::prefetch)
                nodes_[target]->pulls_ahead = true;
            nodes_[prev]->outs.push_back({edge.kind, edge.cls, target, edge.where});
            prev = target;
        }
        if (p.name) {
            const std::string& name = *p.name;
            if (name == "rx" || find_filter_type(name))
                throw ConfigError(p.name_where, fmt::format("'{}' is a filter name; choose another stream name", name));
            if (streams.count(name))
                throw ConfigError(p.name_where, fmt::format("stream '{}' is defined twice", name),
                                  fmt::format("the first definition is on line {}", streams[name].where.line));
            Stream& s = streams[name];
            s.node = prev;
            s.edge = pending;
            s.where = p.name_where;
            s.policy = from.policy;
            if (auto it = settings.find(name); it != settings.end()) {
                s.policy = it->second.policy;
                it->second.defined = true;
            }
        }
    }
    for (const auto& [name, setting] : settings) {
        if (setting.defined) continue;
        std::vector<std::string> known;
        for (const auto& [stream, s] : streams) known.push_back(stream);
        std::string near = lang::nearest(name, known);
        throw ConfigError(setting.where->stream_where, fmt::format("shadow: unknown stream '{}'", name),
                          near.empty() ? "name a stream defined with NAME = ..." : fmt::format("did you mean '{}'?", near));
    }
}

void Runtime::check_acyclic() const {
    // Shared sinks are the only way back into the graph; a pipeline that
    // feeds a sink's output into itself would loop forever.
    std::vector<int> state(nodes_.size(), 0);
    std::function<void(size_t)> visit = [&](size_t i) {
        state[i] = 1;
        for (const auto& o : nodes_[i]->outs) {
            if (state[o.target] == 1)
                throw ConfigError(o.where, fmt::format("this edge makes a loop through '{}'", nodes_[o.target]->name));
            if (state[o.target] == 0) visit(o.target);
        }
        state[i] = 2;
    };
    for (size_t i = 0; i < nodes_.size(); i++)
        if (state[i] == 0) visit(i);

    // A packet holds one graph reference per path it is on (PacketMeta's
    // graph_refs is 8 bits); count the paths from the parse node.
    std::vector<uint64_t> paths(nodes_.size(), 0);
    std::function<uint64_t(size_t)> count_paths = [&](size_t i) -> uint64_t {
        if (paths[i]) return paths[i];
        uint64_t n = 0;
        for (const auto& o : nodes_[i]->outs) n = std::min<uint64_t>(n + count_paths(o.target), 1u << 20);
        return paths[i] = std::max<uint64_t>(n, 1);
    };
    if (count_paths(0) > 255)
        throw ConfigError(nodes_[0]->outs.empty() ? Location{} : nodes_[0]->outs[0].where,
                          fmt::format("a packet could be on {} branches at once; at most 255 are allowed",
                                      count_paths(0)));
}

void Runtime::construct_filters() {
    for (auto& node : nodes_) {
        // A reload keeps the filter of a node that is the same as before:
        // same name, same filter, same arguments.
        if (previous_) {
            auto same = std::find_if(previous_->nodes_.begin(), previous_->nodes_.end(), [&](const auto& o) {
                return o->name == node->name && o->signature == node->signature && o->filter;
            });
            if (same != previous_->nodes_.end()) {
                node->adopt = same->get();
                node->access = (*same)->access;
                continue;
            }
        }
        // The parse node reads headers; a filter may change its type's
        // declaration from its arguments (set_access).
        node->access = node->type ? node->type->access : Access::headers;
        Context ctx(*node, options_);
        // A plugin's errors name the plugin: its author and its user are
        // rarely the same person.
        const std::string& origin = node->type ? filter_origin(node->type->name) : std::string();
        std::string from = origin.empty() ? "" : fmt::format(" (plugin {})", origin);
        try {
            node->filter = node->type ? node->type->create(ctx) : make_parse_filter(ctx);
        } catch (const ConfigError& e) {
            if (origin.empty()) throw;
            if (!e.has_location()) throw ConfigError(node->where, e.what() + from);
            throw ConfigError(e.where(), e.what() + from, e.hint());
        } catch (const std::exception& e) {
            throw ConfigError(node->where, fmt::format("{}{}: {}", node->args.filter(), from, e.what()));
        } catch (...) {
            throw ConfigError(node->where,
                              fmt::format("{}{}: threw an exception that is not a std::exception", node->args.filter(), from));
        }
        if (!node->filter) throw ConfigError(node->where, fmt::format("{}: the filter could not be created", node->name));
    }
}

void Runtime::compute_routing() {
    for (auto& node : nodes_) {
        // One edge per distinct successor, numbered from 1 (edge 0 is drop).
        std::vector<size_t> successors;
        auto edge_of = [&](size_t target) -> rte_edge_t {
            auto it = std::find(successors.begin(), successors.end(), target);
            if (it == successors.end()) {
                successors.push_back(target);
                return static_cast<rte_edge_t>(successors.size());
            }
            return static_cast<rte_edge_t>(it - successors.begin() + 1);
        };
        std::vector<rte_edge_t> always, otherwise;
        std::map<uint32_t, std::vector<rte_edge_t>> by_class;
        for (const auto& o : node->outs) {
            rte_edge_t e = edge_of(o.target);
            switch (o.kind) {
            case lang::Edge::Kind::all: always.push_back(e); break;
            case lang::Edge::Kind::cls: by_class[o.cls].push_back(e); break;
            case lang::Edge::Kind::otherwise: otherwise.push_back(e); break;
            }
        }
        Routing& r = node->routing;
        bool has_class_edges = !by_class.empty() || !otherwise.empty();
        DropReason end = has_class_edges ? kUnclassified : kEndOfPipeline;
        for (auto& [cls, edges] : by_class) {
            Targets t;
            t.edges = always;
            t.edges.insert(t.edges.end(), edges.begin(), edges.end());
            t.end_reason = end;
            r.classes.push_back(cls);
            r.class_targets.push_back(std::move(t));
        }
        r.otherwise.edges = always;
        r.otherwise.edges.insert(r.otherwise.edges.end(), otherwise.begin(), otherwise.end());
        r.otherwise.end_reason = end;
        if (!has_class_edges && always.size() == 1) r.single = always[0];
        node->successors = std::move(successors);
    }
}

namespace {

rte_node_t base_node(const std::string& name, rte_node_process_t process, bool source) {
    static std::map<std::string, rte_node_t> bases;
    auto it = bases.find(name);
    if (it != bases.end()) return it->second;
    rte_node_register reg{};
    rte_strscpy(reg.name, name.c_str(), sizeof(reg.name));
    reg.flags = source ? RTE_NODE_SOURCE_F : 0;
    reg.process = process;
    reg.init = NodeCallbacks::init;
    reg.parent_id = RTE_NODE_ID_INVALID;
    rte_node_t id = __rte_node_register(&reg);
    if (id == RTE_NODE_ID_INVALID) throw RuntimeError(fmt::format("cannot register graph node '{}'", name));
    bases[name] = id;
    return id;
}

std::string clone_name(const std::string& display, unsigned generation) {
    return generation == 0 ? display : fmt::format("{}~{}", display, generation);
}

rte_node_t clone(rte_node_t base, const std::string& name) {
    rte_node_t id = rte_node_clone(base, name.c_str());
    if (id == RTE_NODE_ID_INVALID) throw RuntimeError(fmt::format("cannot create graph node '{}'", name));
    return id;
}

}  // namespace

void Runtime::start(Source& source) {
    source_ = &source;
    std::string drop_name = clone_name("drop", generation_);
    std::string source_name = clone_name("rx", generation_);
    // The runtime's own node types carry a ':' that no filter name can hold,
    // so that a filter called "drop" never shares the release node's type.
    drop_id_ = clone(base_node("sl:release", NodeCallbacks::drop, false), drop_name);
    source_id_ = clone(base_node("sl:rx", NodeCallbacks::source, true), source_name);
    std::vector<std::string> full_names;
    for (auto& node : nodes_) {
        std::string base = node->type ? fmt::format("sl_{}", node->type->name) : "sl:parse";
        node->id = clone(base_node(base, NodeCallbacks::filter, false), clone_name(node->name, generation_));
        full_names.push_back(rte_node_id_to_name(node->id));
    }
    std::string drop_full = rte_node_id_to_name(drop_id_);
    std::string source_full = rte_node_id_to_name(source_id_);
    const char* parse_full = full_names[0].c_str();
    if (rte_node_edge_update(source_id_, 0, &parse_full, 1) != 1)
        throw RuntimeError("cannot connect the source node");
    for (size_t i = 0; i < nodes_.size(); i++) {
        std::vector<const char*> next = {drop_full.c_str()};
        for (size_t s : nodes_[i]->successors) next.push_back(full_names[s].c_str());
        if (rte_node_edge_update(nodes_[i]->id, 0, next.data(), static_cast<uint16_t>(next.size())) != next.size())
            throw RuntimeError(fmt::format("cannot connect graph node '{}'", nodes_[i]->name));
    }

    std::vector<const char*> patterns = {source_full.c_str(), drop_full.c_str()};
    for (const auto& n : full_names) patterns.push_back(n.c_str());
    graph_name_ = fmt::format("sl-{}", generation_);
    rte_graph_param param{};
    param.socket_id = options_.socket;
    param.nb_node_patterns = static_cast<uint16_t>(patterns.size());
    param.node_patterns = patterns.data();
    g_creating = this;
    graph_id_ = rte_graph_create(graph_name_.c_str(), &param);
    g_creating = nullptr;
    if (graph_id_ == RTE_GRAPH_ID_INVALID)
        throw RuntimeError(fmt::format("cannot create the graph: {}", rte_strerror(rte_errno)));
    graph_ = rte_graph_lookup(graph_name_.c_str());
}

void Runtime::finish() {
    if (finished_) return;
    finished_ = true;
    std::string errors;
    for (auto& node : nodes_) {
        if (!node->filter) continue;  // taken over by the next graph
        try {
            node->filter->finish();
        } catch (const std::exception& e) {
            errors += (errors.empty() ? "" : "\n") + fmt::format("{}: {}", node->name, e.what());
        }
    }
    if (!errors.empty()) throw RuntimeError(errors);
}

std::vector<std::pair<std::string, std::vector<std::string>>> Runtime::edges() const {
    std::vector<std::pair<std::string, std::vector<std::string>>> out = {{"rx", {nodes_[0]->name}}};
    for (const auto& node : nodes_) {
        std::vector<std::string> next;
        for (size_t s : node->successors) next.push_back(nodes_[s]->name);
        out.emplace_back(node->name, std::move(next));
    }
    return out;
}

bool Runtime::writes_packets() const noexcept {
    for (const auto& node : nodes_)
        if (node->access == Access::write) return true;
    return false;
}

Report Runtime::report() const {
    Report r;
    r.packets_read = totals_.read;
    r.packets_written = totals_.written;
    for (size_t i = 0; i < totals_.drops.size(); i++)
        if (totals_.drops[i]) r.drops[drop_reason_name(static_cast<DropReason>(i))] = totals_.drops[i];
    r.shadow_policy = shadow::policy_name(options_.shadow);
    r.copy_engine = shadows_->engine().name();
    NodeReport rx;
    rx.access = "metadata";
    rx.policy = r.shadow_policy;
    rx.shadow = rx_shadow_;
    r.shadow.add(rx_shadow_);
    rx.name = "rx";
    rx.filter = "rx";
    rx.packets_in = rx.packets_out = totals_.read;
    // Polling ports spends cycles on empty queues too; per packet that says
    // nothing, so a live source shows none.
    if (source_node_ && !options_.live) {
        rx.calls = source_node_->total_calls;
        rx.cycles = source_node_->total_cycles;
    }
    r.nodes.push_back(rx);
    for (const auto& node : nodes_) {
        NodeReport n;
        n.name = node->name;
        n.filter = node->type ? node->type->name : "parse";
        n.packets_in = node->in;
        n.packets_out = node->out;
        for (size_t i = 0; i < node->drops.size(); i++)
            if (node->drops[i]) n.drops[drop_reason_name(static_cast<DropReason>(i))] = node->drops[i];
        n.counters.assign(node->counters.begin(), node->counters.end());
        n.info = node->info;
        n.access = access_name(node->access);
        n.policy = shadow::policy_name(node->policy);
        n.shadow = node->shadow;
        r.shadow.add(node->shadow);
        n.calls = node->earlier_calls + (node->rte ? node->rte->total_calls : 0);
        n.cycles = node->earlier_cycles + (node->rte ? node->rte->total_cycles : 0);
        r.nodes.push_back(std::move(n));
    }
    return r;
}

void Runtime::export_dot(const std::string& path) const {
    FILE* f = std::fopen(path.c_str(), "w");
    if (!f) throw RuntimeError(fmt::format("{}: {}", path, std::strerror(errno)));
    int rc = graph_ ? rte_graph_export(graph_name_.c_str(), f) : -1;
    if (std::fclose(f) != 0 || rc != 0) throw RuntimeError(fmt::format("{}: cannot write the graph", path));
}

}  // namespace sl::graph
