#include "server/identity.h"

#include <fmt/format.h>

#include <sstream>

namespace tri::server {

// Text, one "key value" per line, so an operator can read it:
//   trinity-member 1
//   name infra1
//   member-id 8e9e05c52164694d
//   cluster-id cdf818194e3a8c32
Result<std::optional<NodeIdentity>> LoadIdentity(io::FileSystem& fs, const std::string& data_dir) {
  const std::string path = io::JoinPath(data_dir, kIdentityFileName);
  if (!fs.Exists(path)) return std::optional<NodeIdentity>();
  TRI_ASSIGN_OR_RETURN(std::string text, io::ReadFileToString(fs, path));
  std::istringstream in(text);
  std::string key, value;
  NodeIdentity id;
  bool header = false;
  int fields = 0;
  while (in >> key >> value) {
    try {
      if (key == "trinity-member") {
        if (value != "1")
          return Corruption(fmt::format("{}: unsupported format version {}", path, value));
        header = true;
      } else if (key == "name") {
        id.name = value;
        ++fields;
      } else if (key == "member-id") {
        id.member_id = std::stoull(value, nullptr, 16);
        ++fields;
      } else if (key == "cluster-id") {
        id.cluster_id = std::stoull(value, nullptr, 16);
        ++fields;
      } else {
        return Corruption(fmt::format("{}: unknown key \"{}\"", path, key));
      }
    } catch (const std::exception&) {
      return Corruption(fmt::format("{}: bad value \"{}\" for {}", path, value, key));
    }
  }
  if (!header || fields != 3 || id.member_id == 0)
    return Corruption(fmt::format("{}: incomplete member identity file", path));
  return std::optional<NodeIdentity>(id);
}

Status SaveIdentity(io::FileSystem& fs, const std::string& data_dir, const NodeIdentity& id) {
  const std::string path = io::JoinPath(data_dir, kIdentityFileName);
  const std::string tmp = path + ".tmp";
  const std::string text =
      fmt::format("trinity-member 1\nname {}\nmember-id {:x}\ncluster-id {:x}\n", id.name,
                  id.member_id, id.cluster_id);
  TRI_RETURN_IF_ERROR(fs.CreateDirs(data_dir));
  {
    TRI_ASSIGN_OR_RETURN(auto file, fs.Open(tmp, io::OpenMode::kCreate));
    TRI_RETURN_IF_ERROR(file->Truncate(0));
    TRI_RETURN_IF_ERROR(file->Write(0, text));
    TRI_RETURN_IF_ERROR(file->Sync());
  }
  TRI_RETURN_IF_ERROR(fs.Rename(tmp, path));
  return fs.SyncDir(data_dir);
}

}  // namespace tri::server
