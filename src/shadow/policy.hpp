// The four shadow-buffer policies (the README's "Shadow buffers"): how the bytes a
// filter reads are served, in place from the imported segment or from a
// shadow copy in local memory.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <sl/burst.hpp>

namespace sl::shadow {

enum class Policy : uint8_t {
    zero_copy,  // every read goes to the imported segment
    copy_once,  // a packet is copied whole into its shadow when a filter first reads it
    hybrid,     // headers in place; the rest is pulled when a payload filter asks
    prefetch,   // copy once, for the whole burst as it enters, and read the source ahead
};

struct PolicyConfig {
    Policy policy = Policy::hybrid;
    // hybrid: bytes below this offset are served in place; 0 means each
    // packet's own parsed payload offset.
    uint32_t fixed_threshold = 0;
    bool operator==(const PolicyConfig&) const = default;
};

// Whether a reader with `access` can ever want bytes made local under
// `config`: never what reads no byte, never under zero-copy, and not a
// header reader under hybrid.
inline bool may_pull(const PolicyConfig& config, Access access) noexcept {
    if (!reads_bytes(access) || config.policy == Policy::zero_copy) return false;
    return config.policy != Policy::hybrid || access == Access::payload || access == Access::write;
}

// "zero-copy", "copy-once", "hybrid", "hybrid:N" or "prefetch"; nullopt with
// `error` set otherwise.
std::optional<PolicyConfig> parse_policy(std::string_view text, std::string& error);
std::string policy_name(const PolicyConfig& config);

}  // namespace sl::shadow
