// What both apps say on stderr goes through spdlog: errors and warnings as
// "error: ..." and "warning: ...", information as plain lines, debug lines
// with -v. A configuration error brings its own header, compiler-style
// ("file:line:col: error: ..." with the line and a caret), and so does an
// error in the command line ("sl-replay: error: ...").
#pragma once

#include <exception>
#include <string_view>

namespace sl::core {

// Once, first thing: `program` names the app in command-line errors;
// verbosity -1 (-q), 0 or 1 (-v, which adds debug lines).
void setup_diagnostics(std::string_view program, int verbosity);

// How both apps say what went wrong: a configuration error with its file,
// line, caret and hint; anything else as "error: ...".
void report_error(const std::exception& e);
// report_error(), then the exit status it calls for: 2 for a configuration
// error, 1 for anything else.
int exit_status_after(const std::exception& e);
// "PROGRAM: error: MESSAGE": what was wrong before a session could start.
void command_line_error(std::string_view message);
// "PROGRAM: MESSAGE" and the usage text: a command line that cannot be read.
void command_line_usage(std::string_view message, std::string_view usage);

}  // namespace sl::core
