// Filters that break the SDK's rules, to see the runtime hold them to it:
//   misbehave fail=ctor|args|other|process   throws where it is told to
//   overreach                                declares headers, reads payload
#include <stdexcept>

#include <sl/filter.hpp>

namespace {

class Misbehave final : public sl::Filter {
public:
    explicit Misbehave(sl::FilterContext& ctx) {
        std::string where = "process";
        sl::ArgReader args(ctx.args());
        args.option("fail", where);
        if (where == "ctor") throw std::runtime_error("the flux capacitor is missing");
        uint64_t number = 0;
        if (where == "args") args.positional("a number", number, 1, 10);
        if (where == "other") throw 42;
        throw_in_process_ = where == "process";
    }
    void process(sl::Burst& burst) noexcept override {
        if (throw_in_process_ && burst.size() > 0) throw std::logic_error("a packet was not what I expected");
    }

private:
    bool throw_in_process_ = false;
};

// Declares header access and still tries to read each packet's first payload
// byte: the view must refuse it.
class Overreach final : public sl::Filter {
public:
    explicit Overreach(sl::FilterContext& ctx) : reached_(ctx.counter("reached")), refused_(ctx.counter("refused")) {}
    void process(sl::Burst& burst) noexcept override {
        for (uint16_t i = 0; i < burst.size(); i++) {
            const rte_mbuf* m = burst[i];
            if (sl::meta(m).payload_offset >= rte_pktmbuf_pkt_len(m)) continue;  // no payload to reach for
            uint8_t scratch;
            if (burst.view(i).read(sl::meta(m).payload_offset, 1, &scratch)) reached_++;
            else refused_++;
            if (burst.writable(i)) reached_++;
        }
    }

private:
    uint64_t& reached_;
    uint64_t& refused_;
};

}  // namespace

SL_REGISTER_FILTER(Misbehave, sl::FilterType{.name = "misbehave", .summary = "throws", .usage = "misbehave fail=WHERE"})
SL_REGISTER_FILTER(Overreach, sl::FilterType{.name = "overreach",
                                             .access = sl::Access::headers,
                                             .summary = "reads past its access",
                                             .usage = "overreach"})
