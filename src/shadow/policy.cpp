#include "shadow/policy.hpp"

#include <charconv>

#include <fmt/format.h>

namespace sl::shadow {

std::optional<PolicyConfig> parse_policy(std::string_view text, std::string& error) {
    PolicyConfig c;
    if (text == "zero-copy") c.policy = Policy::zero_copy;
    else if (text == "copy-once") c.policy = Policy::copy_once;
    else if (text == "hybrid") c.policy = Policy::hybrid;
    else if (text == "prefetch") c.policy = Policy::prefetch;
    else if (text.substr(0, 7) == "hybrid:") {
        std::string_view n = text.substr(7);
        uint32_t value = 0;
        auto [end, ec] = std::from_chars(n.data(), n.data() + n.size(), value);
        if (n.empty() || ec != std::errc() || end != n.data() + n.size() || value == 0 || value > 65535) {
            error = fmt::format("hybrid:N takes a byte offset from 1 to 65535, not '{}'", n);
            return std::nullopt;
        }
        c.policy = Policy::hybrid;
        c.fixed_threshold = value;
    } else {
        error = fmt::format("the shadow policy is zero-copy, copy-once, hybrid, hybrid:N or prefetch, not '{}'", text);
        return std::nullopt;
    }
    return c;
}

std::string policy_name(const PolicyConfig& c) {
    switch (c.policy) {
    case Policy::zero_copy: return "zero-copy";
    case Policy::copy_once: return "copy-once";
    case Policy::prefetch: return "prefetch";
    case Policy::hybrid: break;
    }
    return c.fixed_threshold ? fmt::format("hybrid:{}", c.fixed_threshold) : "hybrid";
}

}  // namespace sl::shadow
