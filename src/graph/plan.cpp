#include "graph/plan.hpp"

#include <algorithm>
#include <cctype>
#include <functional>
#include <map>

#include <fmt/format.h>

#include "sdk/suggest.hpp"

namespace sl::graph {

// Builds a Plan from a program, statement by statement.
class Planner {
public:
    Planner(const Registry& registry, const PlanOptions& options) : registry_(registry) {
        plan_.options_ = options;
        PlanNode parse;
        parse.name = "parse";
        parse.signature = "parse";
        parse.access = Access::metadata;  // the input port only; the parse itself is lazy
        parse.policy = options.shadow;
        plan_.nodes_.push_back(std::move(parse));
    }

    Plan build(const lang::Program& program) {
        read_shadow_settings(program);
        for (const auto& p : program.pipelines) add_pipeline(p);
        check_shadow_settings();
        check_acyclic();
        check_branches();
        for (auto& node : plan_.nodes_) route(node);
        count_ways_in();
        find_only_inputs();
        check_streams();
        check_keepers();
        return std::move(plan_);
    }

private:
    // A named stream is a node plus the edge that reading it implies
    // (`x = rx 1` reads class 1 of the parse node).
    struct Stream {
        size_t node = 0;
        lang::Edge edge{};
        Location where{};
        shadow::PolicyConfig policy;  // of the filters that read it
    };
    struct Setting {
        shadow::PolicyConfig policy;
        const lang::ShadowSetting* statement;
        bool defined = false;
    };

    const PlanOptions& options() const { return plan_.options_; }
    std::vector<PlanNode>& nodes() { return plan_.nodes_; }

    void read_shadow_settings(const lang::Program& program) {
        for (const auto& s : program.shadow_settings) {
            std::string error;
            auto policy = shadow::parse_policy(s.policy, error);
            if (!policy) throw ConfigError(s.policy_where, error);
            auto [it, added] = settings_.emplace(s.stream, Setting{*policy, &s});
            if (!added)
                throw ConfigError(s.stream_where, fmt::format("stream '{}' has two shadow policies", s.stream),
                                  fmt::format("the first is on line {}", it->second.statement->stream_where.line));
        }
    }

    Stream origin(const lang::Origin& o) {
        Stream from;
        from.where = o.where;
        from.policy = options().shadow;
        if (o.kind == lang::Origin::Kind::rx) {
            if (o.port) {
                unsigned inputs = options().input_count;
                if (*o.port >= inputs)
                    throw ConfigError(o.where, fmt::format("rx {}: there {} only {} {}{} (rx 0 to rx {})", *o.port,
                                                           inputs == 1 ? "is" : "are", inputs,
                                                           options().live ? "port" : "input", inputs == 1 ? "" : "s",
                                                           inputs - 1));
                from.edge.kind = lang::Edge::Kind::cls;
                from.edge.cls = *o.port;
            }
            return from;
        }
        auto it = streams_.find(o.stream);
        if (it != streams_.end()) return it->second;
        if (registry_.find(o.stream))
            throw ConfigError(o.where,
                              fmt::format("a pipeline starts with 'rx' or a stream name, not the filter '{}'", o.stream),
                              fmt::format("write: rx | {}", o.stream));
        std::vector<std::string> known = {"rx"};
        for (const auto& [name, s] : streams_) known.push_back(name);
        std::string near = nearest(o.stream, known);
        throw ConfigError(o.where, fmt::format("unknown stream '{}'", o.stream),
                          near.empty() ? "define it first: NAME = rx | ..." : fmt::format("did you mean '{}'?", near));
    }

    const FilterType& type_of(const lang::Stage& stage) {
        if (const FilterType* type = registry_.find(stage.filter)) return *type;
        if (stage.filter == "rx") throw ConfigError(stage.where, "'rx' can only start a pipeline");
        auto names = registry_.names();
        std::string near = nearest(stage.filter, names);
        throw ConfigError(stage.where, fmt::format("unknown filter '{}'", stage.filter),
                          near.empty() ? fmt::format("known filters: {}", fmt::join(names, ", "))
                                       : fmt::format("did you mean '{}'?", near));
    }

