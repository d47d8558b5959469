#include "graph/report.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>

#include <fmt/format.h>

#include <sl/error.hpp>

namespace sl::graph {
namespace {

std::string json_string(const std::string& s) {
    std::string out = "\"";
    for (unsigned char c : s) {
        if (c == '"' || c == '\\') out += '\\', out += char(c);
        else if (c < 0x20) out += fmt::format("\\u{:04x}", c);
        else out += char(c);
    }
    return out + "\"";
}

std::string json_counts(const std::map<std::string, uint64_t>& counts) {
    std::string out = "{";
    for (const auto& [name, n] : counts) out += fmt::format("{}{}:{}", out.size() > 1 ? "," : "", json_string(name), n);
    return out + "}";
}

std::string json_shadow(const shadow::Counters& c) {
    return fmt::format("\"bytes_zero_copy\":{},\"bytes_pulled\":{},\"bytes_copied_dma\":{},\"bytes_copied_cpu\":{},"
                       "\"dma_batches\":{},\"dma_wait_cycles\":{},\"dma_fallbacks\":{},\"shadow_full\":{}",
                       c.bytes_zero_copy, c.bytes_pulled, c.bytes_copied_dma, c.bytes_copied_cpu, c.dma_batches,
                       c.dma_wait_cycles, c.dma_fallbacks, c.shadow_full);
}

}  // namespace

void merge(Report& into, const Report& from) {
    if (into.nodes.empty()) {
        into = from;
        return;
    }
    into.packets_read += from.packets_read;
    into.packets_written += from.packets_written;
    into.shadow.add(from.shadow);
    for (const auto& [reason, n] : from.drops) into.drops[reason] += n;
    for (const auto& f : from.nodes) {
        auto it = std::find_if(into.nodes.begin(), into.nodes.end(), [&](const NodeReport& n) { return n.name == f.name; });
        if (it == into.nodes.end()) {
            into.nodes.push_back(f);
            continue;
        }
        it->packets_in += f.packets_in;
        it->packets_out += f.packets_out;
        it->calls += f.calls;
        it->cycles += f.cycles;
        it->shadow.add(f.shadow);
        for (const auto& [reason, n] : f.drops) it->drops[reason] += n;
        for (const auto& [name, value] : f.counters) {
            auto c = std::find_if(it->counters.begin(), it->counters.end(), [&](const auto& x) { return x.first == name; });
            if (c == it->counters.end()) it->counters.emplace_back(name, value);
            else c->second += value;
        }
    }
}

std::string format_table(const RunReport& report) {
    const Report& r = report.graph;
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
    out += fmt::format("\nshadow {}, copies by {}: {} bytes pulled ({} by DMA in {} batches, {} by CPU), {} read in place\n",
                       r.shadow_policy, r.copy_engine, sh.bytes_pulled, sh.bytes_copied_dma, sh.dma_batches,
                       sh.bytes_copied_cpu, sh.bytes_zero_copy);
    double mpps = report.elapsed_s > 0 ? double(r.packets_read) / report.elapsed_s / 1e6 : 0;
    out += fmt::format("read {} packets, wrote {}, dropped {}{} in {:.3f} s ({:.2f} Mpps)\n", r.packets_read,
                       r.packets_written, r.dropped(),
                       fates.empty() ? "" : fmt::format(" ({})", fmt::join(fates, ", ")), report.elapsed_s, mpps);
    return out;
}

std::string format_json(const RunReport& report) {
    const Report& r = report.graph;
    std::string nodes;
    for (const auto& n : r.nodes) {
        std::map<std::string, uint64_t> counters(n.counters.begin(), n.counters.end());
        nodes += fmt::format(
            "{}{{\"name\":{},\"filter\":{},\"packets_in\":{},\"packets_out\":{},\"drops\":{},"
            "\"cycles_per_packet\":{:.2f},\"calls\":{},\"counters\":{},\"info\":{},\"access\":{},\"shadow\":{{\"policy\":{},{}}}}}",
            nodes.empty() ? "" : ",", json_string(n.name), json_string(n.filter), n.packets_in, n.packets_out,
            json_counts(n.drops), n.cycles_per_packet(), n.calls, json_counts(counters),
            json_counts(std::map<std::string, uint64_t>(n.info.begin(), n.info.end())), json_string(n.access),
            json_string(n.policy), json_shadow(n.shadow));
    }
    std::string pools;
    for (const auto& p : report.pools)
        pools += fmt::format("{}{{\"name\":{},\"size\":{},\"in_use\":{}}}", pools.empty() ? "" : ",",
                             json_string(p.name), p.size, p.in_use);
    std::string ports;
    for (const auto& p : report.ports)
        ports += fmt::format("{}{{\"port\":{},\"name\":{},\"rx_packets\":{},\"tx_packets\":{},\"rx_missed\":{},"
                             "\"tx_dropped\":{}}}",
                             ports.empty() ? "" : ",", p.port, json_string(p.name), p.rx_packets, p.tx_packets,
                             p.rx_missed, p.tx_dropped);
    std::string workers;
    for (const auto& w : report.workers)
        workers += fmt::format("{}{{\"lcore\":{},\"packets_read\":{}}}", workers.empty() ? "" : ",", w.lcore,
                               w.packets_read);
    if (!report.workers.empty()) ports += fmt::format("],\"workers\":[{}", workers);
    return fmt::format(
        "{{\"nodes\":[{}],\"totals\":{{\"packets_read\":{},\"packets_written\":{},\"packets_dropped\":{},"
        "\"drops\":{}}},\"shadow\":{{\"policy\":{},\"engine\":{},{}}},\"elapsed_s\":{:.6f},\"tsc_hz\":{:.0f},\"mempools\":[{}]{}}}\n",
        nodes, r.packets_read, r.packets_written, r.dropped(), json_counts(r.drops), json_string(r.shadow_policy),
        json_string(r.copy_engine), json_shadow(r.shadow), report.elapsed_s, report.tsc_hz, pools,
        report.ports.empty() ? "" : fmt::format(",\"ports\":[{}]", ports));
}

int publish(const RunReport& report, bool quiet, const std::string& json_path) {
    if (!quiet) std::fputs(format_table(report).c_str(), stdout);
    if (json_path.empty()) return 0;
    try {
        write_json(report, json_path);
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "error: %s\n", e.what());
        return 1;
    }
}

void write_json(const RunReport& report, const std::string& path) {
    std::ofstream out(path);
    if (!out) throw RuntimeError(fmt::format("{}: {}", path, std::strerror(errno)));
    out << format_json(report);
    if (!out.flush()) throw RuntimeError(fmt::format("{}: write failed", path));
}

}  // namespace sl::graph
