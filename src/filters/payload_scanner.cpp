#include "filters/payload_scanner.hpp"

#include <algorithm>
#include <map>
#include <mutex>

#include <fmt/format.h>
#include <netinet/in.h>

namespace sl::filters {
namespace {

// Databases are read-only once compiled: every worker's instance of the same
// filter shares one, compiled by the first.
std::mutex g_cache_mutex;
std::map<std::string, std::weak_ptr<hs_database_t>> g_cache;

struct MatchState {
    unsigned long long end = ~0ull;  // end offset of the first match
    unsigned id = ~0u;               // lowest pattern id ending there
};

int on_match(unsigned id, unsigned long long, unsigned long long to, unsigned, void* context) {
    auto* s = static_cast<MatchState*>(context);
    if (to > s->end) return 1;  // matches come in order of their end: the first end is settled
    s->end = to;
    s->id = std::min(s->id, id);
    return 0;
}

int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

}  // namespace

bool decode_literal(const std::string& text, std::string& bytes, std::string& error) {
    bytes.clear();
    for (size_t i = 0; i < text.size(); i++) {
        if (text[i] != '\\') {
            bytes += text[i];
            continue;
        }
        if (i + 1 < text.size() && text[i + 1] == '\\') {
            bytes += '\\';
            i++;
            continue;
        }
        int hi = i + 3 < text.size() && text[i + 1] == 'x' ? hex_digit(text[i + 2]) : -1;
        int lo = hi >= 0 ? hex_digit(text[i + 3]) : -1;
        if (lo < 0) {
            error = "a backslash starts \\xHH (one byte in hex) or \\\\";
            return false;
        }
        bytes += static_cast<char>(hi * 16 + lo);
        i += 3;
    }
    return true;
}

std::shared_ptr<hs_database_t> compile_patterns(const Args& args, const std::vector<const Arg*>& pattern_args,
                                                PatternKind kind, unsigned mode, unsigned flags) {
    if (pattern_args.size() > kMaxPatterns)
        args.fail(*pattern_args[kMaxPatterns], fmt::format("takes at most {} patterns", kMaxPatterns));
    std::vector<std::string> patterns;
    for (const Arg* arg : pattern_args) {
        const Arg& a = *arg;
        if (a.kind != Arg::Kind::string) args.fail(a, "write each pattern in double quotes");
        std::string bytes = a.value;
        if (kind == PatternKind::literal) {
            std::string error;
            if (!decode_literal(a.value, bytes, error)) args.fail(a, error);
        }
        if (bytes.empty()) args.fail(a, "the pattern is empty");
        patterns.push_back(bytes);
    }
    std::string key = fmt::format("{}\x1f{}\x1f{}", kind == PatternKind::literal ? "lit" : "re", flags, mode);
    for (const auto& p : patterns) key += fmt::format("\x1f{}:{}", p.size(), p);

    std::lock_guard<std::mutex> lock(g_cache_mutex);
    std::shared_ptr<hs_database_t> database = g_cache[key].lock();
    if (database) return database;
    std::vector<const char*> expressions;
    std::vector<size_t> lengths;
    std::vector<unsigned> all_flags(patterns.size(), flags), ids(patterns.size());
    for (size_t i = 0; i < patterns.size(); i++) {
        expressions.push_back(patterns[i].c_str());
        lengths.push_back(patterns[i].size());
        ids[i] = static_cast<unsigned>(i);
    }
    hs_database_t* db = nullptr;
    hs_compile_error_t* error = nullptr;
    hs_error_t rc = kind == PatternKind::literal
                        ? hs_compile_lit_multi(expressions.data(), all_flags.data(), ids.data(), lengths.data(),
                                               static_cast<unsigned>(patterns.size()), mode, nullptr, &db, &error)
                        : hs_compile_multi(expressions.data(), all_flags.data(), ids.data(),
                                           static_cast<unsigned>(patterns.size()), mode, nullptr, &db, &error);
    if (rc != HS_SUCCESS) {
        std::string message = error && error->message ? error->message : "Hyperscan cannot compile it";
        int which = error ? error->expression : -1;
        hs_free_compile_error(error);
        if (which >= 0 && static_cast<size_t>(which) < patterns.size()) args.fail(*pattern_args[size_t(which)], message);
        args.fail(message);
    }
    database = std::shared_ptr<hs_database_t>(db, hs_free_database);
    g_cache[key] = database;
    return database;
}

PayloadScanner::PayloadScanner(FilterContext& ctx, Kind kind)
    : no_match_(ctx.drop_reason("no_match")), scanned_bytes_(ctx.counter("scanned_bytes")) {
    const Args& args = ctx.args();
    if (args.positional_count() == 0)
        args.fail(fmt::format("{} needs at least one pattern: {} \"PATTERN\" ...", args.filter(), args.filter()));
    std::vector<const Arg*> pattern_args;
    bool nocase = false;
    ArgReader(args).remaining("pattern", pattern_args, 1).option("nocase", nocase).complete();
    unsigned flags = nocase ? HS_FLAG_CASELESS : 0;
    if (kind == Kind::regex) flags |= HS_FLAG_DOTALL;
    database_ = compile_patterns(args, pattern_args,
                                 kind == Kind::literal ? PatternKind::literal : PatternKind::regex,
                                 HS_MODE_VECTORED, flags);
    if (hs_alloc_scratch(database_.get(), &scratch_) != HS_SUCCESS)
        throw RuntimeError(fmt::format("{}: cannot allocate Hyperscan scratch space", ctx.node_name()));
    for (size_t i = 0; i < pattern_args.size(); i++) hits_.push_back(&ctx.counter(fmt::format("pattern{}", i + 1)));
    linear_.resize(262144);
}

PayloadScanner::~PayloadScanner() { hs_free_scratch(scratch_); }

uint32_t PayloadScanner::payload_start(const rte_mbuf* m) noexcept {
    const PacketMeta& pm = meta(m);
    // ICMP's own header is payload to these filters; the parser counts it
    // as a transport header.
    if ((pm.ip_proto == IPPROTO_ICMP || pm.ip_proto == IPPROTO_ICMPV6) && pm.l4_offset != kNoOffset &&
        pm.parse_error == ParseError::none)
        return pm.l4_offset;
    return pm.payload_offset;
}

void PayloadScanner::process(Burst& burst) noexcept {
    uint64_t scanned = 0;
    for (uint16_t i = 0; i < burst.size(); i++) {
        PacketView view = burst.view(i);
        uint32_t start = std::min(payload_start(burst[i]), view.size());
        const char* data[kMaxSpans];
        unsigned lengths[kMaxSpans];
        unsigned spans = 0;
        bool complete = view.for_each_span(start, view.size() - start, [&](const uint8_t* p, uint32_t n) {
            if (spans == kMaxSpans) return false;
            data[spans] = reinterpret_cast<const char*>(p);
            lengths[spans++] = n;
            return true;
        });
        if (!complete) {
            // More pieces than the vector holds: scan a linear copy.
            uint32_t n = std::min<uint32_t>(view.size() - start, static_cast<uint32_t>(linear_.size()));
            data[0] = reinterpret_cast<const char*>(view.read(start, n, linear_.data()));
            lengths[0] = n;
            spans = 1;
        }
        scanned += view.size() - start;
        MatchState state;
        if (spans) hs_scan_vector(database_.get(), data, lengths, spans, 0, scratch_, on_match, &state);
        if (state.id == ~0u) {
            burst.drop(i, no_match_);
            continue;
        }
        (*hits_[state.id])++;
        burst.set_class(i, state.id + 1);
    }
    scanned_bytes_ += scanned;
}

}  // namespace sl::filters
