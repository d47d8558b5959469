// rte_graph's callbacks for the runtime's nodes: the hot path (nodes.cpp).
#pragma once

#include <cstdint>

#include <rte_graph.h>

namespace sl::graph {

class Runtime;

struct NodeCallbacks {
    // The runtime whose graph rte_graph_create() is building: a node's init
    // callback finds its state through it. Graphs are created on the main
    // thread only.
    static Runtime* creating;
    static int init(const rte_graph* graph, rte_node* node);
    // Reads a burst from the runtime's source into the parse node.
    static uint16_t source(rte_graph* graph, rte_node* node, void** objs, uint16_t count);
    // Routes each packet by its input (`rx N`), without a look at each one
    // where the burst came from one input.
    static uint16_t input(rte_graph* graph, rte_node* node, void** objs, uint16_t count);
    // Runs a filter on what reached it and routes its verdicts.
    static uint16_t filter(rte_graph* graph, rte_node* node, void** objs, uint16_t count);
    // Lets go of one graph reference per object; settles fates; frees.
    static uint16_t release(rte_graph* graph, rte_node* node, void** objs, uint16_t count);
};

// Once per process: a filter that throws from process() (which is noexcept)
// ends the process with a message that names the filter.
void install_terminate_handler();

}  // namespace sl::graph
