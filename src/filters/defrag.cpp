// defrag: joins IPv4 and IPv6 fragments into whole datagrams, so that the
// filters after it see one packet per datagram: ports, stream bytes and
// patterns that the fragments cut apart.
//
//   rx | defrag | reassemble | streams "flows/"
//
// A fragment's mbuf is kept, not copied, until its datagram is whole; then
// the pieces are chained behind the first one (each cut to its payload) and
// the datagram goes on as one packet, in the place of the fragment that
// completed it. Fragments leave the graph as packets of their own under
// `defragmented`; the run counts the datagrams as made.
//
// Overlap policy: a fragment that overlaps another of its datagram (a
// duplicate, a teardrop) discards the whole datagram, as RFC 5722 asks for
// IPv6 and Linux does for both. Bounds: datagrams in the table, fragments
// per datagram, mbufs held, and a timeout from the first fragment; what
// they give up is counted by reason (frag_overlap, frag_oversize,
// frag_too_many, frag_timeout, frag_evicted, frag_incomplete).
//
// A pool smaller than what the table may hold (sl-forward --mbufs) would
// starve the receive rings for good: with no packet coming in, no datagram
// completes or times out. So while the mbufs' pool runs low, the oldest
// datagrams give up (frag_pool_low), as Linux's ipfrag_high_thresh makes
// room.
//
// Why not rte_ip_frag: Debian's DPDK builds it for at most 8 fragments per
// datagram (a 64 KB datagram at MTU 1500 has 45) and with its statistics
// compiled out, and it frees what it gives up on its death row without a
// reason. This table keeps its layout: mbufs chained, never copied.
#include <algorithm>
#include <atomic>
#include <cstring>
#include <vector>

#include <fmt/format.h>
#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_ip.h>
#include <rte_mempool.h>

#include <sl/filter.hpp>

