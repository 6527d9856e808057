#include "wal/snapshot_store.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cinttypes>
#include <cstdio>

#include "base/coding.h"
#include "base/crc32c.h"
#include "wal/format.h"

namespace tri::wal {
namespace {

constexpr std::string_view kSnapshotSuffix = ".snap";
constexpr std::string_view kTempSuffix = ".tmp";

bool ParseSnapshotFileName(std::string_view name, SnapshotMeta* meta) {
  return ParseHexPairFileName(name, kSnapshotSuffix, &meta->last_index, &meta->last_term);
}

}  // namespace

std::string SnapshotFileName(const SnapshotMeta& meta) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%016" PRIx64 "-%016" PRIx64 ".snap", meta.last_index,
                meta.last_term);
  return buf;
}

namespace {

void PutIdList(std::string& out, const std::vector<std::uint64_t>& ids) {
  coding::PutVarint64(out, ids.size());
  for (std::uint64_t id : ids)
    coding::PutVarint64(out, id);
}

// Each id takes at least one byte, so the count is bounded by the section's size.
bool ReadIdList(coding::Decoder& in, std::vector<std::uint64_t>& ids) {
  std::uint64_t count = 0;
  if (!in.ReadVarint64(count) || count > in.remaining()) return false;
  ids.resize(count);
  for (std::uint64_t& id : ids) {
    if (!in.ReadVarint64(id)) return false;
  }
  return true;
}

std::string EncodeMembership(const SnapshotMembership& m) {
  std::string out;
  PutIdList(out, m.voters);
  PutIdList(out, m.learners);
  PutIdList(out, m.removed);
  return out;
}

Result<SnapshotMembership> DecodeMembership(std::string_view bytes) {
  coding::Decoder in(bytes);
  SnapshotMembership m;
  if (!ReadIdList(in, m.voters) || !ReadIdList(in, m.learners) || !ReadIdList(in, m.removed) ||
      !in.done()) {
    return Corruption("membership section of " + std::to_string(bytes.size()) +
                      " bytes is malformed");
  }
  return m;
}

}  // namespace

std::string EncodeSnapshot(const SnapshotMeta& meta, std::string_view body, std::uint32_t version) {
  std::string rest;  // everything after the header
  if (version >= 2) coding::PutLengthPrefixed(rest, EncodeMembership(meta.membership));
  rest.append(body);
  std::string out;
  out.reserve(kSnapshotHeaderBytes + rest.size());
  out.append(kSnapshotMagic);
  coding::PutFixed32(out, version);
  coding::PutFixed32(out, 0);  // flags
  coding::PutFixed64(out, meta.last_index);
  coding::PutFixed64(out, meta.last_term);
  coding::PutFixed64(out, rest.size());
  coding::PutFixed32(out, crc32c::Value(rest));
  coding::PutFixed32(out, crc32c::Value(out.data(), out.size()));
  out.append(rest);
  return out;
}

Result<Snapshot> DecodeSnapshot(std::string_view bytes) {
  if (bytes.size() < kSnapshotHeaderBytes) {
    return Corruption("file of " + std::to_string(bytes.size()) +
                      " bytes is shorter than the 48-byte header");
  }
  if (bytes.substr(0, 8) != kSnapshotMagic) return Corruption("bad magic (not a snapshot file)");
  if (crc32c::Value(bytes.data(), 44) != coding::DecodeFixed32(bytes.data() + 44)) {
    return Corruption("header checksum mismatch");
  }
  const std::uint32_t version = coding::DecodeFixed32(bytes.data() + 8);
  if (version < kOldestSnapshotFormatVersion || version > kSnapshotFormatVersion) {
    return Corruption("format version " + std::to_string(version) + " is not supported");
  }
  Snapshot snap;
  snap.meta.last_index = coding::DecodeFixed64(bytes.data() + 16);
  snap.meta.last_term = coding::DecodeFixed64(bytes.data() + 24);
  const std::uint64_t body_bytes = coding::DecodeFixed64(bytes.data() + 32);
  if (body_bytes != bytes.size() - kSnapshotHeaderBytes) {
    return Corruption("header says the body has " + std::to_string(body_bytes) +
                      " bytes, the file holds " +
                      std::to_string(bytes.size() - kSnapshotHeaderBytes));
  }
  std::string_view body = bytes.substr(kSnapshotHeaderBytes);
  if (crc32c::Value(body) != coding::DecodeFixed32(bytes.data() + 40)) {
    return Corruption("body checksum mismatch");
  }
  if (version >= 2) {
    coding::Decoder in(body);
    std::string_view membership;
    if (!in.ReadLengthPrefixed(membership)) {
      return Corruption("membership section runs past the end of the body");
    }
    TRI_ASSIGN_OR_RETURN(snap.meta.membership, DecodeMembership(membership));
    body = in.rest();
  } else {
    snap.meta.membership_recorded = false;
  }
  snap.body.assign(body);
  return snap;
}

