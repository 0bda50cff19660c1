#include "advise/config_check.h"

#include <filesystem>

namespace ngxwatch::advise {

std::string common_directory(const FileSet& files) {
  namespace fs = std::filesystem;  // path arithmetic only: nothing is looked up on disk
  std::string common;
  for (const auto& [path, text] : files) {
    std::string dir = fs::path(path).parent_path().string();
    if (common.empty()) {
      common = dir;
      continue;
    }
    while (common != "/" && !(dir == common || dir.starts_with(common + "/")))
      common = fs::path(common).parent_path().string();
  }
  return common.empty() ? "/" : common;
}

}  // namespace ngxwatch::advise