namespace {

// IPv4's total length and IPv6's payload length are 16 bits; a datagram
// that would exceed them is an attack (the ping of death), not a packet.
constexpr uint32_t kMaxIpLength = 65535;
// Enough extension headers before the fragment header for any real packet.
constexpr int kMaxIpv6Extensions = 8;
constexpr uint8_t kFragmentHeader = 44;  // IPPROTO_FRAGMENT

uint16_t be16(const uint8_t* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }
uint32_t be32(const uint8_t* p) { return uint32_t{be16(p)} << 16 | be16(p + 2); }
void put_be16(uint8_t* p, uint32_t v) {
    p[0] = static_cast<uint8_t>(v >> 8);
    p[1] = static_cast<uint8_t>(v);
}

// What identifies a datagram: RFC 791 (addresses, protocol, id) and RFC
// 8200 (addresses, id), and the VLANs it came on. 8-aligned: rte_hash_crc
// reads it 8 bytes at a time.
struct alignas(8) DatagramKey {
    uint8_t source[16];
    uint8_t destination[16];
    uint32_t id;
    uint16_t vlan_outer;
    uint16_t vlan_inner;
    uint8_t version;
    uint8_t proto;  // IPv4 only
    uint8_t unused[6];
};
static_assert(sizeof(DatagramKey) == 48);

// One fragment as the table keeps it.
struct Piece {
    rte_mbuf* m;
    uint16_t offset;    // payload bytes of the datagram before it
    uint16_t length;    // its payload bytes
    uint16_t header;    // bytes before its payload: link, IP, extension and fragment headers
    uint16_t segments;  // the mbufs it holds
};

struct Datagram {
    uint64_t serial = 0;  // 0: the slot is free
    uint64_t first_ns = 0;
    uint32_t total = 0;    // the payload's length, once the last piece came
    uint32_t have = 0;     // payload bytes held
    uint16_t pieces = 0;
    uint8_t version = 0;
    bool has_last = false;
    // The first piece's IPv6 fragment header, and the byte that names it
    // (the IPv6 header's next header, or the extension header's before it).
    uint16_t fragment_at = 0;
    uint16_t names_fragment_at = 0;
};

// What a fragment says of itself.
struct Fragment {
    DatagramKey key{};
    uint32_t offset = 0;
    uint32_t length = 0;
    uint32_t header = 0;
    uint32_t l3 = 0;
    bool more = false;
    uint16_t fragment_at = 0;
    uint16_t names_fragment_at = 0;
};

enum class Read { joinable, not_fragment, bad, truncated, unsupported };

class Defrag final : public sl::Filter {
public:
    explicit Defrag(sl::FilterContext& ctx)
        : bad_(ctx.drop_reason("bad_fragment")),
          defragmented_(ctx.drop_reason("defragmented")),
          joined_(ctx.counter("datagrams")),
          overlap_(ctx.counter("frag_overlap")),
          oversize_(ctx.counter("frag_oversize")),
          too_many_(ctx.counter("frag_too_many")),
          timeout_(ctx.counter("frag_timeout")),
          evicted_(ctx.counter("frag_evicted")),
          incomplete_(ctx.counter("frag_incomplete")),
          pool_low_(ctx.counter("frag_pool_low")),
          truncated_(ctx.counter("frag_truncated")),
          unsupported_(ctx.counter("frag_unsupported")),
          held_now_(ctx.counter("frag_held")) {
        uint64_t timeout_s = 30;  // Linux's ipfrag_time
        sl::ArgReader(ctx.args())
            .option("datagrams", capacity_, 8, 1u << 20)
            .option("fragments", max_pieces_, 2, 8192)
            .option("held", max_held_, 2, 1u << 20)
            .option("timeout", timeout_s, 1, 3600)
            .complete();
        if (uint64_t{capacity_} * max_pieces_ > (1u << 24))
            throw sl::ConfigError(fmt::format("datagrams={} x fragments={} is more than 16M pieces to keep room for",
                                              capacity_, max_pieces_));
        timeout_ns_ = timeout_s * 1'000'000'000;
        ctx.keeps_packets(max_held_);
        static std::atomic<unsigned> tables{0};
        std::string name = fmt::format("sl_defrag_{}", tables++);
        rte_hash_parameters params{};
        params.name = name.c_str();
        params.entries = capacity_;
        params.key_len = sizeof(DatagramKey);
        params.hash_func = rte_hash_crc;
        params.socket_id = ctx.socket_id();
        params.extra_flag = RTE_HASH_EXTRA_FLAGS_EXT_TABLE;
        hash_ = rte_hash_create(&params);
        if (!hash_) throw sl::RuntimeError(fmt::format("cannot create a fragment table of {} datagrams", capacity_));
        datagrams_.resize(rte_hash_max_key_id(hash_) + 1);
        pieces_.resize(datagrams_.size() * max_pieces_);
        size_t ring = 2;
        while (ring < 2 * datagrams_.size()) ring <<= 1;
        age_.resize(ring);
        ctx.info("table_bytes", datagrams_.size() * (sizeof(Datagram) + max_pieces_ * sizeof(Piece)));
    }

    ~Defrag() override {
        // Counters may be gone by now (finish() counted what was left).
        uint64_t uncounted = 0;
        discard_all(uncounted);
        rte_hash_free(hash_);
    }

    void process(sl::Burst& burst) noexcept override {
        for (uint16_t i = 0; i < burst.size(); i++) now_ = std::max(now_, sl::timestamp_ns(burst[i]));
        expire();
        if (held_ > 0) relieve(burst.size());
        for (uint16_t i = 0; i < burst.size(); i++) {
            rte_mbuf* m = burst[i];
            clock_ = std::max(clock_, sl::timestamp_ns(m));
            if (!(sl::meta(m).flags & sl::kIsFragment)) continue;
            Fragment f;
            switch (read(m, f)) {
            case Read::joinable: break;
            case Read::not_fragment: continue;
            case Read::bad: burst.drop(i, bad_); continue;
            case Read::truncated: truncated_++; continue;
            case Read::unsupported: unsupported_++; continue;
            }
            add(burst, i, f);
        }
        held_now_ = held_;
    }

