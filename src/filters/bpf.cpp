// bpf "EXPR": keeps the packets that the tcpdump expression accepts.
//
// libpcap compiles the expression for the input's link type to classic BPF;
// rte_bpf_convert turns that into eBPF taking the rte_mbuf pointer (so that
// loads beyond the first segment work), and the program runs JIT-compiled, or
// in DPDK's interpreter where there is no JIT.
#include <pcap/pcap.h>
#include <rte_bpf.h>
#include <rte_errno.h>
#include <rte_graph.h>
#include <rte_malloc.h>

#include <bit>
#include <cstddef>
#include <cstdio>

#include <fmt/format.h>

#include <sl/filter.hpp>

namespace {

// DPDK 22.11's converter emits `ld [x+k]` and `ldb [x+k]` with the source
// register taken from the opcode's size bits, which only means X for the
// halfword size; the word and byte forms then read from A + k. Every indirect
// load must read from X, which the converter keeps in eBPF register 7.
constexpr uint8_t kConvertedXRegister = EBPF_REG_7;

void fix_indirect_loads(rte_bpf_prm* prm) {
    auto* ins = const_cast<ebpf_insn*>(prm->ins);
    for (uint32_t i = 0; i < prm->nb_ins; i++)
        if (BPF_CLASS(ins[i].code) == BPF_LD && BPF_MODE(ins[i].code) == BPF_IND) ins[i].src_reg = kConvertedXRegister;
}

// tcpdump's `len` (and `less`, `greater`) is the length on the wire, which
// libpcap passes to the filter beside the captured bytes. The converter reads
// the mbuf's pkt_len instead, which is the captured length: the two differ for
// every packet cut by a snap length. Point those loads at the wire length the
// source keeps in PacketMeta, which lies inside the mbuf like pkt_len does.
void load_wire_length(rte_bpf_prm* prm) {
    constexpr uint8_t kContextRegister = EBPF_REG_6;  // the converter keeps the mbuf here
    const int wire_len = sl::detail::packet_meta_offset + static_cast<int>(offsetof(sl::PacketMeta, wire_len));
    auto* ins = const_cast<ebpf_insn*>(prm->ins);
    for (uint32_t i = 0; i < prm->nb_ins; i++)
        if (ins[i].code == (BPF_LDX | BPF_MEM | BPF_W) && ins[i].src_reg == kContextRegister &&
            ins[i].off == static_cast<int16_t>(offsetof(rte_mbuf, pkt_len)))
            ins[i].off = static_cast<int16_t>(wire_len);
}

// DPDK 22.11's x86 JIT mistranslates jset with an immediate below 0x80:
// `ip[6] & 0x20 != 0` matches the wrong packets and `tcp[13] & 0x2 != 0`
// (`tcp[tcpflags] & tcp-syn`) crashes, while the interpreter agrees with
// tcpdump and jset with larger immediates (the 0x1fff of every port test) is
// fine. Such programs run in the interpreter; the node shows "interpreted=1".
bool jit_safe(const rte_bpf_prm* prm) {
    for (uint32_t i = 0; i < prm->nb_ins; i++) {
        const ebpf_insn& in = prm->ins[i];
        if (in.code == (BPF_JMP | BPF_JSET | BPF_K) && in.imm >= 0 && in.imm < 0x80) return false;
    }
    return true;
}

// What libpcap compiles with. For a capture saved in the other byte order
// it compiles as for that file (the family of a BSD loopback header is
// compared in the saving host's order): a pcap_t read from the header of
// such a file says so, and pcap_open_dead cannot.
pcap_t* compiler_for(const sl::FilterContext& ctx) {
    if (!ctx.capture_byte_swapped()) return pcap_open_dead(ctx.link_type(), 262144);
    // A file header in the byte order that is not this host's.
    uint8_t header[24];
    const bool big = std::endian::native == std::endian::little;
    auto put = [&](unsigned at, uint32_t value, unsigned bytes) {
        for (unsigned i = 0; i < bytes; i++) header[at + i] = static_cast<uint8_t>(value >> (8 * (big ? bytes - 1 - i : i)));
    };
    put(0, 0xa1b2c3d4, 4);
    put(4, 2, 2);
    put(6, 4, 2);
    put(8, 0, 4);
    put(12, 0, 4);
    put(16, 262144, 4);
    put(20, ctx.capture_linktype(), 4);
    FILE* file = fmemopen(header, sizeof(header), "r");
    if (!file) return nullptr;
    char error[PCAP_ERRBUF_SIZE];
    pcap_t* p = pcap_fopen_offline(file, error);  // closes the file with the pcap_t
    if (!p) std::fclose(file);
    return p;
}

// What a program reads, judged from its loads, for the shadow policy: the
// headers when every load stays inside them whatever the packet, else the
// payload too (then hybrid pulls payloads before it runs). Conservative: a
// load past the IPv4 fixed header, or past the first 8 bytes of a transport
// header (all that UDP has), counts as a payload read, so `tcp port 80` is
// header-only and `tcp[20:4] = 0x47455420` is not. The offsets IPv6 programs
// use (fixed header and ports) count as headers when the program checks for
// IPv6 at all.
sl::Access access_of(const bpf_program& program, int dlt) {
    const uint32_t link = dlt == DLT_EN10MB ? 14 : dlt == DLT_LINUX_SLL ? 16 : 0;
    bool checks_ipv6 = false;
    for (u_int i = 0; i < program.bf_len; i++) {
        const bpf_insn& in = program.bf_insns[i];
        if (BPF_CLASS(in.code) == BPF_JMP && BPF_OP(in.code) == BPF_JEQ && BPF_SRC(in.code) == BPF_K &&
            (in.k == 0x86dd || (link == 0 && in.k == 6 << 4)))
            checks_ipv6 = true;
    }
    for (u_int i = 0; i < program.bf_len; i++) {
        const bpf_insn& in = program.bf_insns[i];
        if (BPF_CLASS(in.code) != BPF_LD && BPF_CLASS(in.code) != BPF_LDX) continue;
        uint32_t size = BPF_SIZE(in.code) == BPF_W ? 4 : BPF_SIZE(in.code) == BPF_H ? 2 : 1;
        uint32_t end = in.k + size;
        switch (BPF_MODE(in.code)) {
        case BPF_ABS:
            if (end <= link + 20) break;
            if (checks_ipv6 && in.k >= link + 20 && end <= link + 48) break;
            return sl::Access::payload;
        case BPF_IND:  // X holds the IP header length: a transport header field
            if (in.k >= link && end <= link + 8) break;
            return sl::Access::payload;
        default: break;  // lengths, constants, scratch memory, 4*([k]&0xf)
        }
    }
    return sl::Access::headers;
}

class Bpf final : public sl::Filter {
public:
    explicit Bpf(sl::FilterContext& ctx) : rejected_(ctx.drop_reason("filtered")) {
        const sl::Args& args = ctx.args();
        const sl::Arg* expression_arg = nullptr;
        bool use_jit = true;
        sl::ArgReader(args).positional("expression", expression_arg).option("jit", use_jit).complete();
        const sl::Arg& arg = *expression_arg;
        std::string expression = arg.value;

        pcap_t* dead = compiler_for(ctx);
        if (!dead) args.fail(arg, "libpcap cannot compile for this link type");
        bpf_program program{};
        if (pcap_compile(dead, &program, expression.c_str(), 1, PCAP_NETMASK_UNKNOWN) != 0) {
            std::string error = pcap_geterr(dead);
            pcap_close(dead);
            args.fail(arg, error);
        }
        pcap_close(dead);
        ctx.set_access(access_of(program, ctx.link_type()));

        rte_bpf_prm* prm = rte_bpf_convert(&program);
        pcap_freecode(&program);
        if (!prm) args.fail(arg, fmt::format("cannot convert to eBPF: {}", rte_strerror(rte_errno)));
        fix_indirect_loads(prm);
        load_wire_length(prm);
        bool may_jit = use_jit && jit_safe(prm);
        bpf_ = rte_bpf_load(prm);
        rte_free(prm);
        if (!bpf_) args.fail(arg, fmt::format("DPDK refused the program: {}", rte_strerror(rte_errno)));
        rte_bpf_jit jit{};
        if (may_jit && rte_bpf_get_jit(bpf_, &jit) == 0 && jit.func) jit_ = jit.func;
        ctx.info(jit_ ? "jit" : "interpreted", 1);
    }

    ~Bpf() override { rte_bpf_destroy(bpf_); }

    void process(sl::Burst& burst) noexcept override {
        uint16_t n = burst.size();
        if (jit_) {
            for (uint16_t i = 0; i < n; i++)
                if (jit_(burst[i]) == 0) burst.drop(i, rejected_);
            return;
        }
        uint64_t rc[RTE_GRAPH_BURST_SIZE];
        rte_bpf_exec_burst(bpf_, reinterpret_cast<void**>(const_cast<rte_mbuf**>(burst.packets())), rc, n);
        for (uint16_t i = 0; i < n; i++)
            if (rc[i] == 0) burst.drop(i, rejected_);
    }

private:
    rte_bpf* bpf_ = nullptr;
    uint64_t (*jit_)(void*) = nullptr;
    sl::DropReason rejected_;
};

}  // namespace

SL_REGISTER_FILTER(Bpf, sl::FilterType{.name = "bpf",
                                       .access = sl::Access::headers,
                                       .flags = sl::kNoParse,
                                       .summary = "keep packets that a tcpdump expression accepts",
                                       .usage = "bpf \"EXPR\" [jit=no]",
                                       .drops = "filtered"})
