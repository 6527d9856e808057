#include "io/file_system.h"

namespace tri::io {

std::string JoinPath(std::string_view dir, std::string_view name) {
  if (dir.empty()) return std::string(name);
  std::string path(dir);
  if (path.back() != '/') path.push_back('/');
  path.append(name);
  return path;
}

std::string DirName(std::string_view path) {
  const auto slash = path.rfind('/');
  if (slash == std::string_view::npos) return ".";
  if (slash == 0) return "/";
  return std::string(path.substr(0, slash));
}

Result<std::string> ReadFileToString(FileSystem& fs, const std::string& path) {
  TRI_ASSIGN_OR_RETURN(auto file, fs.Open(path, OpenMode::kRead));
  TRI_ASSIGN_OR_RETURN(const std::uint64_t size, file->Size());
  std::string bytes(size, '\0');
  std::size_t done = 0;
  while (done < bytes.size()) {
    TRI_ASSIGN_OR_RETURN(const std::size_t n,
                         file->Read(done, bytes.data() + done, bytes.size() - done));
    if (n == 0) break;
    done += n;
  }
  bytes.resize(done);
  return bytes;
}

}  // namespace tri::io
