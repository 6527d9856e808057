#include "client/etcdctl_format.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/reflection.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>

namespace tri::client {
namespace {

namespace pb = google::protobuf;

std::string Base64(const std::string& bytes) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const std::uint32_t n = (std::uint8_t(bytes[i]) << 16) | (std::uint8_t(bytes[i + 1]) << 8) |
                            std::uint8_t(bytes[i + 2]);
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += kAlphabet[(n >> 6) & 63];
    out += kAlphabet[n & 63];
  }
  if (const std::size_t rest = bytes.size() - i; rest > 0) {
    std::uint32_t n = std::uint8_t(bytes[i]) << 16;
    if (rest == 2) n |= std::uint8_t(bytes[i + 1]) << 8;
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += rest == 2 ? kAlphabet[(n >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

// Go's generator turns "response_put" into "ResponsePut".
std::string GoCamelCase(const std::string& name) {
  std::string out;
  bool upper = true;
  for (char c : name) {
    if (c == '_') {
      upper = true;
      continue;
    }
    out += upper ? static_cast<char>(std::toupper(static_cast<unsigned char>(c))) : c;
    upper = false;
  }
  return out;
}

void AppendMessage(const pb::Message& message, std::string& out);

void AppendScalar(const pb::Message& m, const pb::FieldDescriptor* f, int index, std::string& out) {
  const pb::Reflection* r = m.GetReflection();
  const bool rep = f->is_repeated();
  switch (f->cpp_type()) {
    case pb::FieldDescriptor::CPPTYPE_INT32:
      out += std::to_string(rep ? r->GetRepeatedInt32(m, f, index) : r->GetInt32(m, f));
      break;
    case pb::FieldDescriptor::CPPTYPE_INT64:
      out += std::to_string(rep ? r->GetRepeatedInt64(m, f, index) : r->GetInt64(m, f));
      break;
    case pb::FieldDescriptor::CPPTYPE_UINT32:
      out += std::to_string(rep ? r->GetRepeatedUInt32(m, f, index) : r->GetUInt32(m, f));
      break;
    case pb::FieldDescriptor::CPPTYPE_UINT64:
      out += std::to_string(rep ? r->GetRepeatedUInt64(m, f, index) : r->GetUInt64(m, f));
      break;
    case pb::FieldDescriptor::CPPTYPE_BOOL:
      out += (rep ? r->GetRepeatedBool(m, f, index) : r->GetBool(m, f)) ? "true" : "false";
      break;
    case pb::FieldDescriptor::CPPTYPE_ENUM:
      out += std::to_string(rep ? r->GetRepeatedEnumValue(m, f, index) : r->GetEnumValue(m, f));
      break;
    case pb::FieldDescriptor::CPPTYPE_STRING: {
      const std::string s = rep ? r->GetRepeatedString(m, f, index) : r->GetString(m, f);
      out +=
          f->type() == pb::FieldDescriptor::TYPE_BYTES ? "\"" + Base64(s) + "\"" : GoJsonString(s);
      break;
    }
    case pb::FieldDescriptor::CPPTYPE_MESSAGE:
      AppendMessage(rep ? r->GetRepeatedMessage(m, f, index) : r->GetMessage(m, f), out);
      break;
    default:
      // No float or double field exists in the etcd protos.
      out += "null";
      break;
  }
}

// True when Go's omitempty (or a nil pointer) would leave the field out.
bool IsEmpty(const pb::Message& m, const pb::FieldDescriptor* f) {
  const pb::Reflection* r = m.GetReflection();
  if (f->is_repeated()) return r->FieldSize(m, f) == 0;
  if (f->cpp_type() == pb::FieldDescriptor::CPPTYPE_MESSAGE) return !r->HasField(m, f);
  // proto3 scalars: HasField is false exactly for the zero value.
  return !r->HasField(m, f);
}

void AppendField(const pb::Message& m, const pb::FieldDescriptor* f, std::string& out) {
  const pb::Reflection* r = m.GetReflection();
  if (!f->is_repeated()) {
    AppendScalar(m, f, 0, out);
    return;
  }
  out += '[';
  for (int i = 0; i < r->FieldSize(m, f); ++i) {
    if (i > 0) out += ',';
    AppendScalar(m, f, i, out);
  }
  out += ']';
}

void AppendMessage(const pb::Message& m, std::string& out) {
  const pb::Descriptor* d = m.GetDescriptor();
  const pb::Reflection* r = m.GetReflection();
  out += '{';
  bool first = true;
  auto key = [&](const std::string& name) {
    if (!first) out += ',';
    first = false;
    out += GoJsonString(name);
    out += ':';
  };
  for (int i = 0; i < d->field_count(); ++i) {
    const pb::FieldDescriptor* f = d->field(i);
    if (const pb::OneofDescriptor* oneof = f->real_containing_oneof()) {
      // The Go struct holds the oneof as one interface field at the position
      // of its first member; emit it there, once.
      if (oneof->field(0) != f) continue;
      const pb::FieldDescriptor* set = r->GetOneofFieldDescriptor(m, oneof);
      if (set == nullptr) continue;
      key(GoCamelCase(oneof->name()));
      out += '{';
      out += GoJsonString(GoCamelCase(set->name()));
      out += ':';
      AppendField(m, set, out);
      out += '}';
      continue;
    }
    if (IsEmpty(m, f)) continue;
    key(f->name());
    AppendField(m, f, out);
  }
  out += '}';
}

std::string CenterPad(const std::string& text, std::size_t width) {
  const std::size_t gap = width - std::min(width, text.size());
  return std::string(gap / 2, ' ') + text + std::string(gap - gap / 2, ' ');
}

std::string TableTitle(const std::string& header) {
  std::string out;
  for (char c : header)
    out += (c == '_' || c == '.') ? ' '
                                  : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

// Display width: UTF-8 continuation bytes take no column.
std::size_t DisplayWidth(const std::string& s) {
  std::size_t n = 0;
  for (unsigned char c : s)
    n += (c & 0xC0) != 0x80;
  return n;
}

}  // namespace

std::string GoJson(const google::protobuf::Message& message) {
  std::string out;
  AppendMessage(message, out);
  return out;
}

std::string GoJsonString(const std::string& text) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "\"";
  for (unsigned char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20 || c == '<' || c == '>' || c == '&') {
          out += "\\u00";
          out += kHex[c >> 4];
          out += kHex[c & 15];
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += '"';
  return out;
}

std::string RenderTable(const std::vector<std::string>& header,
                        const std::vector<std::vector<std::string>>& rows) {
  std::vector<std::size_t> width(header.size(), 0);
  std::vector<std::string> titles;
  for (std::size_t c = 0; c < header.size(); ++c) {
    titles.push_back(TableTitle(header[c]));
    width[c] = DisplayWidth(titles[c]);
    for (const auto& row : rows)
      if (c < row.size()) width[c] = std::max(width[c], DisplayWidth(row[c]));
  }
  std::string line = "+";
  for (std::size_t w : width)
    line += std::string(w + 2, '-') + "+";
  line += "\n";
  std::string out = line + "|";
  for (std::size_t c = 0; c < titles.size(); ++c)
    out += " " + CenterPad(titles[c], width[c]) + " |";
  out += "\n" + line;
  for (const auto& row : rows) {
    out += "|";
    for (std::size_t c = 0; c < width.size(); ++c) {
      const std::string cell = c < row.size() ? row[c] : "";
      out += " " + std::string(width[c] - DisplayWidth(cell), ' ') + cell + " |";
    }
    out += "\n";
  }
  out += line;
  return out;
}

std::string HumanizeBytes(std::uint64_t bytes) {
  static constexpr const char* kSizes[] = {"B", "kB", "MB", "GB", "TB", "PB", "EB"};
  if (bytes < 10) return std::to_string(bytes) + " B";
  const double v = static_cast<double>(bytes);
  const int e = static_cast<int>(std::floor(std::log(v) / std::log(1000.0)));
  const double val = std::floor(v / std::pow(1000.0, e) * 10 + 0.5) / 10;
  char buf[64];
  std::snprintf(buf, sizeof buf, val < 10 ? "%.1f %s" : "%.0f %s", val, kSizes[e]);
  return buf;
}

std::string GoDuration(std::chrono::nanoseconds duration) {
  std::int64_t ns = duration.count();
  if (ns == 0) return "0s";
  std::string sign;
  if (ns < 0) {
    sign = "-";
    ns = -ns;
  }
  auto with_fraction = [](std::int64_t whole, std::int64_t frac, int digits) {
    std::string out = std::to_string(whole);
    if (frac != 0) {
      std::string f = std::to_string(frac);
      f = std::string(digits - f.size(), '0') + f;
      while (!f.empty() && f.back() == '0')
        f.pop_back();
      out += "." + f;
    }
    return out;
  };
  if (ns < 1000) return sign + std::to_string(ns) + "ns";
  if (ns < 1000000) return sign + with_fraction(ns / 1000, ns % 1000, 3) + "\xC2\xB5s";
  if (ns < 1000000000) return sign + with_fraction(ns / 1000000, ns % 1000000, 6) + "ms";
  const std::int64_t hours = ns / 3600000000000;
  const std::int64_t minutes = ns / 60000000000 % 60;
  const std::int64_t sub_minute = ns % 60000000000;
  std::string out = sign;
  if (hours > 0) out += std::to_string(hours) + "h";
  if (hours > 0 || minutes > 0) out += std::to_string(minutes) + "m";
  return out + with_fraction(sub_minute / 1000000000, sub_minute % 1000000000, 9) + "s";
}

std::string HexId(std::uint64_t id) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "%llx", static_cast<unsigned long long>(id));
  return buf;
}

std::vector<std::string> MemberListHeader() {
  return {"ID", "Status", "Name", "Peer Addrs", "Client Addrs", "Is Learner"};
}

std::vector<std::vector<std::string>> MemberListRows(const etcdserverpb::MemberListResponse& r) {
  auto join = [](const auto& urls) {
    std::string out;
    for (const std::string& u : urls)
      out += (out.empty() ? "" : ",") + u;
    return out;
  };
  std::vector<std::vector<std::string>> rows;
  for (const etcdserverpb::Member& m : r.members()) {
    rows.push_back({HexId(m.id()), m.name().empty() ? "unstarted" : "started", m.name(),
                    join(m.peerurls()), join(m.clienturls()), m.islearner() ? "true" : "false"});
  }
  return rows;
}

std::vector<std::string> EndpointStatusHeader() {
  return {"endpoint",           "ID",         "version",   "db size",
          "is leader",          "is learner", "raft term", "raft index",
          "raft applied index", "errors"};
}

std::vector<std::string> EndpointStatusRow(const std::string& endpoint,
                                           const etcdserverpb::StatusResponse& r) {
  std::string errors;
  for (const std::string& e : r.errors())
    errors += (errors.empty() ? "" : ", ") + e;
  return {endpoint,
          HexId(r.header().member_id()),
          r.version(),
          HumanizeBytes(static_cast<std::uint64_t>(r.dbsize())),
          r.leader() == r.header().member_id() ? "true" : "false",
          r.islearner() ? "true" : "false",
          std::to_string(r.raftterm()),
          std::to_string(r.raftindex()),
          std::to_string(r.raftappliedindex()),
          errors};
}

}  // namespace tri::client