Result<std::unique_ptr<SnapshotStore>> SnapshotStore::Open(io::FileSystem& fs,
                                                           const std::string& dir,
                                                           SnapshotOptions options) {
  if (options.keep == 0) return InvalidArgument("snapshot store: keep must be at least 1");
  TRI_RETURN_IF_ERROR(fs.CreateDirs(dir));
  TRI_ASSIGN_OR_RETURN(const auto names, fs.List(dir));
  bool removed = false;
  for (const std::string& name : names) {
    if (name.size() > kTempSuffix.size() &&
        name.compare(name.size() - kTempSuffix.size(), kTempSuffix.size(), kTempSuffix) == 0) {
      TRI_RETURN_IF_ERROR(fs.Remove(io::JoinPath(dir, name)));
      removed = true;
    }
  }
  if (removed) TRI_RETURN_IF_ERROR(fs.SyncDir(dir));
  return std::unique_ptr<SnapshotStore>(new SnapshotStore(fs, dir, options));
}

Result<std::vector<std::string>> SnapshotStore::List() {
  TRI_ASSIGN_OR_RETURN(const auto names, fs_.List(dir_));
  std::vector<std::pair<SnapshotMeta, std::string>> found;
  for (const std::string& name : names) {
    SnapshotMeta meta;
    if (ParseSnapshotFileName(name, &meta)) found.emplace_back(meta, name);
  }
  std::sort(found.begin(), found.end(), [](const auto& a, const auto& b) {
    return std::tie(a.first.last_index, a.first.last_term) >
           std::tie(b.first.last_index, b.first.last_term);
  });
  std::vector<std::string> out;
  for (auto& [meta, name] : found)
    out.push_back(std::move(name));
  return out;
}

Status SnapshotStore::Save(const SnapshotMeta& meta, std::string_view body) {
  const std::string name = SnapshotFileName(meta);
  const std::string final_path = io::JoinPath(dir_, name);
  const std::string temp_path = final_path + std::string(kTempSuffix);
  {
    TRI_ASSIGN_OR_RETURN(auto file, fs_.Open(temp_path, io::OpenMode::kCreate));
    TRI_RETURN_IF_ERROR(file->Truncate(0));
    TRI_RETURN_IF_ERROR(file->Write(0, EncodeSnapshot(meta, body)));
    TRI_RETURN_IF_ERROR(file->Sync());
  }
  TRI_RETURN_IF_ERROR(fs_.Rename(temp_path, final_path));
  TRI_RETURN_IF_ERROR(fs_.SyncDir(dir_));

  TRI_ASSIGN_OR_RETURN(const auto names, List());
  bool removed = false;
  for (std::size_t i = options_.keep; i < names.size(); ++i) {
    if (names[i] == name) continue;  // never remove what was just saved
    TRI_RETURN_IF_ERROR(fs_.Remove(io::JoinPath(dir_, names[i])));
    removed = true;
  }
  if (removed) TRI_RETURN_IF_ERROR(fs_.SyncDir(dir_));
  return Status::Ok();
}

Result<Snapshot> SnapshotStore::LoadNewest(std::vector<std::string>* problems) {
  TRI_ASSIGN_OR_RETURN(const auto names, List());
  for (const std::string& name : names) {
    const std::string path = io::JoinPath(dir_, name);
    auto bytes = io::ReadFileToString(fs_, path);
    Status problem;
    if (!bytes.ok()) {
      problem = bytes.status();
    } else {
      auto snap = DecodeSnapshot(*bytes);
      if (snap.ok()) {
        SnapshotMeta named;
        ParseSnapshotFileName(name, &named);
        if (snap->meta.last_index == named.last_index && snap->meta.last_term == named.last_term) {
          return std::move(snap).value();
        }
        problem = Corruption("header says index " + std::to_string(snap->meta.last_index) +
                             " term " + std::to_string(snap->meta.last_term) +
                             ", which does not match the file name");
      } else {
        problem = snap.status();
      }
    }
    const std::string report = path + ": " + problem.message();
    spdlog::error("snapshot {} is unusable, trying an older one", report);
    if (problems != nullptr) problems->push_back(report);
  }
  return NotFound("no intact snapshot in " + dir_);
}

}  // namespace tri::wal
