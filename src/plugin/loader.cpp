#include "plugin/loader.hpp"

#include <cxxabi.h>
#include <dlfcn.h>
#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>

#include <fmt/format.h>

#include "sdk/registry.hpp"
#include <sl/error.hpp>

namespace sl::plugin {
namespace {

namespace fs = std::filesystem;

std::vector<fs::path>& opened_files() {
    static std::vector<fs::path> files;
    return files;
}

std::vector<std::string>& opened_names() {
    static std::vector<std::string> names;
    return names;
}

// dlerror() names a missing symbol by its mangled name; a C++ author reads
// the demangled one.
std::string readable_dlerror(const char* text) {
    std::string message = text ? text : "unknown error";
    const std::string marker = "undefined symbol: ";
    auto at = message.find(marker);
    if (at == std::string::npos) return message;
    std::string symbol = message.substr(at + marker.size());
    int status = 0;
    std::unique_ptr<char, decltype(&std::free)> name(abi::__cxa_demangle(symbol.c_str(), nullptr, nullptr, &status),
                                                     &std::free);
    if (status != 0 || !name) return message;
    return fmt::format("undefined symbol {} ({}): it needs something this streamline does not have; rebuild it "
                       "against this SDK",
                       name.get(), symbol);
}

std::string user_name(uid_t uid) {
    passwd pw{};
    passwd* found = nullptr;
    char buffer[1024];
    if (getpwuid_r(uid, &pw, buffer, sizeof(buffer), &found) == 0 && found) return found->pw_name;
    return fmt::format("uid {}", uid);
}

std::string group_name(gid_t gid) {
    group gr{};
    group* found = nullptr;
    char buffer[4096];
    if (getgrgid_r(gid, &gr, buffer, sizeof(buffer), &found) == 0 && found) return found->gr_name;
    return fmt::format("gid {}", gid);
}

// A plugin runs with the rights of the process, root's on a NIC: as sudo and
// ld.so do, refuse one that another user could have put there. The file and
// every folder above it must belong to root or to this process's user, and
// none may be writable by every user, or by a group other than root's (a
// folder with the sticky bit, such as /tmp, may: there nobody replaces
// another's files).
void check_who_may_write(const std::string& path, const fs::path& canonical) {
    const uid_t me = geteuid();
    for (fs::path p = canonical;; p = p.parent_path()) {
        struct stat st {};
        if (::stat(p.c_str(), &st) != 0)
            throw ConfigError(fmt::format("plugin {}: {}: {}", path, p.string(), std::strerror(errno)));
        const bool folder = S_ISDIR(st.st_mode);
        const char* what = folder ? "the folder" : "the file";
        const bool sticky = folder && (st.st_mode & S_ISVTX);
        if (st.st_uid != 0 && st.st_uid != me)
            throw ConfigError(fmt::format("plugin {}: refused: {} {} belongs to {}, not to {}, who runs streamline; "
                                          "another user could have put code there",
                                          path, what, p.string(), user_name(st.st_uid),
                                          me == 0 ? "root" : "root or " + user_name(me)));
        if ((st.st_mode & S_IWOTH) && !sticky)
            throw ConfigError(fmt::format("plugin {}: refused: {} {} is writable by every user (mode {:04o}); "
                                          "take that right away (chmod o-w) or move the plugin",
                                          path, what, p.string(), st.st_mode & 07777));
        // A group other than root's may hold users who are not root.
        if ((st.st_mode & S_IWGRP) && st.st_gid != 0 && !sticky)
            throw ConfigError(fmt::format("plugin {}: refused: {} {} is writable by the group {} (mode {:04o}); "
                                          "take that right away (chmod g-w) or move the plugin",
                                          path, what, p.string(), group_name(st.st_gid), st.st_mode & 07777));
        if (p == p.root_path() || !p.has_relative_path()) break;
    }
}

void load_one(const std::string& path) {
    // A plugin opened before is not looked at again, by the name it was
    // given either: its file may be gone since (a reload reads the names again).
    if (std::find(opened_names().begin(), opened_names().end(), path) != opened_names().end()) return;
    std::error_code ec;
    fs::path canonical = fs::canonical(path, ec);
    if (ec) throw ConfigError(fmt::format("plugin {}: {}", path, ec.message()));
    if (std::find(opened_files().begin(), opened_files().end(), canonical) != opened_files().end()) return;
    if (!fs::is_regular_file(canonical)) throw ConfigError(fmt::format("plugin {}: not a file", path));
    check_who_may_write(path, canonical);

    size_t errors_before = registration_errors().size();
    size_t types_before = filter_registry().size();
    set_registering_plugin(path);
    // RTLD_NOW: a missing symbol is found here, not in the middle of a burst.
    // RTLD_LOCAL: two plugins may use the same helper names.
    void* handle = dlopen(canonical.c_str(), RTLD_NOW | RTLD_LOCAL);
    set_registering_plugin("");
    if (!handle) {
        std::string why = readable_dlerror(dlerror());
        // dlerror() starts with the path when the file was found.
        if (why.rfind(canonical.string() + ": ", 0) == 0) why = why.substr(canonical.string().size() + 2);
        throw ConfigError(fmt::format("plugin {}: cannot load it: {}", path, why));
    }
    // The handle is never closed: filters registered from it, and graphs
    // built from those, may run its code until the process ends.
    opened_files().push_back(canonical);
    opened_names().push_back(path);
    const auto& errors = registration_errors();
    if (errors.size() > errors_before) {
        std::vector<std::string> mine(errors.begin() + static_cast<ptrdiff_t>(errors_before), errors.end());
        throw ConfigError(fmt::format("plugin {}: {}", path, fmt::join(mine, "; ")));
    }
    if (filter_registry().size() == types_before)
        throw ConfigError(fmt::format("plugin {}: not a streamline plugin: it registers no filter (a plugin "
                                      "registers its filters with SL_REGISTER_FILTER from <sl/filter.hpp>)",
                                      path));
}

std::vector<std::string> plugins_in(const fs::path& dir) {
    std::vector<std::string> files;
    for (const auto& e : fs::directory_iterator(dir))
        if (e.path().extension() == ".so" && e.is_regular_file()) files.push_back(e.path().string());
    std::sort(files.begin(), files.end());
    return files;
}

}  // namespace

void load_plugins(const PluginOptions& options) {
    std::vector<std::string> files;
    size_t from = 0;
    const std::string& search = options.search_path;
    while (from <= search.size()) {
        size_t colon = std::min(search.find(':', from), search.size());
        std::string dir = search.substr(from, colon - from);
        // A folder that is not there is a typo to say, as for --plugin-dir;
        // empty entries (a trailing ':') name nothing.
        if (!dir.empty()) {
            std::error_code ec;
            if (!fs::is_directory(dir, ec))
                throw ConfigError(fmt::format("SL_PLUGIN_PATH names {}: {}", dir, ec ? ec.message() : "not a folder"));
            for (auto& f : plugins_in(dir)) files.push_back(std::move(f));
        }
        from = colon + 1;
    }
    for (const auto& dir : options.dirs) {
        std::error_code ec;
        if (!fs::is_directory(dir, ec))
            throw ConfigError(fmt::format("--plugin-dir {}: {}", dir, ec ? ec.message() : "not a folder"));
        for (auto& f : plugins_in(dir)) files.push_back(std::move(f));
    }
    files.insert(files.end(), options.files.begin(), options.files.end());
    for (const auto& f : files) load_one(f);
}

}  // namespace sl::plugin
