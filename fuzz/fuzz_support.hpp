// What the fuzz targets share: DPDK started once per process, and a process
// that cannot change the machine's files.
//
// The language target builds filters from fuzzed text, and a `pcap "FILE"`
// or `streams "DIR"` sink in it opens the file it names: run as root, a
// fuzzer would sooner or later truncate /etc/passwd. So once the EAL is up,
// the fuzzing thread moves into a mount namespace of its own (DPDK's threads,
// which open nothing, stay where they are) where every mount is read-only
// but its working folder: scripts/fuzz.sh runs it, as root, in a folder made
// for that (marked by a file named .sl-fuzz-jail), with the corpus inside,
// and what the sinks create there is removed after each input. (/proc and
// the symbolizer stay readable: LeakSanitizer and stack traces need them.)
#pragma once

#include <sched.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <utility>
#include <vector>
#include <string>

#include <rte_mbuf.h>

#include "core/eal.hpp"

namespace sl_fuzz {

inline void fail(const char* what) {
    std::perror(what);
    std::abort();
}

// Starts the EAL on one lcore without hugepages or devices.
inline void start_dpdk(const char* program) {
    sl::core::EalConfig eal;
    eal.memory_mb = 512;
    sl::core::start_eal(program, eal);
}

constexpr const char* kJailMark = ".sl-fuzz-jail";

// The flags a remount keeps.
inline unsigned long kept_flags(const std::string& options) {
    unsigned long flags = 0;
    std::istringstream in(options);
    for (std::string o; std::getline(in, o, ',');) {
        if (o == "nosuid") flags |= MS_NOSUID;
        else if (o == "nodev") flags |= MS_NODEV;
        else if (o == "noexec") flags |= MS_NOEXEC;
        else if (o == "noatime") flags |= MS_NOATIME;
        else if (o == "nodiratime") flags |= MS_NODIRATIME;
        else if (o == "relatime") flags |= MS_RELATIME;
    }
    return flags;
}

// mountinfo escapes spaces and such as \ooo.
inline std::string unescape(const std::string& s) {
    std::string out;
    for (size_t i = 0; i < s.size(); i++) {
        if (s[i] == '\\' && i + 3 < s.size()) {
            out += static_cast<char>(std::stoi(s.substr(i + 1, 3), nullptr, 8));
            i += 3;
        } else {
            out += s[i];
        }
    }
    return out;
}

// Every mount read-only in a mount namespace of this process's own, but the
// working folder.
inline void confine() {
    if (access(kJailMark, F_OK) != 0) {
        std::fprintf(stderr, "run this target through scripts/fuzz.sh: it makes all but its working folder read-only\n");
        std::exit(2);
    }
    char cwd[4096];
    if (!getcwd(cwd, sizeof(cwd))) fail("getcwd");
    if (unshare(CLONE_NEWNS) != 0) {
        std::perror("a mount namespace of its own (this target runs as root)");
        std::exit(2);
    }
    if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) fail("making / private");
    std::ifstream info("/proc/self/mountinfo");
    std::vector<std::pair<std::string, unsigned long>> mounts;
    for (std::string line; std::getline(info, line);) {
        std::istringstream fields(line);
        std::string id, parent, device, root, point, options;
        fields >> id >> parent >> device >> root >> point >> options;
        mounts.emplace_back(unescape(point), kept_flags(options));
    }
    bool root_done = false;
    std::string left;
    for (const auto& [point, flags] : mounts) {
        int rc = mount(nullptr, point.c_str(), nullptr, MS_BIND | MS_REMOUNT | MS_RDONLY | flags, nullptr);
        if (point == "/") root_done = rc == 0;
        if (rc != 0) left += " " + point;
    }
    if (!root_done) fail("remounting / read-only");
    if (!left.empty()) std::fprintf(stderr, "fuzz: these mounts stay writable:%s\n", left.c_str());
    // A bind mount takes the flags of the mount it comes from, read-only
    // now: remount it writable.
    if (mount(cwd, cwd, nullptr, MS_BIND, nullptr) != 0 ||
        mount(nullptr, cwd, nullptr, MS_BIND | MS_REMOUNT, nullptr) != 0)
        fail("binding the working folder writable");
    if (chdir(cwd) != 0) fail("chdir into the working folder");
}

// Removes what an input's sinks created in the working folder, sparing
// the corpus and what libFuzzer keeps there.
inline void tidy_jail() {
    namespace fs = std::filesystem;
    std::error_code ec;
    for (fs::directory_iterator it(".", ec), end; !ec && it != end; it.increment(ec)) {
        const std::string name = it->path().filename().string();
        if (name != kJailMark && name != "corpus" && name != "seeds" && name != "crashes") fs::remove_all(it->path(), ec);
    }
}

}  // namespace sl_fuzz
