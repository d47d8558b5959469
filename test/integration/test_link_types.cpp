// Captures of every link type: what does not read headers passes them as
// tcpdump -w does, record for record; what reads headers reads them on the
// link types users capture on and refuses the others by name; captures cut
// short or at odds with their own headers end as libpcap has them end.
#include <pcap/dlt.h>

#include <cstring>

#include "harness.hpp"

namespace {

using namespace sl_test;

class LinkTypes : public Harness {};

// A classic pcap file written by hand, so that its header and records can
// say what no capturing tool would: records longer than the snap length,
// captured longer than wire, either byte order, either time precision.
struct PcapRecord {
    uint32_t seconds;
    uint32_t fraction;  // microseconds or nanoseconds, as the file says
    std::string bytes;
    uint32_t wire;
};

void put32(std::string& out, uint32_t v, bool big_endian) {
    for (int i = 0; i < 4; i++) out += static_cast<char>(big_endian ? v >> (24 - 8 * i) : v >> (8 * i));
}
void put16(std::string& out, uint16_t v, bool big_endian) {
    out += static_cast<char>(big_endian ? v >> 8 : v);
    out += static_cast<char>(big_endian ? v : v >> 8);
}

void write_pcap(const std::string& file, uint32_t linktype, uint32_t snaplen, const std::vector<PcapRecord>& records,
                bool nanoseconds = false, bool big_endian = false) {
    std::string out;
    put32(out, nanoseconds ? 0xa1b23c4d : 0xa1b2c3d4, big_endian);
    put16(out, 2, big_endian);
    put16(out, 4, big_endian);
    put32(out, 0, big_endian);
    put32(out, 0, big_endian);
    put32(out, snaplen, big_endian);
    put32(out, linktype, big_endian);
    for (const auto& r : records) {
        put32(out, r.seconds, big_endian);
        put32(out, r.fraction, big_endian);
        put32(out, static_cast<uint32_t>(r.bytes.size()), big_endian);
        put32(out, r.wire, big_endian);
        out += r.bytes;
    }
    std::ofstream(file, std::ios::binary) << out;
}

std::string bytes_of(size_t n, unsigned seed) {
    std::string s(n, '\0');
    for (size_t i = 0; i < n; i++) s[i] = static_cast<char>((i * 131 + seed * 7 + (i >> 3)) & 0xff);
    return s;
}

int datalink_of(const std::string& file) {
    char err[PCAP_ERRBUF_SIZE];
    pcap_t* p = pcap_open_offline(file.c_str(), err);
    if (!p) return -1;
    int dlt = pcap_datalink(p);
    pcap_close(p);
    return dlt;
}

TEST_F(LinkTypes, EveryLinkTypeReplaysRecordForRecordAsTcpdumpWritesIt) {
    // Link types streamline parses, and a dozen it does not: USB, Bluetooth,
    // CAN, 802.15.4, DOCSIS, NFLOG, netlink, D-Bus, MTP2, ERF, IPNET, USBPcap.
    const uint32_t linktypes[] = {DLT_EN10MB, DLT_RAW, DLT_LINUX_SLL, DLT_LINUX_SLL2, DLT_NULL, DLT_LOOP,
                                  DLT_IEEE802_11, DLT_IEEE802_11_RADIO, DLT_PPP, 228 /* IPV4 */, 229 /* IPV6 */,
                                  189 /* USB_LINUX */, 220 /* USB_LINUX_MMAPPED */, 117 /* PFLOG */,
                                  187 /* BLUETOOTH_HCI_H4 */, 227 /* CAN_SOCKETCAN */,
                                  195 /* IEEE802_15_4 */, 143 /* DOCSIS */, 239 /* NFLOG */, 253 /* NETLINK */,
                                  231 /* DBUS */, 140 /* MTP2 */, 197 /* ERF */, 226 /* IPNET */, 249 /* USBPCAP */};
    // A whole record; one snapped on the wire; one whose captured length
    // exceeds its wire length; one longer than the file's snap length of
    // 200 (libpcap cuts it to 200); an empty one.
    std::vector<PcapRecord> records = {{1700000000, 1, bytes_of(60, 1), 60},
                                       {1700000000, 999999, bytes_of(100, 2), 1500},
                                       {1700000001, 5, bytes_of(80, 3), 40},
                                       {1700000002, 7, bytes_of(300, 4), 300},
                                       {1700000003, 0, "", 0}};
    for (uint32_t linktype : linktypes) {
        for (bool nano : {false, true}) {
            SCOPED_TRACE("link type " + std::to_string(linktype) + (nano ? ", nanoseconds, big-endian" : ""));
            std::string in = path("in.pcap"), ours = path("out"), theirs = path("tcpdump.pcap");
            std::vector<PcapRecord> these = records;
            if (nano)
                for (auto& r : these) r.fraction = r.fraction * 1000 + 17;
            write_pcap(in, linktype, 200, these, nano, nano);
            fs::remove_all(ours);
            Result r = replay({"-q", "-o", ours, "-e", "rx | count | pcap \"o.pcap\"", in});
            ASSERT_EQ(r.status, 0) << r.err;
            std::vector<std::string> args = {"-r", in, "-w", theirs};
            if (nano) args.insert(args.begin(), "--time-stamp-precision=nano");
            Result t = command(env("TCPDUMP"), args);
            ASSERT_EQ(t.status, 0) << t.err;
            EXPECT_EQ(datalink_of(ours + "/o.pcap"), datalink_of(theirs));
            auto got = read_capture(ours + "/o.pcap"), want = read_capture(theirs);
            ASSERT_EQ(got.size(), want.size());
            for (size_t i = 0; i < got.size(); i++) {
                EXPECT_EQ(got[i].ts_ns, want[i].ts_ns) << "record " << i;
                EXPECT_EQ(got[i].wire_len, want[i].wire_len) << "record " << i;
                EXPECT_EQ(got[i].data, want[i].data) << "record " << i;
            }
            EXPECT_EQ(want[2].wire_len, 40u) << "captured beyond wire stays so";
            EXPECT_EQ(want[3].data.size(), 200u) << "cut to the snap length";
        }
    }
}

// Pseudo-headers with fields in the capturing host's byte order, as each
// link type has them, written in the file's order: libpcap turns them into
// this host's order as it reads a file saved on a host of the other one
// (and repairs the wire length of old memory-mapped USB captures in either
// order); sl-replay writes what tcpdump writes.
std::vector<PcapRecord> pseudo_header_records(uint32_t linktype, bool big_endian) {
    auto u16 = [&](uint16_t v) { std::string s; put16(s, v, big_endian); return s; };
    auto u32 = [&](uint32_t v) { std::string s; put32(s, v, big_endian); return s; };
    auto u64 = [&](uint64_t v) { return big_endian ? u32(uint32_t(v >> 32)) + u32(uint32_t(v)) : u32(uint32_t(v)) + u32(uint32_t(v >> 32)); };
    std::vector<PcapRecord> out;
    auto add = [&](std::string bytes, uint32_t wire = 0) {
        uint32_t n = static_cast<uint32_t>(bytes.size());
        out.push_back({1700000000, uint32_t(out.size()), std::move(bytes), wire ? wire : n});
    };
    switch (linktype) {
    case 189:
    case 220: {
        bool mmapped = linktype == 220;
        // event, transfer type, endpoint, device, bus, flags, times, status, lengths
        auto usb = [&](char event, uint8_t transfer, uint8_t endpoint, uint32_t urb_len, uint32_t descriptors) {
            std::string h = u64(0x1122334455667788ull) + std::string{event, char(transfer), char(endpoint), 3} +
                            u16(0x0102) + std::string{0, 0} + u64(1700000000) + u32(123456) + u32(0xfffffff0) +
                            u32(urb_len) + u32(32);
            h += transfer == 0 ? u32(1) + u32(descriptors) : std::string("\x80\x06\x00\x01\x00\x00\x40\x00", 8);
            if (mmapped) h += u32(8) + u32(77) + u32(0x204) + u32(descriptors);
            return h;
        };
        add(usb('S', 3, 0x81, 64, 0) + bytes_of(16, 1));  // bulk
        std::string iso = usb('C', 0, 0x81, 300, 2);
        if (mmapped) iso += u32(0) + u32(0) + u32(40) + u32(0) + u32(0) + u32(100) + u32(60) + u32(0);
        // An incoming isochronous completion whose wire length old libpcap
        // took from the URB length: 64 + 2 x 16 + 300.
        add(iso + bytes_of(24, 2), mmapped ? 64 + 32 + 300 : 0);
        add(iso.substr(0, 30));  // cut in the middle of a field
        break;
    }
    case 239:  // NFLOG: family, version 0, resource id; TLVs of length and type
        add(std::string{2, 0, 0, 5} + u16(8) + u16(1) + "abcd" + u16(6) + u16(10) + std::string("xy\0\0", 4) + u16(5) +
            u16(9) + std::string("z\0\0\0", 4));
        add(std::string{2, 1, 0, 5} + u16(8) + u16(1) + "abcd");  // a version libpcap leaves alone
        add(std::string{2, 0, 0, 5} + u16(64) + u16(1) + "abcd");  // a TLV longer than the record
        break;
    case DLT_LINUX_SLL:  // packet type, ARPHRD, address length and address, protocol; CAN id
        add(std::string(14, 1) + std::string{0, 0x0c} + u32(0x123) + bytes_of(12, 3));
        add(std::string(14, 1) + std::string{0, 0x0d} + u32(0x456) + bytes_of(12, 4));
        add(std::string(14, 1) + std::string{0x08, 0} + bytes_of(24, 5));  // IPv4: nothing to turn
        break;
    case DLT_LINUX_SLL2:  // protocol first
        add(std::string{0, 0x0c} + std::string(18, 1) + u32(0x789) + bytes_of(12, 6));
        add(std::string{0, 0x0d} + std::string(18, 1) + u32(0xabc) + bytes_of(12, 7));
        break;
    case 117: {  // pflog: length, af, action, reason, names, rule numbers; uid, pid, rule uid, rule pid
        std::string h = std::string{61, 2, 0, 0} + std::string(32, 'n') + u32(1) + u32(2);
        add(h + u32(1000) + u32(4242) + u32(0) + u32(77) + std::string(4, 0) + bytes_of(20, 8));
        std::string shorter = h;
        shorter[0] = 52;  // its header ends after the pid
        add(shorter + u32(1000) + u32(4242) + u32(0) + u32(77) + std::string(4, 0));
        break;
    }
    default: break;
    }
    return out;
}

TEST_F(LinkTypes, PseudoHeadersComeOutAsLibpcapRewritesThem) {
    for (uint32_t linktype : {189u, 220u, 239u, uint32_t(DLT_LINUX_SLL), uint32_t(DLT_LINUX_SLL2), 117u})
        for (bool big_endian : {false, true}) {
            SCOPED_TRACE("link type " + std::to_string(linktype) + (big_endian ? ", big-endian" : ", little-endian"));
            std::string in = path("in.pcap"), ours = path("out"), theirs = path("tcpdump.pcap");
            std::vector<PcapRecord> records = pseudo_header_records(linktype, big_endian);
            write_pcap(in, linktype, 65535, records, false, big_endian);
            fs::remove_all(ours);
            // With records dealt to two workers, the walk still rewrites each once.
            Result r = replay({"-q", "--workers", "2", "-o", ours, "-e", "rx | count | pcap \"o.pcap\"", in});
            ASSERT_EQ(r.status, 0) << r.err;
            Result t = command(env("TCPDUMP"), {"-r", in, "-w", theirs});
            ASSERT_EQ(t.status, 0) << t.err;
            auto got = read_capture(ours + "/o.pcap"), want = read_capture(theirs);
            ASSERT_EQ(got.size(), records.size());
            ASSERT_EQ(want.size(), records.size());
            bool rewritten = false;
            for (size_t i = 0; i < got.size(); i++) {
                EXPECT_EQ(got[i].data, want[i].data) << "record " << i;
                EXPECT_EQ(got[i].wire_len, want[i].wire_len) << "record " << i;
                rewritten |= want[i].data != records[i].bytes || want[i].wire_len != records[i].wire;
            }
            // Each big-endian file has something libpcap rewrites; so has
            // the little-endian USB one, whose wire length it repairs.
            if (big_endian || linktype == 220) {
                EXPECT_TRUE(rewritten);
            }
        }
    // Looped, each pass reads the file anew: a chunk the walk passed is not
    // taken for the next pass's, whose records it would rewrite twice.
    std::string in = path("loop.pcap"), theirs = path("tcpdump.pcap");
    write_pcap(in, DLT_LINUX_SLL, 65535, pseudo_header_records(DLT_LINUX_SLL, true), false, true);
    Result t = command(env("TCPDUMP"), {"-r", in, "-w", theirs});
    ASSERT_EQ(t.status, 0) << t.err;
    auto want = read_capture(theirs);
    for (const char* workers : {"1", "2"}) {
        std::string ours = path(std::string("loop-") + workers);
        Result r = replay({"-q", "--workers", workers, "--loop", "100", "-o", ours, "-e", "rx | pcap \"o.pcap\"", in});
        ASSERT_EQ(r.status, 0) << r.err;
        auto got = read_capture(ours + "/o.pcap");
        ASSERT_EQ(got.size(), 100 * want.size()) << workers << " workers";
        for (size_t i = 0; i < got.size(); i++)
            ASSERT_EQ(got[i].data, want[i % want.size()].data) << "record " << i << ", " << workers << " workers";
    }
}

// An IPv4 packet: TCP to port 80 or UDP to port 53 (with 8 bytes of data).
std::string ipv4_packet(bool tcp) {
    std::string ip = {0x45, 0, 0, 0, 0, 1, 0, 0, 64, static_cast<char>(tcp ? 6 : 17), 0, 0, 10, 0, 0, 1, 10, 0, 0, 2};
    std::string l4 = tcp ? std::string{0x30, 0x39, 0, 80, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x18, 0x10, 0, 0, 0, 0, 0}
                         : std::string{0x30, 0x39, 0, 53, 0, 16, 0, 0};
    std::string packet = ip + l4 + "payload!";
    packet[3] = static_cast<char>(packet.size());
    return packet;
}

// The link header each link type puts before an IPv4 packet, in the forms
// captures have: "big-endian" forms come from a big-endian host, and their
// file says so.
std::vector<std::pair<std::string, std::string>> link_headers(int dlt) {
    const std::string mac(12, '\x02');
    const std::string llc = {'\xaa', '\xaa', 3, 0, 0, 0, 8, 0};
    // 802.11 data frames: to the AP (3 addresses), between APs (4), QoS.
    std::string data3 = std::string{0x08, 0x01, 0, 0} + std::string(18, '\x04') + std::string{0x10, 0};
    std::string data4 = std::string{0x08, 0x03, 0, 0} + std::string(18, '\x04') + std::string{0x10, 0} +
                        std::string(6, '\x05');
    std::string qos = std::string{static_cast<char>(0x88), 0x01, 0, 0} + std::string(18, '\x04') +
                      std::string{0x10, 0} + std::string{0, 0};
    switch (dlt) {
    case DLT_LINUX_SLL:
        return {{"sll", std::string{0, 0, 0, 1, 0, 6} + std::string(8, '\x02') + std::string{8, 0}}};
    case DLT_LINUX_SLL2:
        return {{"sll2", std::string{8, 0, 0, 0, 0, 0, 0, 2, 0, 1, 0, 6} + std::string(8, '\x02')}};
    case DLT_RAW: return {{"raw", ""}};
    case DLT_NULL: return {{"little-endian family", std::string{2, 0, 0, 0}}, {"big-endian family", std::string{0, 0, 0, 2}}};
    case DLT_LOOP: return {{"loop", std::string{0, 0, 0, 2}}};
    case DLT_PPP:
        return {{"address and control", std::string{'\xff', 3, 0, 0x21}}, {"protocol only", std::string{0, 0x21}}};
    case DLT_IEEE802_11: return {{"3 addresses", data3 + llc}, {"4 addresses", data4 + llc}, {"QoS", qos + llc}};
    case DLT_IEEE802_11_RADIO: {
        // No fields; then a time stamp and flags that say the 802.11
        // header is padded to 4 bytes (a QoS header of 26 bytes gets 2).
        std::string bare = {0, 0, 8, 0, 0, 0, 0, 0};
        std::string padded = std::string{0, 0, 17, 0, 3, 0, 0, 0} + std::string(8, '\x09') + std::string{0x20};
        return {{"no fields", bare + data3 + llc}, {"data padding", padded + qos + std::string(2, '\0') + llc}};
    }
    default: return {{"ethernet", mac + std::string{8, 0}}};
    }
}

TEST_F(LinkTypes, ALargeCaptureOnTwoWorkersKeepsLengthsAndSnapLengthAsTcpdump) {
    // Past its first chunk (512 KiB) a capture is read through an index
    // that several workers share: the same rules hold there. Every third
    // record is captured beyond its wire length; every record is longer
    // than the snap length (300), and "NEEDLE" lies past it: filters must
    // not see it, as libpcap would not hand it to them.
    std::vector<PcapRecord> records;
    for (uint32_t k = 0; k < 4000; k++) {
        std::string frame = std::string(12, '\x02') + std::string{8, 0} + bytes_of(380, k);
        frame.replace(350, 6, "NEEDLE");
        records.push_back({1700000000 + k / 1000, k % 1000 * 1000, frame, k % 3 == 0 ? 100u : 1400u});
    }
    std::string in = path("large.pcap");
    write_pcap(in, DLT_EN10MB, 300, records);
    ASSERT_GT(fs::file_size(in), 1u << 20);
    Result r = replay({"-q", "--workers", "2", "-o", path("out"), "--stats-json", path("s.json"), "-e",
                       "rx | pcap \"o.pcap\"\nrx | match \"NEEDLE\" | count name=found", in});
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(stats_of(path("s.json")).of("found", "packets_in"), 0u);
    Result t = command(env("TCPDUMP"), {"-r", in, "-w", path("t.pcap")});
    ASSERT_EQ(t.status, 0) << t.err;
    auto got = read_capture(path("out/o.pcap")), want = read_capture(path("t.pcap"));
    ASSERT_EQ(got.size(), want.size());
    EXPECT_TRUE(got == want);
    EXPECT_EQ(want[0].wire_len, 100u);
}

TEST_F(LinkTypes, HeaderFiltersReadTheLinkTypesUsersCaptureOnAsTcpdumpDoes) {
    // Per link type and header form: TCP to 80, UDP to 53, TCP to 80; dport
    // sorts them, and bpf compiles for the capture's own link type.
    for (int dlt : {DLT_EN10MB, DLT_LINUX_SLL, DLT_LINUX_SLL2, DLT_RAW, DLT_NULL, DLT_LOOP, DLT_PPP, DLT_IEEE802_11,
                    DLT_IEEE802_11_RADIO}) {
        for (const auto& [form, header] : link_headers(dlt)) {
            SCOPED_TRACE(std::to_string(dlt) + ", " + form);
            std::vector<PcapRecord> records;
            for (int k = 0; k < 3; k++) {
                std::string frame = header + ipv4_packet(k != 1);
                records.push_back({1700000000, static_cast<uint32_t>(k), frame, static_cast<uint32_t>(frame.size())});
            }
            std::string in = path("in.pcap");
            write_pcap(in, static_cast<uint32_t>(dlt), 65535, records, false, form.starts_with("big-endian"));
            Result r = replay({"-q", "--stats-json", path("s.json"), "-e",
                               "d = rx | dport\nd |80 count name=web\nd |53 count name=dns\nd |else count name=other\n"
                               "rx | bpf \"tcp dst port 80\" | count name=bpf-web",
                               in});
            ASSERT_EQ(r.status, 0) << r.err;
            Stats s = stats_of(path("s.json"));
            // dport reads the headers as tcpdump prints them. libpcap's
            // filters read fewer forms (no 4-address 802.11, no radiotap
            // data padding, no PPP without address and control): bpf
            // follows libpcap there, as it compiles with it.
            Result printed = command(env("TCPDUMP"), {"-nn", "-r", in});
            ASSERT_EQ(printed.status, 0) << printed.err;
            auto lines_with = [&](const std::string& what) {
                size_t n = 0;
                for (size_t at = printed.out.find(what); at != std::string::npos; at = printed.out.find(what, at + 1)) n++;
                return n;
            };
            EXPECT_EQ(s.of("web", "packets_in"), lines_with("> 10.0.0.2.80: Flags"));
            EXPECT_EQ(s.of("dns", "packets_in"), lines_with("> 10.0.0.2.53:"));
            EXPECT_EQ(s.of("web", "packets_in"), 2u);
            EXPECT_EQ(s.of("dns", "packets_in"), 1u);
            EXPECT_EQ(s.of("other", "packets_in"), 0u);
            EXPECT_EQ(s.of("bpf-web", "packets_in"), records_in(tcpdump_filter(in, "tcp dst port 80", path("t80.pcap"))));
        }
    }
}

TEST_F(LinkTypes, FiltersThatReadHeadersRefuseOtherLinkTypesByName) {
    std::string in = path("usb.pcap");
    write_pcap(in, 189, 65535, {{1700000000, 0, bytes_of(64, 1), 64}});
    Result r = replay({"-q", "-e", "rx | dport |80 count", in});
    EXPECT_EQ(r.status, 2);
    EXPECT_NE(r.err.find("dport: it reads packet headers, and streamline does not read those of USB_LINUX"),
              std::string::npos)
        << r.err;
    // What reads no header runs.
    r = replay({"-q", "-e", "rx | count | head 1 | drop", in});
    EXPECT_EQ(r.status, 0) << r.err;
}

// A pcapng file: blocks of 4-byte-aligned bodies with their length at both ends.
std::string pcapng_block(uint32_t type, std::string body) {
    body.resize((body.size() + 3) & ~size_t{3}, '\0');
    std::string out;
    put32(out, type, false);
    put32(out, static_cast<uint32_t>(12 + body.size()), false);
    out += body;
    put32(out, static_cast<uint32_t>(12 + body.size()), false);
    return out;
}
std::string section() {
    std::string body;
    put32(body, 0x1a2b3c4d, false);
    put16(body, 1, false);
    put16(body, 0, false);
    body += std::string(8, '\xff');
    return pcapng_block(0x0a0d0d0a, body);
}
std::string interface(uint16_t linktype, uint32_t snaplen) {
    std::string body;
    put16(body, linktype, false);
    put16(body, 0, false);
    put32(body, snaplen, false);
    return pcapng_block(1, body);
}
std::string packet_block(uint32_t iface, const std::string& bytes, uint32_t wire) {
    std::string body;
    put32(body, iface, false);
    put32(body, 0, false);
    put32(body, 1000000, false);
    put32(body, static_cast<uint32_t>(bytes.size()), false);
    put32(body, wire, false);
    return pcapng_block(6, body + bytes);
}

TEST_F(LinkTypes, PcapngInterfacesOfAnotherLinkTypeOrSnapLengthEndTheCaptureAsInLibpcap) {
    // libpcap reads a file with one link type and one snap length: at an
    // interface that differs it stops with an error, after the records
    // before it. So does sl-replay, naming the file, the offset and both.
    std::string head = section() + interface(DLT_EN10MB, 0) + packet_block(0, bytes_of(60, 1), 60) +
                       packet_block(0, bytes_of(70, 2), 50);
    struct Case {
        std::string name;
        std::string tail;
        std::string says;
    };
    std::vector<Case> cases = {
        {"link type", interface(101 /* LINKTYPE_RAW */, 0) + packet_block(1, bytes_of(40, 3), 40),
         "interface 1 has link type RAW (Raw IP), the first interface EN10MB (Ethernet)"},
        {"snap length", interface(DLT_EN10MB, 128) + packet_block(1, bytes_of(40, 3), 40),
         "interface 1 has snap length 128, the first interface 262144"},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.name);
        std::string in = path("mixed.pcapng");
        std::ofstream(in, std::ios::binary) << head + c.tail;
        fs::remove_all(path("out"));
        Result r = replay({"-q", "-o", path("out"), "-e", "rx | pcap \"o.pcap\"", in});
        EXPECT_EQ(r.status, 1);
        EXPECT_EQ(r.err, "error: " + in + ", offset " + std::to_string(head.size()) + ": " + c.says +
                             ": a capture is read with one " + (c.name == "link type" ? "link type" : "snap length") +
                             ", as libpcap reads it\n");
        Result t = command(env("TCPDUMP"), {"-r", in, "-w", path("t.pcap")});
        EXPECT_NE(t.status, 0);
        EXPECT_EQ(read_capture(path("out/o.pcap")), read_capture(path("t.pcap")));
    }
    // A second section's interface is held to the file's first interface.
    {
        std::string in = path("sections.pcapng");
        std::string first = section() + interface(DLT_EN10MB, 0) + packet_block(0, bytes_of(60, 1), 60) + section();
        std::ofstream(in, std::ios::binary) << first + interface(113 /* LINUX_SLL */, 0) + packet_block(0, bytes_of(40, 3), 40);
        Result r = replay({"-q", "-o", path("out3"), "-e", "rx | pcap \"o.pcap\"", in});
        EXPECT_EQ(r.status, 1);
        EXPECT_NE(r.err.find(in + ", offset " + std::to_string(first.size()) + ": interface 0 has link type LINUX_SLL"),
                  std::string::npos)
            << r.err;
        EXPECT_EQ(records_in(path("out3/o.pcap")), 1u);
        EXPECT_NE(command(env("TCPDUMP"), {"-r", in, "-w", path("t3.pcap")}).status, 0);
    }
    // A record longer than its interface's snap length: libpcap's error.
    std::string in = path("long.pcapng");
    std::string before = section() + interface(DLT_EN10MB, 100) + packet_block(0, bytes_of(60, 1), 60);
    std::ofstream(in, std::ios::binary) << before + packet_block(0, bytes_of(150, 2), 150);
    Result r = replay({"-q", "-o", path("out2"), "-e", "rx | pcap \"o.pcap\"", in});
    EXPECT_EQ(r.status, 1);
    EXPECT_EQ(r.err, "error: " + in + ", offset " + std::to_string(before.size()) +
                         ": invalid packet capture length 150, bigger than snaplen of 100\n");
    EXPECT_EQ(records_in(path("out2/o.pcap")), 1u);
}