    void finish() override {
        discard_all(incomplete_);
        held_now_ = held_;
    }

private:
    // Reads the fragment's headers from the mbuf's first segment, where
    // the parser found them (sl::meta); the join rewrites them there.
    static Read read(rte_mbuf* m, Fragment& f) noexcept {
        const sl::PacketMeta& pm = sl::meta(m);
        if (pm.l3_offset == sl::kNoOffset) return Read::not_fragment;
        // Only a packet that nothing else holds (an earlier filter's
        // reference, a device's) may be chained into another.
        for (const rte_mbuf* seg = m; seg; seg = seg->next)
            if (rte_mbuf_refcnt_read(seg) != 1 || RTE_MBUF_HAS_EXTBUF(seg)) return Read::unsupported;
        const uint8_t* data = rte_pktmbuf_mtod(m, const uint8_t*);
        auto in_first = [m](uint32_t bytes) { return pull_up(m, bytes); };
        uint32_t l3 = pm.l3_offset;
        f.l3 = l3;
        if (pm.flags & sl::kHasVlan) f.key.vlan_outer = pm.vlan_outer;
        if (pm.flags & sl::kHasQinQ) f.key.vlan_inner = pm.vlan_inner;
        uint32_t ip_end;  // where the IP datagram ends in the frame
        if (pm.flags & sl::kIsIpv4) {
            if (!in_first(l3 + 20)) return Read::unsupported;
            const uint8_t* ip = data + l3;
            uint32_t ihl = (ip[0] & 0x0fu) * 4;
            uint32_t total = be16(ip + 2);
            uint16_t frag = be16(ip + 6);
            if (!(frag & 0x3fff)) return Read::not_fragment;
            if (ihl < 20 || total < ihl) return Read::bad;
            if (!in_first(l3 + ihl)) return Read::unsupported;
            f.key.version = 4;
            f.key.proto = ip[9];
            std::memcpy(f.key.source, ip + 12, 4);
            std::memcpy(f.key.destination, ip + 16, 4);
            f.key.id = be16(ip + 4);
            f.offset = (frag & 0x1fffu) * 8;
            f.more = frag & 0x2000;
            f.header = l3 + ihl;
            f.length = total - ihl;
            ip_end = l3 + total;
        } else if (pm.flags & sl::kIsIpv6) {
            if (!in_first(l3 + 40)) return Read::unsupported;
            const uint8_t* ip = data + l3;
            uint32_t at = l3 + 40;
            uint32_t names = l3 + 6;
            uint8_t next = ip[6];
            for (int k = 0; k < kMaxIpv6Extensions && next != kFragmentHeader; k++) {
                if (next != IPPROTO_HOPOPTS && next != IPPROTO_ROUTING && next != IPPROTO_DSTOPTS) break;
                if (!in_first(at + 8)) return Read::unsupported;
                names = at;
                next = data[at];
                at += (data[at + 1] + 1u) * 8;
            }
            if (next != kFragmentHeader) return Read::unsupported;  // past the walk, or after AH/ESP
            if (!in_first(at + 8)) return Read::unsupported;
            const uint8_t* fh = data + at;
            uint16_t fo = be16(fh + 2);
            f.key.version = 6;
            std::memcpy(f.key.source, ip + 8, 16);
            std::memcpy(f.key.destination, ip + 24, 16);
            f.key.id = be32(fh + 4);
            f.offset = fo & 0xfff8u;
            f.more = fo & 1;
            f.header = at + 8;
            f.fragment_at = static_cast<uint16_t>(at);
            f.names_fragment_at = static_cast<uint16_t>(names);
            ip_end = l3 + 40 + be16(ip + 4);
            if (ip_end < f.header) return Read::bad;
            f.length = ip_end - f.header;
        } else {
            return Read::not_fragment;
        }
        // Bytes a capture cut off cannot be joined: the packet goes on as it is.
        if (ip_end > m->pkt_len) return Read::truncated;
        if (f.length == 0 || (f.more && f.length % 8 != 0)) return Read::bad;
        return Read::joinable;
    }

