// How advice learns whether nginx accepts a changed configuration, without running it:
// the check is a function the shell supplies (host/verify.h runs nginx -t on a copy),
// so everything in advise/ stays pure and replays the same on any machine.
#pragma once

#include <functional>
#include <string>

#include "advise/config_edit.h"

namespace ngxwatch::advise {

struct VerifyResult {
  bool ok = false;
  std::string error;  // nginx's own words, with the copy's paths named as the originals
};

// Does nginx accept `files` (original path -> text) with `main_file` as its nginx.conf?
using ConfigCheck = std::function<VerifyResult(const FileSet& files, const std::string& main_file)>;

// The deepest directory holding every file ("/" at worst), without a trailing '/'.
std::string common_directory(const FileSet& files);

}  // namespace ngxwatch::advise
