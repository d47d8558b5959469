// The graph a configuration makes, in Graphviz's dot language (--dot FILE):
// the nodes by the names the table and the stats use, and each edge as the
// configuration wrote it (`|17`, `|else`, `rx 1`).
#pragma once

#include <string>

#include "graph/plan.hpp"

namespace sl::graph {

std::string to_dot(const Plan& plan);

// Writes to_dot(plan) to `path`. Throws RuntimeError.
void write_dot(const Plan& plan, const std::string& path);

}  // namespace sl::graph
