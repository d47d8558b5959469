// "Did you mean ...?": the closest known name to a word the user typed.
#pragma once

#include <string>
#include <vector>

namespace sl {

// The closest of `candidates` to `word` by edit distance (a swap of two
// neighbours counts as one edit), or "" if none is close enough.
std::string nearest(const std::string& word, const std::vector<std::string>& candidates);

}  // namespace sl