    void add(sl::Burst& burst, uint16_t i, const Fragment& f) noexcept {
        hash_sig_t sig = rte_hash_hash(hash_, &f.key);
        int32_t pos = rte_hash_add_key_with_hash(hash_, &f.key, sig);
        if (pos == -ENOSPC) {
            evict_oldest(evicted_);
            pos = rte_hash_add_key_with_hash(hash_, &f.key, sig);
        }
        if (pos < 0) {  // cannot happen with an extension table, but never hold what the table cannot name
            evicted_++;
            burst.keep(i, defragmented_);
            rte_pktmbuf_free(burst[i]);
            return;
        }
        Datagram& d = datagrams_[pos];
        if (d.serial == 0) {
            d = Datagram{};
            d.serial = ++serial_;
            d.first_ns = clock_;
            d.version = f.key.version;
            push_age(static_cast<uint32_t>(pos), d.serial);
        }
        Piece* p = &pieces_[size_t(pos) * max_pieces_];
        rte_mbuf* m = burst[i];
        burst.keep(i, defragmented_);
        // The datagram's IP length: IPv4's counts its header, IPv6's what
        // follows the fixed header.
        uint64_t end = uint64_t{f.offset} + f.length;
        uint32_t before = f.key.version == 4 ? f.header - f.l3 : f.fragment_at - f.l3 - 40;
        uint32_t held_end = d.pieces ? uint32_t{p[d.pieces - 1].offset} + p[d.pieces - 1].length : 0;
        if (end + before > kMaxIpLength || (d.has_last && end > d.total) || (!f.more && end < held_end)) {
            discard(pos, oversize_, m);
            return;
        }
        if (d.pieces == max_pieces_) {
            discard(pos, too_many_, m);
            return;
        }
        // Sorted by offset; any overlap, a duplicate included, ends the datagram.
        uint16_t at = d.pieces;
        while (at > 0 && p[at - 1].offset > f.offset) at--;
        bool overlaps = (at > 0 && uint32_t{p[at - 1].offset} + p[at - 1].length > f.offset) ||
                        (at < d.pieces && end > p[at].offset) || (!f.more && d.has_last);
        if (overlaps) {
            discard(pos, overlap_, m);
            return;
        }
        std::memmove(p + at + 1, p + at, sizeof(Piece) * (d.pieces - at));
        p[at] = {m, static_cast<uint16_t>(f.offset), static_cast<uint16_t>(f.length), static_cast<uint16_t>(f.header),
                 m->nb_segs};
        d.pieces++;
        d.have += f.length;
        if (!f.more) {
            d.has_last = true;
            d.total = static_cast<uint32_t>(end);
        }
        if (f.offset == 0) {
            d.fragment_at = f.fragment_at;
            d.names_fragment_at = f.names_fragment_at;
        }
        held_ += m->nb_segs;
        if (!(d.has_last && d.have == d.total)) {
            while (held_ > max_held_ && age_head_ != age_tail_) evict_oldest(evicted_);
            return;
        }
        uint16_t pieces = d.pieces;
        rte_mbuf* whole = join(d, p);
        forget(pos);
        if (!whole) {
            oversize_ += pieces;
            return;
        }
        joined_++;
        burst.replace(i, whole, defragmented_);
    }

    // Chains the pieces behind the first, each cut to its payload, and
    // rewrites the first one's IP header to describe the whole. On failure
    // (a chain too long for an mbuf) frees them all and returns null.
    rte_mbuf* join(const Datagram& d, Piece* p) noexcept {
        rte_mbuf* head = p[0].m;
        // The IP length the head's header gives the whole: each piece was
        // checked against its own header, the head's may be longer.
        uint32_t l3_head = sl::meta(head).l3_offset;
        uint32_t before = d.version == 4 ? p[0].header - l3_head : d.fragment_at - l3_head - 40u;
        if (before + d.total > kMaxIpLength) {
            for (uint16_t k = 0; k < d.pieces; k++) rte_pktmbuf_free(p[k].m);
            return nullptr;
        }
        bool ok = trim_to(head, uint32_t{p[0].header} + p[0].length);
        for (uint16_t k = 1; k < d.pieces; k++) {
            rte_mbuf* m = p[k].m;
            if (!ok || !cut_front(m, p[k].header) || !trim_to(m, p[k].length) || rte_pktmbuf_chain(head, m) != 0) {
                ok = false;
                rte_pktmbuf_free(m);
            }
        }
        if (!ok) {
            rte_pktmbuf_free(head);
            return nullptr;
        }
        uint8_t* data = rte_pktmbuf_mtod(head, uint8_t*);
        uint32_t l3 = sl::meta(head).l3_offset;
        if (d.version == 4) {
            auto* ip = reinterpret_cast<rte_ipv4_hdr*>(data + l3);
            uint32_t ihl = (data[l3] & 0x0fu) * 4;
            put_be16(data + l3 + 2, ihl + d.total);
            ip->fragment_offset &= rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG);
            ip->hdr_checksum = 0;
            ip->hdr_checksum = rte_ipv4_cksum(ip);
            return head;
        }
        // IPv6: the fragment header goes; what came before it moves up by
        // its 8 bytes, and the header that named it names what it named.
        data[d.names_fragment_at] = data[d.fragment_at];
        std::memmove(data + 8, data, d.fragment_at);
        rte_pktmbuf_adj(head, 8);
        data += 8;
        put_be16(data + l3 + 4, d.fragment_at - l3 - 40 + d.total);
        return head;
    }

