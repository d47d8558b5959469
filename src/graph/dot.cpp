#include "graph/dot.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>

#include <fmt/format.h>

#include <sl/error.hpp>

namespace sl::graph {
namespace {

// A double-quoted dot ID: node names are letters, digits and _-.#: (plan.cpp),
// filter arguments may hold anything.
std::string quoted(std::string_view s) {
    std::string out = "\"";
    for (char c : s) {
        if (c == '"' || c == '\\') out += '\\';
        if (c == '\n') {
            out += "\\n";
            continue;
        }
        out += c;
    }
    return out + '"';
}

}  // namespace

std::string to_dot(const Plan& plan) {
    const auto& nodes = plan.nodes();
    std::string out = "digraph streamline {\n  rankdir=LR;\n  node [shape=box, fontname=\"monospace\"];\n";
    // Node 0 takes every packet the source reads: the configuration's `rx`.
    out += "  n0 [label=\"rx\", shape=ellipse];\n";
    for (size_t i = 1; i < nodes.size(); i++) {
        const PlanNode& n = nodes[i];
        std::string label = n.name;
        // A node named with name= says which filter it runs.
        if (n.type && !n.name.starts_with(std::string(n.type->name) + "#")) label += fmt::format("\n({})", n.type->name);
        out += fmt::format("  n{} [label={}{}];\n", i, quoted(label),
                           n.type && (n.type->flags & kSink) ? ", shape=component" : "");
    }
    for (size_t i = 0; i < nodes.size(); i++)
        for (const auto& o : nodes[i].outs) {
            std::string label;
            if (o.kind == lang::Edge::Kind::cls) label = i == 0 ? fmt::format("rx {}", o.cls) : fmt::format("|{}", o.cls);
            if (o.kind == lang::Edge::Kind::otherwise) label = "|else";
            out += fmt::format("  n{} -> n{}{};\n", i, o.target,
                               label.empty() ? "" : fmt::format(" [label={}]", quoted(label)));
        }
    return out + "}\n";
}

void write_dot(const Plan& plan, const std::string& path) {
    std::ofstream f(path);
    if (!f) throw RuntimeError(fmt::format("{}: {}", path, std::strerror(errno)));
    f << to_dot(plan);
    f.close();
    if (!f) throw RuntimeError(fmt::format("{}: cannot write the graph", path));
}

}  // namespace sl::graph
