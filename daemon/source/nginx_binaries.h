// Where the nginx executables on this host are: the targets of the temp-file uprobe.
// A uprobe is attached to a file (inode), so it also covers nginx processes started
// later from the same binary.
#pragma once

#include <string>
#include <vector>

namespace ngxwatch {

// Executables of running nginx processes plus the usual install paths, resolved and
// de-duplicated.
std::vector<std::string> find_nginx_binaries(const std::string& proc_root = "/proc");

}  // namespace ngxwatch