    // Makes the first `bytes` of a packet lie in its first segment, moving
    // them from the next segments into its room: a capture copied into
    // small segments (sl-replay --segment) may cut a header. False when
    // the segment has no room for them (or the packet is shorter).
    static bool pull_up(rte_mbuf* m, uint32_t bytes) noexcept {
        if (bytes <= m->data_len) return true;
        if (bytes > m->pkt_len || RTE_MBUF_HAS_EXTBUF(m) || rte_mbuf_refcnt_read(m) != 1 ||
            bytes - m->data_len > rte_pktmbuf_tailroom(m))
            return false;
        while (m->data_len < bytes && m->next) {
            rte_mbuf* next = m->next;
            auto n = static_cast<uint16_t>(std::min<uint32_t>(bytes - m->data_len, next->data_len));
            std::memcpy(rte_pktmbuf_mtod_offset(m, uint8_t*, m->data_len), rte_pktmbuf_mtod(next, const uint8_t*), n);
            m->data_len = static_cast<uint16_t>(m->data_len + n);
            next->data_off = static_cast<uint16_t>(next->data_off + n);
            next->data_len = static_cast<uint16_t>(next->data_len - n);
            if (next->data_len == 0) {
                m->next = next->next;
                m->nb_segs--;
                next->next = nullptr;
                rte_pktmbuf_free_seg(next);
            }
        }
        return m->data_len >= bytes;
    }

    // Removes the first `bytes` of a packet, from as many segments as hold them.
    static bool cut_front(rte_mbuf* m, uint32_t bytes) noexcept {
        if (bytes > m->pkt_len) return false;
        m->pkt_len -= bytes;
        for (rte_mbuf* s = m; s && bytes; s = s->next) {
            uint16_t take = static_cast<uint16_t>(std::min<uint32_t>(bytes, s->data_len));
            s->data_off = static_cast<uint16_t>(s->data_off + take);
            s->data_len = static_cast<uint16_t>(s->data_len - take);
            bytes -= take;
        }
        return true;
    }

    // Keeps the first `bytes` of a packet (a link layer pads short frames).
    static bool trim_to(rte_mbuf* m, uint32_t bytes) noexcept {
        if (bytes > m->pkt_len) return false;
        m->pkt_len = bytes;
        uint16_t segments = 0;
        for (rte_mbuf* s = m; s; s = s->next) {
            segments++;
            if (s->data_len < bytes) {
                bytes -= s->data_len;
                continue;
            }
            s->data_len = static_cast<uint16_t>(bytes);
            if (s->next) rte_pktmbuf_free(s->next);
            s->next = nullptr;
            break;
        }
        m->nb_segs = segments;
        return true;
    }

    // The datagram at `pos` gives up: its pieces (and `also`, a fragment
    // not yet among them) are freed and counted under `reason`.
    void discard(int32_t pos, uint64_t& reason, rte_mbuf* also = nullptr) noexcept {
        Datagram& d = datagrams_[pos];
        Piece* p = &pieces_[size_t(pos) * max_pieces_];
        reason += d.pieces;
        forget(pos);  // counts what the pieces held, before they go
        for (uint16_t k = 0; k < d.pieces; k++) rte_pktmbuf_free(p[k].m);
        if (also) {
            rte_pktmbuf_free(also);
            reason++;
        }
    }

    // The datagram at `pos` leaves the table; its pieces are the caller's.
    void forget(int32_t pos) noexcept {
        DatagramKey key;
        void* stored = nullptr;
        if (rte_hash_get_key_with_position(hash_, pos, &stored) == 0) {
            std::memcpy(&key, stored, sizeof(key));
            rte_hash_del_key(hash_, &key);
        }
        const Piece* p = &pieces_[size_t(pos) * max_pieces_];
        for (uint16_t k = 0; k < datagrams_[pos].pieces; k++) held_ -= p[k].segments;
        datagrams_[pos].serial = 0;
    }

