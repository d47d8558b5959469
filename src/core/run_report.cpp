#include "core/run_report.hpp"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

namespace sl::core {
namespace {

// In the order a reader expects them, not sorted.
using Json = nlohmann::ordered_json;

Json shadow_json(const shadow::Counters& c) {
    return {{"bytes_zero_copy", c.bytes_zero_copy}, {"bytes_pulled", c.bytes_pulled},
            {"bytes_copied_dma", c.bytes_copied_dma}, {"bytes_copied_cpu", c.bytes_copied_cpu},
            {"dma_batches", c.dma_batches}, {"dma_wait_cycles", c.dma_wait_cycles},
            {"dma_fallbacks", c.dma_fallbacks}, {"shadow_full", c.shadow_full}};
}

// Counters and facts by name, sorted.
Json by_name(const std::vector<std::pair<std::string, uint64_t>>& values) {
    Json out = Json::object();
    for (const auto& [name, value] : std::map<std::string, uint64_t>(values.begin(), values.end())) out[name] = value;
    return out;
}

Json counts(const std::map<std::string, uint64_t>& values) {
    Json out = Json::object();
    for (const auto& [name, value] : values) out[name] = value;
    return out;
}

}  // namespace

std::string format_table(const RunReport& report) {
    const graph::Report& r = report.graph;
    size_t name_width = 6, filter_width = 6;
    for (const auto& n : r.nodes) {
        name_width = std::max(name_width, n.name.size());
        filter_width = std::max(filter_width, n.filter.size());
    }
    std::string out = fmt::format("{:<{}}  {:<{}}  {:>12}  {:>12}  {:>12}  {:>8}  {:>10}\n", "node", name_width,
                                  "filter", filter_width, "in", "out", "dropped", "Mpps", "cycles/pkt");
    for (const auto& n : r.nodes) {
        double mpps = report.elapsed_s > 0 ? double(n.packets_in) / report.elapsed_s / 1e6 : 0;
        out += fmt::format("{:<{}}  {:<{}}  {:>12}  {:>12}  {:>12}  {:>8.3f}  {:>10.1f}\n", n.name, name_width, n.filter,
                           filter_width, n.packets_in, n.packets_out, n.dropped(), mpps, n.cycles_per_packet());
    }
    std::string details;
    for (const auto& n : r.nodes) {
        std::vector<std::string> parts;
        if (n.packets_made) parts.push_back(fmt::format("made={}", n.packets_made));
        for (const auto& [reason, count] : n.drops) parts.push_back(fmt::format("dropped {}={}", reason, count));
        for (const auto& [name, value] : n.counters)
            if (value) parts.push_back(fmt::format("{}={}", name, value));
        for (const auto& [name, value] : n.info) parts.push_back(fmt::format("{}={}", name, value));
        if (n.policy != r.shadow_policy) parts.push_back(fmt::format("shadow {}", n.policy));
        if (n.shadow.bytes_pulled) parts.push_back(fmt::format("pulled={} B", n.shadow.bytes_pulled));
        if (n.shadow.bytes_copied_dma) parts.push_back(fmt::format("by dma={} B", n.shadow.bytes_copied_dma));
        if (n.shadow.dma_fallbacks) parts.push_back(fmt::format("dma_fallbacks={}", n.shadow.dma_fallbacks));
        if (n.shadow.shadow_full) parts.push_back(fmt::format("shadow_full={}", n.shadow.shadow_full));
        if (!parts.empty()) details += fmt::format("  {}: {}\n", n.name, fmt::join(parts, ", "));
    }
    if (!details.empty()) out += "\n" + details;
    std::vector<std::string> fates;
    for (const auto& [reason, count] : r.drops) fates.push_back(fmt::format("{}={}", reason, count));
    const shadow::Counters& sh = r.shadow;
    // A run whose graph was never built has no policy to speak of.
    if (!r.nodes.empty())
        out += fmt::format(
            "\nshadow {}, copies by {}: {} bytes pulled ({} by DMA in {} batches, {} by CPU), {} read in place\n",
            r.shadow_policy, r.copy_engine, sh.bytes_pulled, sh.bytes_copied_dma, sh.dma_batches, sh.bytes_copied_cpu,
            sh.bytes_zero_copy);
    double mpps = report.elapsed_s > 0 ? double(r.packets_read) / report.elapsed_s / 1e6 : 0;
    out += fmt::format("read {} packets, {}wrote {}, dropped {}{} in {:.3f} s ({:.2f} Mpps)\n", r.packets_read,
                       r.packets_made ? fmt::format("made {}, ", r.packets_made) : "", r.packets_written, r.dropped(),
                       fates.empty() ? "" : fmt::format(" ({})", fmt::join(fates, ", ")), report.elapsed_s, mpps);
    return out;
}

std::string format_json(const RunReport& report) {
    const graph::Report& r = report.graph;
    Json nodes = Json::array();
    for (const auto& n : r.nodes) {
        Json shadow = {{"policy", n.policy}};
        shadow.update(shadow_json(n.shadow));
        nodes.push_back({{"name", n.name},
                         {"filter", n.filter},
                         {"packets_in", n.packets_in},
                         {"packets_out", n.packets_out},
                         {"packets_made", n.packets_made},
                         {"drops", counts(n.drops)},
                         {"cycles_per_packet", std::round(n.cycles_per_packet() * 100) / 100},
                         {"calls", n.calls},
                         {"counters", by_name(n.counters)},
                         {"info", by_name(n.info)},
                         {"access", n.access},
                         {"shadow", shadow}});
    }
    Json shadow = {{"policy", r.shadow_policy}, {"engine", r.copy_engine}};
    shadow.update(shadow_json(r.shadow));
    Json pools = Json::array();
    for (const auto& p : report.pools) pools.push_back({{"name", p.name}, {"size", p.size}, {"in_use", p.in_use}});
    Json out = {{"nodes", nodes},
                {"totals",
                 {{"packets_read", r.packets_read},
                  {"packets_written", r.packets_written},
                  {"packets_made", r.packets_made},
                  {"packets_dropped", r.dropped()},
                  {"drops", counts(r.drops)}}},
                {"shadow", shadow},
                {"elapsed_s", report.elapsed_s},
                {"tsc_hz", report.tsc_hz},
                {"mempools", pools}};
    if (!report.ports.empty()) {
        Json ports = Json::array();
        for (const auto& p : report.ports)
            ports.push_back({{"port", p.port},
                             {"name", p.name},
                             {"rx_packets", p.rx_packets},
                             {"tx_packets", p.tx_packets},
                             {"rx_missed", p.rx_missed},
                             {"rx_no_mbuf", p.rx_no_mbuf},
                             {"tx_dropped", p.tx_dropped}});
        out["ports"] = ports;
    }
    if (!report.workers.empty()) {
        Json workers = Json::array();
        for (const auto& w : report.workers) workers.push_back({{"lcore", w.lcore}, {"packets_read", w.packets_read}});
        out["workers"] = workers;
    }
    // Names come from plugins and devices: bytes that are not UTF-8 are
    // replaced rather than refused.
    return out.dump(-1, ' ', false, Json::error_handler_t::replace) + "\n";
}

bool publish(const RunReport& report, bool quiet, const std::string& json_path) {
    if (!quiet) std::fputs(format_table(report).c_str(), stdout);
    if (json_path.empty()) return true;
    std::ofstream out(json_path);
    if (!out) {
        spdlog::error("{}: {}", json_path, std::strerror(errno));
        return false;
    }
    try {
        out << format_json(report);
    } catch (const std::exception& e) {
        spdlog::error("{}: {}", json_path, e.what());
        return false;
    }
    if (!out.flush()) {
        spdlog::error("{}: write failed", json_path);
        return false;
    }
    return true;
}

}  // namespace sl::core
