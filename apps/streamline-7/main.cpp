// Writes streamline(7), the page of the pipeline language, to stdout: the
// filters come from the registry the apps use, so the page lists what the
// built-ins are, what they read, how they are written and why they drop
// packets, as the code says it. Built and run by meson; not installed.
#include <cstdio>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include <sl/filter.hpp>

#include "sdk/registry.hpp"

namespace {

// Text safe in a roff line: backslashes doubled, a leading '.' or '\'' escaped.
std::string roff(std::string_view text) {
    std::string out;
    for (char c : text) {
        if (c == '\\') out += "\\e";
        else if (c == '-') out += "\\-";
        else out += c;
    }
    if (!out.empty() && (out[0] == '.' || out[0] == '\'')) out.insert(0, "\\&");
    return out;
}

const char* access_name(sl::Access a) {
    switch (a) {
    case sl::Access::none: return "nothing of the packet";
    case sl::Access::metadata: return "metadata (parsed fields, lengths, time stamps)";
    case sl::Access::headers: return "headers (the bytes up to the payload)";
    case sl::Access::payload: return "payload (every byte)";
    case sl::Access::write: return "every byte, and modifies them";
    }
    return "?";
}

std::string flags_text(uint32_t flags) {
    std::string out;
    auto add = [&](const char* what) { out += out.empty() ? what : std::string(", ") + what; };
    if (flags & sl::kClassifier) add("classifier (class edges may follow it)");
    if (flags & sl::kSink) add("sink (writes packets out, and passes them on)");
    if (flags & sl::kSharedByArgs) add("one node for every use with the same arguments");
    if (flags & sl::kInputOrder) add("counts packets in input order (sl\\-replay runs one worker)");
    return out;
}

}  // namespace

int main(int argc, char** argv) {
    std::string version = argc > 1 ? argv[1] : "";
    std::printf(".TH STREAMLINE 7 \"\" \"streamline %s\" \"streamline\"\n", roff(version).c_str());
    std::fputs(R"(.SH NAME
streamline \- the pipeline language of sl\-replay and sl\-forward, and its filters
.SH DESCRIPTION
A configuration is a set of pipelines, one per line (or separated by
\fB;\fR), each starting at \fBrx\fR (every input), \fBrx N\fR (input N: a
capture for sl\-replay, a port for sl\-forward) or a named stream, and
running through filters separated by \fB|\fR:
.PP
.nf
.RS
web = rx | bpf "tcp port 80"      # a named stream, shared by reference
web | pcap "web.pcap"
p = rx | ipproto                  # a classifier: class = IP protocol
p |17 count name=udp              # only class 17
p |else tx 1                      # every class no sibling edge takes
.RE
.fi
.PP
A filter passes a packet, with a class (0 unless it is a classifier), or
drops it for a counted reason. \fB|N\fR after a classifier takes class N,
\fB|else\fR every class no sibling edge takes; a class edge after any other
filter is a configuration error. \fBname=NAME\fR names a node in the table
and the statistics. A line ending in \fB|\fR continues on the next;
\fB#\fR starts a comment. \fBshadow STREAM POLICY\fR sets the shadow
buffer policy of what reads a stream.
.PP
Every packet read is counted once as written (some sink took it) or
dropped with the reason of the last branch that let it go: a filter's
reasons below, \fBunclassified\fR (no edge took its class) or
\fBend_of_pipeline\fR (a branch ended without a sink). Malformed packets
pass on and are counted by reason in the \fBparse\fR node.
.SH FILTERS
)",
               stdout);
    const sl::Registry& registry = sl::filter_registry();
    for (const auto& name : registry.names()) {
        const sl::FilterType* t = registry.find(name);
        if (!t || !registry.origin(name).empty()) continue;  // built-ins only
        // \fB...\fR, not .B, which would take the usage's quotes as its own.
        std::printf(".TP\n\\fB%s\\fR\n%s.\n.br\nReads: %s.\n", roff(t->usage).c_str(), roff(t->summary).c_str(),
                    access_name(t->access));
        std::string flags = flags_text(t->flags);
        if (!flags.empty()) std::printf(".br\n%s.\n", flags.c_str());
        std::string drops = t->drops && *t->drops ? t->drops : "none";
        std::printf(".br\nDrops: %s.\n", roff(drops).c_str());
    }
    std::fputs(R"(.SH SEE ALSO
\fBsl\-replay\fR(1), \fBsl\-forward\fR(1), \fBpcap\-filter\fR(7) (the
expressions of \fBbpf\fR); the README of streamline for the shadow buffer
policies, and docs/sdk.md for writing filters as plugins.
)",
               stdout);
    return 0;
}