TEST_F(LinkTypes, ACaptureCutAnywhereGivesItsWholeRecordsThenOneLineWithTheOffset) {
    // Every cut of a pcap and of a pcapng file: the records before the cut
    // come out, as tcpdump -w writes them, then one line names the file
    // and where the record or block that was cut begins; exit 1.
    for (const char* sample_name : {"mixed.pcap", "mixed.pcapng"}) {
        std::string whole = slurp(sample(sample_name));
        bool ng = std::string(sample_name).ends_with("ng");
        // Where each record or block starts, to know what a cut leaves.
        std::vector<size_t> starts;
        for (size_t at = ng ? 0 : 24; at + (ng ? 8 : 16) <= whole.size();) {
            starts.push_back(at);
            uint32_t n;
            std::memcpy(&n, whole.data() + at + (ng ? 4 : 8), 4);
            at += ng ? n : 16 + n;
        }
        size_t cuts = 0;
        for (size_t k = ng ? 3 : 1; k < starts.size(); k += std::max<size_t>(1, starts.size() / 12)) {
            for (size_t into : {size_t{3}, size_t{13}, size_t{40}}) {
                size_t cut = starts[k] + into;
                if (k + 1 < starts.size() && cut >= starts[k + 1]) continue;
                SCOPED_TRACE(std::string(sample_name) + " cut at " + std::to_string(cut));
                std::string in = path(std::string("cut-") + sample_name);
                std::ofstream(in, std::ios::binary) << whole.substr(0, cut);
                fs::remove_all(path("out"));
                Result r = replay({"-q", "-o", path("out"), "-e", "rx | pcap \"o.pcap\"", in});
                EXPECT_EQ(r.status, 1);
                EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
                EXPECT_TRUE(r.err.starts_with("error: " + in + ", offset " + std::to_string(starts[k]) + ": truncated"))
                    << r.err;
                Result t = command(env("TCPDUMP"), {"-r", in, "-w", path("t.pcap")});
                EXPECT_EQ(read_capture(path("out/o.pcap")), read_capture(path("t.pcap")));
                cuts++;
            }
        }
        EXPECT_GT(cuts, 10u);
    }
}

}  // namespace
