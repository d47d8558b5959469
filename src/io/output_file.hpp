// What the writers of output files share beyond their format: noticing a
// file that lost its name while it was written, and saying what went wrong.
//
// A file removed while it is open (its folder deleted, a log rotation gone
// wrong) takes every write without an error and keeps none of it: the
// writers look after each block they write, and from then on refuse
// packets, which their sinks count as write_error, rather than report them
// written.
#pragma once

#include <sys/stat.h>

#include <cstring>
#include <string>

#include <fmt/format.h>

namespace sl::io {

// A writer's error code beside errno values: the file lost its last name.
inline constexpr int kFileRemoved = -1;

// A regular file with no name left; pipes and devices never are.
inline bool file_removed(int fd) noexcept {
    struct stat st {};
    return fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_nlink == 0;
}

// "out.pcap: No space left on device", as the run reports it.
inline std::string output_error(const std::string& path, int error) {
    if (error == kFileRemoved)
        return fmt::format("{}: removed while it was written; the packets after that were dropped (write_error)",
                           path);
    return fmt::format("{}: {}", path, std::strerror(error));
}

}  // namespace sl::io
