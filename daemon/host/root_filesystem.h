#pragma once

#include <string>

namespace ngxwatch::advise {

// True when `path` (or, if it does not exist yet, its nearest existing parent: nginx
// creates temp directories at start) is on the same filesystem as "/", by st_dev.
// False when nothing can be stat'ed.
bool on_root_filesystem(const std::string& path);

}  // namespace ngxwatch::advise