    // Datagrams in the order they began: the timeout is the same for all,
    // so the oldest expire first. An entry whose datagram is gone (joined,
    // discarded) is skipped when it comes to the front.
    struct Age {
        uint32_t pos;
        uint64_t serial;
    };
    void push_age(uint32_t pos, uint64_t serial) noexcept {
        if (age_tail_ - age_head_ == age_.size()) pop_age(evicted_);
        age_[age_tail_++ & (age_.size() - 1)] = {pos, serial};
    }
    // Takes the front entry; a datagram still there gives up under `reason`.
    void pop_age(uint64_t& reason) noexcept {
        Age a = age_[age_head_++ & (age_.size() - 1)];
        if (datagrams_[a.pos].serial == a.serial) discard(static_cast<int32_t>(a.pos), reason);
    }
    bool front_alive() const noexcept {
        const Age& a = age_[age_head_ & (age_.size() - 1)];
        return datagrams_[a.pos].serial == a.serial;
    }
    void expire() noexcept {
        while (age_head_ != age_tail_) {
            const Age& a = age_[age_head_ & (age_.size() - 1)];
            const Datagram& d = datagrams_[a.pos];
            if (d.serial == a.serial && d.first_ns + timeout_ns_ > now_) break;
            pop_age(timeout_);
        }
    }
    void evict_oldest(uint64_t& reason) noexcept {
        while (age_head_ != age_tail_ && !front_alive()) age_head_++;
        if (age_head_ != age_tail_) pop_age(reason);
    }
    // While the pool the held fragments came from has fewer free mbufs
    // than the next walks may take (twice the largest burst, and at least
    // a sixteenth of the pool), the oldest datagrams give up theirs. Once
    // per burst, and only while holding: counting a pool's free mbufs reads
    // every lcore's cache.
    void relieve(uint16_t burst_size) noexcept {
        largest_burst_ = std::max(largest_burst_, burst_size);
        while (age_head_ != age_tail_ && !front_alive()) age_head_++;
        if (age_head_ == age_tail_) return;
        rte_mempool* pool = pieces_[size_t(age_[age_head_ & (age_.size() - 1)].pos) * max_pieces_].m->pool;
        unsigned mark = std::max(pool->size / 16, 2u * largest_burst_);
        unsigned free = rte_mempool_avail_count(pool);
        if (free >= mark) return;
        uint64_t before = held_;
        while (held_ > 0 && age_head_ != age_tail_ && before - held_ < mark - free) evict_oldest(pool_low_);
    }
    void discard_all(uint64_t& reason) noexcept {
        while (age_head_ != age_tail_) pop_age(reason);
    }

    sl::DropReason bad_;
    sl::DropReason defragmented_;
    uint64_t& joined_;
    uint64_t& overlap_;
    uint64_t& oversize_;
    uint64_t& too_many_;
    uint64_t& timeout_;
    uint64_t& evicted_;
    uint64_t& incomplete_;
    uint64_t& pool_low_;
    uint64_t& truncated_;
    uint64_t& unsupported_;
    uint64_t& held_now_;
    uint32_t capacity_ = 1024;
    uint32_t max_pieces_ = 64;
    uint32_t max_held_ = 1024;
    uint64_t timeout_ns_ = 0;
    rte_hash* hash_ = nullptr;
    std::vector<Datagram> datagrams_;  // by rte_hash position
    std::vector<Piece> pieces_;        // max_pieces_ per position
    std::vector<Age> age_;             // a ring, a power of two long
    uint64_t age_head_ = 0;
    uint64_t age_tail_ = 0;
    uint64_t serial_ = 0;
    uint64_t held_ = 0;
    uint16_t largest_burst_ = 0;
    // Time as the packets tell it: the latest of this burst, for the
    // timeouts, and the latest so far in it, for when a datagram began.
    uint64_t now_ = 0;
    uint64_t clock_ = 0;
};

}  // namespace

SL_REGISTER_FILTER(Defrag, sl::FilterType{.name = "defrag",
                                          .access = sl::Access::headers,
                                          .flags = sl::kKeepsPackets | sl::kJoinsFragments,
                                          .summary = "join IPv4 and IPv6 fragments into whole datagrams",
                                          .usage = "defrag [datagrams=N] [fragments=N] [held=N] [timeout=SECONDS]",
                                          .drops = "bad_fragment,defragmented"})
