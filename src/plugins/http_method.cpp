// http_method: a payload filter plugin. The class of a TCP packet whose
// payload starts with an HTTP/1.x request line is its method:
//
//   1 GET  2 POST  3 HEAD  4 PUT  5 DELETE  6 OPTIONS  7 PATCH  8 CONNECT  9 TRACE
//
//   method = rx | bpf "tcp port 80" | http_method
//   method |1 pcap "gets.pcap"
//   method |else count name=other
//
// Other packets get no class. It reads the first payload bytes, so it
// declares Access::payload: under the hybrid policy the runtime pulls the
// payloads of its burst before process() runs. Counters: one per method.
#include <array>
#include <cstring>
#include <string_view>

#include <netinet/in.h>

#include <sl/filter.hpp>

namespace {

constexpr std::array<std::string_view, 9> kMethods = {"GET ",    "POST ",     "HEAD ",     "PUT ",  "DELETE ",
                                                      "OPTIONS ", "PATCH ", "CONNECT ", "TRACE "};

class HttpMethod final : public sl::Filter {
public:
    explicit HttpMethod(sl::FilterContext& ctx) {
        for (size_t i = 0; i < kMethods.size(); i++) {
            std::string_view name = kMethods[i].substr(0, kMethods[i].size() - 1);
            counts_[i] = &ctx.counter(std::string(name));
        }
    }

    void process(sl::Burst& burst) noexcept override {
        for (uint16_t i = 0; i < burst.size(); i++) {
            const rte_mbuf* m = burst[i];
            burst.set_no_class(i);
            if (sl::meta(m).ip_proto != IPPROTO_TCP || !sl::has_ports(m)) continue;
            sl::PacketView view = burst.view(i);
            uint32_t start = view.payload_offset();
            uint8_t scratch[8];
            uint32_t length = std::min<uint32_t>(8, view.size() - start);
            const uint8_t* p = length >= 4 ? view.read(start, length, scratch) : nullptr;
            if (!p) continue;
            for (size_t k = 0; k < kMethods.size(); k++)
                if (kMethods[k].size() <= length && std::memcmp(p, kMethods[k].data(), kMethods[k].size()) == 0) {
                    burst.set_class(i, static_cast<uint32_t>(k + 1));
                    ++*counts_[k];
                    break;
                }
        }
    }

private:
    std::array<uint64_t*, kMethods.size()> counts_{};
};

}  // namespace

SL_REGISTER_FILTER(HttpMethod, sl::FilterType{.name = "http_method",
                                              .access = sl::Access::payload,
                                              .flags = sl::kClassifier,
                                              .summary = "class = HTTP request method (1 GET, 2 POST, ...)",
                                              .usage = "http_method"})