    void add_pipeline(const lang::Pipeline& p) {
        Stream from = origin(p.origin);
        size_t prev = from.node;
        lang::Edge pending = from.edge;
        for (const auto& stage : p.stages) {
            const FilterType& type = type_of(stage);
            lang::Edge edge = stage.edge;
            if (pending.kind != lang::Edge::Kind::all) {
                if (edge.kind != lang::Edge::Kind::all)
                    throw ConfigError(edge.where, "this stream already selects a class; add a filter before '|N'");
                edge = pending;
                edge.where = stage.edge.where;
                pending = {};
            }
            size_t target = add_node(stage, type, from.policy);
            // Packets enter a prefetch stream whole; rx's prefetch pulled
            // them as they were read.
            if (&stage == &p.stages.front() && p.origin.kind == lang::Origin::Kind::stream &&
                from.policy.policy == shadow::Policy::prefetch && options().shadow.policy != shadow::Policy::prefetch)
                nodes()[target].pulls_ahead = true;
            check_sets_classes(nodes()[prev], edge);
            nodes()[prev].outs.push_back({edge.kind, edge.cls, target, edge.where});
            prev = target;
        }
        if (!p.name) return;
        const std::string& name = *p.name;
        if (name == "rx" || registry_.find(name))
            throw ConfigError(p.name_where, fmt::format("'{}' is a filter name; choose another stream name", name));
        if (auto it = streams_.find(name); it != streams_.end())
            throw ConfigError(p.name_where, fmt::format("stream '{}' is defined twice", name),
                              fmt::format("the first definition is on line {}", it->second.where.line));
        Stream& s = streams_[name];
        s.node = prev;
        s.edge = pending;
        s.where = p.name_where;
        s.policy = from.policy;
        if (auto it = settings_.find(name); it != settings_.end()) {
            s.policy = it->second.policy;
            it->second.defined = true;
        }
    }

    // After a filter that never sets a class every packet has class 0: a
    // class edge there either takes nothing (`|6`, the rest dropped as
    // unclassified) or everything (`|0`, `|else`), and either way says
    // something the graph does not do. (`rx N` is the input node's.)
    void check_sets_classes(const PlanNode& from, const lang::Edge& edge) const {
        if (edge.kind == lang::Edge::Kind::all || !from.type || (from.type->flags & kClassifier)) return;
        std::vector<std::string> classifiers;
        for (const auto& name : registry_.names())
            if (const FilterType* t = registry_.find(name); t && (t->flags & kClassifier)) classifiers.push_back(name);
        std::string written = edge.kind == lang::Edge::Kind::cls ? fmt::format("|{}", edge.cls) : "|else";
        throw ConfigError(edge.where,
                          fmt::format("'{}' follows {}, which sets no class (every packet it passes has class 0)",
                                      written, from.name),
                          fmt::format("a class edge follows a classifier: {}", fmt::join(classifiers, ", ")));
    }

