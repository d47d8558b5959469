// ttl_bucket: a header-only classifier plugin. The class of an IP packet is
// the bucket its TTL (IPv4) or hop limit (IPv6) falls in:
//
//   ttl = rx | ttl_bucket 32 64 128
//   ttl |0 count name=low
//   ttl |3 count name=high
//
// with bounds B0 < B1 < ...: class 0 for TTL <= B0, 1 for <= B1, ..., and
// one more for the rest. Without bounds: 32 64 128. Non-IP packets get no
// class (only `|else` takes them). It reads one header byte: Access::headers.
#include <array>
#include <string>
#include <vector>

#include <sl/filter.hpp>

namespace {

class TtlBucket final : public sl::Filter {
public:
    explicit TtlBucket(sl::FilterContext& ctx) {
        const sl::Args& args = ctx.args();
        std::vector<const sl::Arg*> given;
        sl::ArgReader(args).remaining("TTL bound", given).complete();
        if (given.size() > kMaxBounds)
            args.fail(*given[kMaxBounds], "takes at most " + std::to_string(kMaxBounds) + " bounds");
        bound_count_ = given.size();
        if (bound_count_ == 0) {
            bounds_ = {32, 64, 128};
            bound_count_ = 3;
        }
        for (size_t i = 0; i < given.size(); i++) {
            bounds_[i] = static_cast<uint8_t>(args.number(*given[i], "TTL bound", 0, 254));
            if (i > 0 && bounds_[i] <= bounds_[i - 1]) args.fail(*given[i], "the bounds must grow from left to right");
        }
        // The class of every TTL, computed once: process() then does one
        // lookup per packet.
        for (unsigned ttl = 0; ttl < 256; ttl++) {
            uint8_t cls = 0;
            while (cls < bound_count_ && ttl > bounds_[cls]) cls++;
            class_of_[ttl] = cls;
        }
    }

    void process(sl::Burst& burst) noexcept override {
        for (uint16_t i = 0; i < burst.size(); i++) {
            const rte_mbuf* m = burst[i];
            const sl::PacketMeta& pm = sl::meta(m);
            if (!sl::has_ip(m)) {
                burst.set_no_class(i);
                continue;
            }
            // IPv4's TTL is byte 8 of its header, IPv6's hop limit byte 7.
            uint32_t at = pm.l3_offset + ((pm.flags & sl::kIsIpv4) ? 8u : 7u);
            uint8_t scratch;
            const uint8_t* ttl = burst.view(i).read(at, 1, &scratch);
            if (ttl) burst.set_class(i, class_of_[*ttl]);
            else burst.set_no_class(i);
        }
    }

private:
    static constexpr size_t kMaxBounds = 16;
    std::array<uint8_t, kMaxBounds> bounds_{};
    size_t bound_count_ = 0;
    std::array<uint8_t, 256> class_of_{};
};

}  // namespace

SL_REGISTER_FILTER(TtlBucket, sl::FilterType{.name = "ttl_bucket",
                                             .access = sl::Access::headers,
                                             .flags = sl::kClassifier,
                                             .summary = "class = bucket of the IP TTL / hop limit",
                                             .usage = "ttl_bucket [BOUND...]"})
