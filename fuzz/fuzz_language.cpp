// The pipeline language, the planner and every built-in filter's argument
// parser, on fuzzed configurations: a mistake must come out as a message
// (ConfigError, RuntimeError), never as a crash. Filters are constructed as a
// worker constructs them, in a process confined to a folder of its own
// (sinks open the files the text names).
#include <cstddef>
#include <cstdint>
#include <exception>
#include <string>

#include <sl/error.hpp>

#include "fuzz_support.hpp"
#include "graph/instances.hpp"
#include "graph/plan.hpp"
#include "lang/ast.hpp"
#include "sdk/registry.hpp"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    sl_fuzz::start_dpdk("fuzz-language");
    sl_fuzz::confine();
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string text(reinterpret_cast<const char*>(data), size);
    try {
        sl::lang::Program program = sl::lang::parse(text, "fuzz");
        sl::graph::PlanOptions options;
        options.input_count = 2;
        sl::graph::Plan plan = sl::graph::plan(program, sl::filter_registry(), options);
        sl::graph::WorkerContext context;
        context.tx_queues = {0, 0, 0, 0};
        sl::graph::Instances instances(plan, context);
    } catch (const sl::ConfigError&) {
    } catch (const sl::RuntimeError&) {
    }
    sl_fuzz::tidy_jail();
    return 0;
}