    static bool valid_node_name(const std::string& s) {
        if (s.empty() || s.size() > 40) return false;
        for (char c : s)
            if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.' || c == '#' ||
                  c == ':'))
                return false;
        return true;
    }

    size_t add_node(const lang::Stage& stage, const FilterType& type, const shadow::PolicyConfig& policy) {
        std::string signature = stage.filter;
        std::vector<Arg> args;
        std::string name;
        for (const auto& a : stage.args) {
            if (a.key != "name") {
                signature += "\x1f" + a.key + "=" + a.value;
                args.push_back(a);
                continue;
            }
            if (!valid_node_name(a.value))
                throw ConfigError(a.value_where, fmt::format("'{}' is not a valid node name", a.value),
                                  "use up to 40 letters, digits and '_', '-', '.', '#', ':'");
            name = a.value;
        }
        // A shared node (`tx 1` on two branches) is one node for all of its
        // uses, under the policy of its first; shared nodes are sinks, which
        // read no bytes.
        if (type.flags & kSharedByArgs)
            for (size_t i = 0; i < nodes().size(); i++)
                if (nodes()[i].type == &type && nodes()[i].signature == signature) return i;
        PlanNode node;
        node.type = &type;
        node.where = stage.where;
        node.signature = signature;
        node.access = type.access;
        node.reads_parsed = !(type.flags & kNoParse);
        node.policy = policy;
        if (name.empty()) {
            size_t same = 1;
            for (const auto& n : nodes()) same += n.type == &type;
            name = fmt::format("{}#{}", stage.filter, same);
        }
        for (const auto& n : nodes())
            if (n.name == name)
                throw ConfigError(stage.where, fmt::format("two nodes are named '{}'", name),
                                  "give each a different name=");
        node.name = std::move(name);
        node.args = Args(stage.filter, stage.where, std::move(args));
        nodes().push_back(std::move(node));
        return nodes().size() - 1;
    }

    void check_shadow_settings() const {
        for (const auto& [name, setting] : settings_) {
            if (setting.defined) continue;
            std::vector<std::string> known;
            for (const auto& [stream, s] : streams_) known.push_back(stream);
            std::string near = nearest(name, known);
            throw ConfigError(setting.statement->stream_where, fmt::format("shadow: unknown stream '{}'", name),
                              near.empty() ? "name a stream defined with NAME = ..."
                                           : fmt::format("did you mean '{}'?", near));
        }
    }

    // Shared sinks are the only way back into the graph; a pipeline that
    // feeds a sink's output into itself would loop forever.
    void check_acyclic() {
        std::vector<int> state(nodes().size(), 0);
        std::function<void(size_t)> visit = [&](size_t i) {
            state[i] = 1;
            for (const auto& o : nodes()[i].outs) {
                if (state[o.target] == 1)
                    throw ConfigError(o.where, fmt::format("this edge makes a loop through '{}'", nodes()[o.target].name));
                if (state[o.target] == 0) visit(o.target);
            }
            state[i] = 2;
        };
        for (size_t i = 0; i < nodes().size(); i++)
            if (state[i] == 0) visit(i);
    }

    // A packet holds one graph reference per path it is on, in 8 bits;
    // count the paths from the parse node.
    void check_branches() {
        std::vector<uint64_t> paths(nodes().size(), 0);
        std::function<uint64_t(size_t)> count_paths = [&](size_t i) -> uint64_t {
            if (paths[i]) return paths[i];
            uint64_t n = 0;
            for (const auto& o : nodes()[i].outs) n = std::min<uint64_t>(n + count_paths(o.target), 1u << 20);
            return paths[i] = std::max<uint64_t>(n, 1);
        };
        const PlanNode& parse = nodes()[0];
        plan_.branches_ = count_paths(0);
        if (count_paths(0) > 255)
            throw ConfigError(parse.outs.empty() ? Location{} : parse.outs[0].where,
                              fmt::format("a packet could be on {} branches at once; at most 255 are allowed",
                                          count_paths(0)));
    }

    // How many ways lead from the parse node to each node, one per distinct
    // successor of each node on the way: a node that branches reach by two
    // ways sees a burst's packets in another order than they came.
    void count_ways_in() {
        std::vector<uint64_t> ways(nodes().size(), 0);
        std::function<uint64_t(size_t)> count = [&](size_t i) -> uint64_t {
            if (i == 0) return 1;
            if (ways[i]) return ways[i];
            uint64_t n = 0;
            for (size_t p = 0; p < nodes().size(); p++)
                for (size_t t : nodes()[p].successors)
                    if (t == i) n = std::min<uint64_t>(n + count(p), 255);
            return ways[i] = n;
        };
        for (size_t i = 0; i < nodes().size(); i++) plan_.nodes_[i].ways_in = static_cast<unsigned>(count(i));
    }

    // Stream chunks ride on packets from the filter that makes them to the
    // filters that read them; a reader that some path reaches without a
    // maker would read nothing, and a maker reached twice by one packet
    // would take its second visit for a retransmission.
    void check_streams() {
        auto flags = [&](size_t i) { return nodes()[i].type ? nodes()[i].type->flags : 0u; };
        std::vector<int> unmade(nodes().size(), -1);  // some path reaches it with no maker on it
        std::function<bool(size_t)> reached_unmade = [&](size_t i) -> bool {
            if (i == 0) return true;
            if (unmade[i] >= 0) return unmade[i];
            bool any = false;
            for (size_t p = 0; p < nodes().size() && !any; p++)
                for (size_t t : nodes()[p].successors)
                    if (t == i && reached_unmade(p) && !(flags(p) & kMakesStreams)) any = true;
            unmade[i] = any;
            return any;
        };
        // A packet carries one chunk: two makers would give a packet that
        // both see two, and the readers after the first the second's.
        size_t maker = 0;
        for (size_t i = 1; i < nodes().size(); i++) {
            const PlanNode& n = nodes()[i];
            if ((flags(i) & kMakesStreams) && maker)
                throw ConfigError(n.where, fmt::format("a graph has one stream maker; {} is a second", n.filter_name()),
                                  fmt::format("name the first one's output and read it on every branch: "
                                              "tcp = rx | {}; tcp | ...", nodes()[maker].filter_name()));
            if (flags(i) & kMakesStreams) maker = i;
            if ((flags(i) & kMakesStreams) && n.ways_in > 1)
                throw ConfigError(n.where, fmt::format("{} makes streams and must be reached by one path; {} lead here",
                                                       n.filter_name(), n.ways_in),
                                  "put it before the branches");
            if ((flags(i) & kReadsStreams) && reached_unmade(i))
                throw ConfigError(n.where, fmt::format("{} reads TCP streams: put reassemble before it", n.filter_name()),
                                  fmt::format("rx | bpf \"tcp\" | reassemble | {}", n.filter_name()));
        }
    }

    // A filter that keeps packets frees them or changes them later (defrag
    // chains a datagram's fragments): nothing else may hold them. Before
    // it, then, a packet is on one branch only and no sink took it.
    void check_keepers() {
        for (size_t i = 1; i < nodes().size(); i++) {
            const PlanNode& n = nodes()[i];
            if (!n.type || !(n.type->flags & kKeepsPackets)) continue;
            auto refuse = [&](const std::string& why) {
                throw ConfigError(n.where, fmt::format("{} keeps packets and {}", n.filter_name(), why),
                                  fmt::format("put it first: rx | {} | ...", n.filter_name()));
            };
            if (n.ways_in > 1) refuse(fmt::format("must be reached by one path; {} lead here", n.ways_in));
            for (size_t at = i; at != 0;) {
                size_t before = 0;
                for (size_t p = 0; p < nodes().size(); p++)
                    for (size_t t : nodes()[p].successors)
                        if (t == at) before = p;
                const PlanNode& b = nodes()[before];
                // Classes that each go one way (`rx 0`, `rx 1`, `|N`) split
                // the packets without sharing them.
                bool shares = b.routing.otherwise.edges.size() > 1;
                for (const Targets& t : b.routing.class_targets) shares |= t.edges.size() > 1;
                if (shares) refuse(fmt::format("must come before any branch; {} branches", b.name));
                if (b.type && (b.type->flags & kSink)) refuse(fmt::format("must come before any sink; {} is one", b.name));
                at = before;
            }
        }
    }

    // The inputs whose packets reach each node: a node reached only from
    // one `rx N` knows where its packets come from (a pcapng sink names
    // that interface).
    void find_only_inputs() {
        constexpr int kAll = -2, kUnknown = -3, kNone = -4;
        std::vector<int> only(nodes().size(), kUnknown);
        auto merge = [](int a, int b) { return a == kNone ? b : b == kNone ? a : a == b ? a : kAll; };
        std::function<int(size_t)> from = [&](size_t i) -> int {
            if (only[i] != kUnknown) return only[i];
            int result = kNone;
            for (const auto& o : nodes()[0].outs)
                if (o.target == i) result = merge(result, o.kind == lang::Edge::Kind::cls ? int(o.cls) : kAll);
            for (size_t p = 1; p < nodes().size(); p++)
                for (const auto& o : nodes()[p].outs)
                    if (o.target == i) result = merge(result, from(p));
            return only[i] = result;
        };
        for (size_t i = 1; i < nodes().size(); i++) plan_.nodes_[i].only_input = std::max(from(i), -1);
    }

    // One edge per distinct successor, numbered from 1 (edge 0 is the
    // release node); a class edge adds to the edges every class takes.
    static void route(PlanNode& node) {
        auto edge_of = [&](size_t target) -> Edge {
            auto it = std::find(node.successors.begin(), node.successors.end(), target);
            if (it == node.successors.end()) {
                node.successors.push_back(target);
                return static_cast<Edge>(node.successors.size());
            }
            return static_cast<Edge>(it - node.successors.begin() + 1);
        };
        std::vector<Edge> always, otherwise;
        std::map<uint32_t, std::vector<Edge>> by_class;
        for (const auto& o : node.outs) {
            Edge e = edge_of(o.target);
            switch (o.kind) {
            case lang::Edge::Kind::all: always.push_back(e); break;
            case lang::Edge::Kind::cls: by_class[o.cls].push_back(e); break;
            case lang::Edge::Kind::otherwise: otherwise.push_back(e); break;
            }
        }
        Routing& r = node.routing;
        bool has_class_edges = !by_class.empty() || !otherwise.empty();
        DropReason end = has_class_edges ? kUnclassified : kEndOfPipeline;
        for (auto& [cls, edges] : by_class) {
            Targets t{always, end};
            t.edges.insert(t.edges.end(), edges.begin(), edges.end());
            r.classes.push_back(cls);
            r.class_targets.push_back(std::move(t));
        }
        r.otherwise = {always, end};
        r.otherwise.edges.insert(r.otherwise.edges.end(), otherwise.begin(), otherwise.end());
        if (!has_class_edges && always.size() == 1) r.single = always[0];
    }

    const Registry& registry_;
    Plan plan_;
    std::map<std::string, Stream> streams_;
    std::map<std::string, Setting> settings_;
};

const PlanNode* Plan::counts_input_order() const noexcept {
    for (const auto& n : nodes_)
        if (n.type && (n.type->flags & kInputOrder)) return &n;
    return nullptr;
}

std::vector<bool> Plan::inputs_read() const {
    std::vector<bool> read(options_.input_count, false);
    for (const auto& out : nodes_[0].outs) {
        if (out.kind != lang::Edge::Kind::cls) return std::vector<bool>(options_.input_count, true);
        if (out.cls < read.size()) read[out.cls] = true;
    }
    return read;
}

const PlanNode* Plan::find(std::string_view name) const noexcept {
    for (const auto& n : nodes_)
        if (n.name == name) return &n;
    return nullptr;
}

Plan plan(const lang::Program& program, const Registry& registry, const PlanOptions& options) {
    return Planner(registry, options).build(program);
}

}  // namespace sl::graph
