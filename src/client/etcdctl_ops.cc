#include "client/etcdctl_ops.h"

#include <algorithm>
#include <cctype>
#include <charconv>

namespace tri::client {
namespace {

std::string Upper(std::string s) {
  for (char& c : s)
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

std::string Trim(std::string_view s) {
  const auto is_space = [](char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; };
  while (!s.empty() && is_space(s.front()))
    s.remove_prefix(1);
  while (!s.empty() && is_space(s.back()))
    s.remove_suffix(1);
  return std::string(s);
}

Result<std::int64_t> ParseInt(std::string_view text, int base, std::string_view what) {
  std::int64_t v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v, base);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size())
    return InvalidArgument(std::string(what) + ": '" + std::string(text) + "' is not a " +
                           (base == 16 ? "hex" : "decimal") + " integer");
  return v;
}

// Go's strconv.Unquote for a double-quoted literal (the escapes that matter).
Result<std::string> GoUnquote(std::string_view q, std::size_t* consumed) {
  if (q.empty() || q.front() != '"') return InvalidArgument("expected a \"quoted string\"");
  std::string out;
  for (std::size_t i = 1; i < q.size(); ++i) {
    const char c = q[i];
    if (c == '"') {
      *consumed = i + 1;
      return out;
    }
    if (c != '\\') {
      out += c;
      continue;
    }
    if (++i >= q.size()) break;
    switch (q[i]) {
      case 'n':
        out += '\n';
        break;
      case 't':
        out += '\t';
        break;
      case 'r':
        out += '\r';
        break;
      case '0':
        out += '\0';
        break;
      case '\\':
        out += '\\';
        break;
      case '"':
        out += '"';
        break;
      case '\'':
        out += '\'';
        break;
      case 'x': {
        if (i + 2 >= q.size()) return InvalidArgument("bad \\x escape in " + std::string(q));
        TRI_ASSIGN_OR_RETURN(std::int64_t v, ParseInt(q.substr(i + 1, 2), 16, "\\x escape"));
        out += static_cast<char>(v);
        i += 2;
        break;
      }
      default:
        return InvalidArgument("unsupported escape \\" + std::string(1, q[i]) + " in " +
                               std::string(q));
    }
  }
  return InvalidArgument("unterminated quoted string: " + std::string(q));
}

void ApplySort(const std::string& sort_by, const std::string& order,
               etcdserverpb::RangeRequest& req, Status& status) {
  etcdserverpb::RangeRequest::SortOrder o = etcdserverpb::RangeRequest::NONE;
  const std::string uo = Upper(order);
  if (uo == "ASCEND")
    o = etcdserverpb::RangeRequest::ASCEND;
  else if (uo == "DESCEND")
    o = etcdserverpb::RangeRequest::DESCEND;
  else if (!uo.empty())
    status = InvalidArgument("bad sort order " + order);
  etcdserverpb::RangeRequest::SortTarget t = etcdserverpb::RangeRequest::KEY;
  const std::string ut = Upper(sort_by);
  if (ut == "CREATE")
    t = etcdserverpb::RangeRequest::CREATE;
  else if (ut == "KEY")
    t = etcdserverpb::RangeRequest::KEY;
  else if (ut == "MODIFY")
    t = etcdserverpb::RangeRequest::MOD;
  else if (ut == "VALUE")
    t = etcdserverpb::RangeRequest::VALUE;
  else if (ut == "VERSION")
    t = etcdserverpb::RangeRequest::VERSION;
  else if (!ut.empty())
    status = InvalidArgument("bad sort target " + sort_by);
  // clientv3.WithSort: keys already come sorted ascending, so that is no sort.
  if (t == etcdserverpb::RangeRequest::KEY && o == etcdserverpb::RangeRequest::ASCEND)
    o = etcdserverpb::RangeRequest::NONE;
  req.set_sort_order(o);
  req.set_sort_target(t);
}

// Parses "--flag", "--flag=value" and "--flag value" of one txn op line.
struct FlagReader {
  std::vector<std::string> positional;
  std::vector<std::pair<std::string, std::string>> flags;
};

Result<FlagReader> ReadFlags(const std::vector<std::string>& words, std::size_t first,
                             const std::vector<std::string>& bool_flags,
                             const std::vector<std::string>& value_flags) {
  FlagReader r;
  for (std::size_t i = first; i < words.size(); ++i) {
    const std::string& w = words[i];
    if (!w.starts_with("--")) {
      r.positional.push_back(w);
      continue;
    }
    std::string name = w.substr(2);
    std::string value;
    bool has_value = false;
    if (const auto eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
      has_value = true;
    }
    const bool is_bool = std::find(bool_flags.begin(), bool_flags.end(), name) != bool_flags.end();
    const bool is_value =
        std::find(value_flags.begin(), value_flags.end(), name) != value_flags.end();
    if (!is_bool && !is_value) return InvalidArgument("unknown flag: --" + name);
    if (is_bool && !has_value) value = "true";
    if (is_value && !has_value) {
      if (i + 1 >= words.size()) return InvalidArgument("flag needs an argument: --" + name);
      value = words[++i];
    }
    r.flags.emplace_back(name, value);
  }
  return r;
}

Result<bool> ParseBool(const std::string& name, const std::string& v) {
  if (v == "true" || v == "1") return true;
  if (v == "false" || v == "0") return false;
  return InvalidArgument("flag --" + name + ": '" + v + "' is not a boolean");
}

}  // namespace

std::string PrefixRangeEnd(std::string_view prefix) {
  std::string end(prefix);
  for (std::size_t i = end.size(); i-- > 0;) {
    if (static_cast<unsigned char>(end[i]) < 0xff) {
      end[i] = static_cast<char>(static_cast<unsigned char>(end[i]) + 1);
      end.resize(i + 1);
      return end;
    }
  }
  return std::string(1, '\0');
}

Result<etcdserverpb::RangeRequest> BuildGetRequest(const std::vector<std::string>& args,
                                                   const GetFlags& flags) {
  if (args.empty() || args.size() > 2)
    return InvalidArgument(
        "get command needs one argument as key and an optional argument as range_end");
  if (flags.prefix && flags.from_key)
    return InvalidArgument(
        "`--prefix` and `--from-key` cannot be set at the same time, choose one");
  etcdserverpb::RangeRequest req;
  if (flags.consistency == "s")
    req.set_serializable(true);
  else if (flags.consistency != "l")
    return InvalidArgument("unknown consistency flag \"" + flags.consistency + "\"");
  std::string key = args[0];
  if (args.size() > 1) {
    if (flags.prefix || flags.from_key)
      return InvalidArgument(
          "too many arguments, only accept one argument when `--prefix` or `--from-key` is set");
    req.set_range_end(args[1]);
  }
  if (flags.limit < 0) return InvalidArgument("--limit must not be negative");
  req.set_limit(flags.limit);
  if (flags.rev > 0) req.set_revision(flags.rev);
  Status sort_status;
  ApplySort(flags.sort_by, flags.order, req, sort_status);
  TRI_RETURN_IF_ERROR(sort_status);
  if (flags.prefix) {
    if (key.empty()) {
      key = std::string(1, '\0');
      req.set_range_end(std::string(1, '\0'));
    } else {
      req.set_range_end(PrefixRangeEnd(key));
    }
  }
  if (flags.from_key) {
    if (key.empty()) key = std::string(1, '\0');
    req.set_range_end(std::string(1, '\0'));
  }
  req.set_key(key);
  req.set_keys_only(flags.keys_only);
  req.set_count_only(flags.count_only);
  return req;
}

Result<etcdserverpb::PutRequest> BuildPutRequest(const std::vector<std::string>& args,
                                                 const PutFlags& flags) {
  if (args.empty())
    return InvalidArgument("put command needs 1 argument and input from stdin or 2 arguments");
  if (flags.ignore_value && args.size() > 1)
    return InvalidArgument("put command needs only 1 argument when 'ignore-value' is set");
  if (!flags.ignore_value && args.size() != 2)
    return InvalidArgument("put command needs 2 arguments: KEY VALUE");
  TRI_ASSIGN_OR_RETURN(std::int64_t lease, ParseInt(flags.lease, 16, "bad lease ID"));
  etcdserverpb::PutRequest req;
  req.set_key(args[0]);
  if (!flags.ignore_value) req.set_value(args[1]);
  req.set_lease(lease);
  req.set_prev_kv(flags.prev_kv);
  req.set_ignore_value(flags.ignore_value);
  req.set_ignore_lease(flags.ignore_lease);
  return req;
}

Result<etcdserverpb::DeleteRangeRequest> BuildDelRequest(const std::vector<std::string>& args,
                                                         const DelFlags& flags) {
  if (args.empty() || args.size() > 2)
    return InvalidArgument(
        "del command needs one argument as key and an optional argument as range_end");
  if (flags.prefix && flags.from_key)
    return InvalidArgument(
        "`--prefix` and `--from-key` cannot be set at the same time, choose one");
  etcdserverpb::DeleteRangeRequest req;
  std::string key = args[0];
  if (args.size() > 1) {
    if (flags.prefix || flags.from_key)
      return InvalidArgument(
          "too many arguments, only accept one argument when `--prefix` or `--from-key` is set");
    req.set_range_end(args[1]);
  }
  if (flags.prefix) {
    if (key.empty()) {
      key = std::string(1, '\0');
      req.set_range_end(std::string(1, '\0'));
    } else {
      req.set_range_end(PrefixRangeEnd(key));
    }
  }
  if (flags.from_key) {
    if (key.empty()) key = std::string(1, '\0');
    req.set_range_end(std::string(1, '\0'));
  }
  req.set_key(key);
  req.set_prev_kv(flags.prev_kv);
  return req;
}

Result<std::vector<std::string>> SplitTxnLine(std::string_view line) {
  std::vector<std::string> words;
  std::size_t i = 0;
  while (i < line.size()) {
    if (std::isspace(static_cast<unsigned char>(line[i]))) {
      ++i;
      continue;
    }
    if (line[i] == '"') {
      std::size_t consumed = 0;
      TRI_ASSIGN_OR_RETURN(std::string word, GoUnquote(line.substr(i), &consumed));
      words.push_back(std::move(word));
      i += consumed;
    } else if (line[i] == '\'') {
      const std::size_t close = line.find('\'', i + 1);
      if (close == std::string_view::npos)
        return InvalidArgument("unterminated 'quoted string' in: " + std::string(line));
      words.emplace_back(line.substr(i + 1, close - i - 1));
      i = close + 1;
    } else {
      std::size_t j = i;
      while (j < line.size() && !std::isspace(static_cast<unsigned char>(line[j])))
        ++j;
      words.emplace_back(line.substr(i, j - i));
      i = j;
    }
  }
  return words;
}

Result<etcdserverpb::Compare> ParseCompare(std::string_view raw) {
  const std::string line = Trim(raw);
  const auto malformed = [&](const std::string& why) {
    return InvalidArgument("malformed comparison: " + line + " (" + why + ")");
  };
  const auto lparen = line.find('(');
  if (lparen == std::string::npos) return malformed("expected target(\"key\") op \"value\"");
  const std::string target = line.substr(0, lparen);
  std::string_view rest = std::string_view(line).substr(lparen + 1);
  std::size_t consumed = 0;
  auto key = GoUnquote(rest, &consumed);
  if (!key.ok()) return malformed(key.status().message());
  rest.remove_prefix(consumed);
  if (rest.empty() || rest.front() != ')') return malformed("expected ) after the key");
  rest.remove_prefix(1);
  const std::string after = Trim(rest);
  const auto space = after.find(' ');
  if (space == std::string::npos) return malformed("expected an operator and a value");
  const std::string op = after.substr(0, space);
  const std::string value_text = Trim(std::string_view(after).substr(space + 1));
  auto value = GoUnquote(value_text, &consumed);
  if (!value.ok()) return malformed(value.status().message());
  if (consumed != value_text.size()) return malformed("text after the value");

  etcdserverpb::Compare cmp;
  cmp.set_key(*key);
  if (op == "=")
    cmp.set_result(etcdserverpb::Compare::EQUAL);
  else if (op == "!=")
    cmp.set_result(etcdserverpb::Compare::NOT_EQUAL);
  else if (op == ">")
    cmp.set_result(etcdserverpb::Compare::GREATER);
  else if (op == "<")
    cmp.set_result(etcdserverpb::Compare::LESS);
  else
    return malformed("unknown operator " + op + "; use =, !=, < or >");

  auto number = [&](int base) {
    return ParseInt(*value, base, "malformed comparison: " + line + ": value");
  };
  if (target == "ver" || target == "version") {
    TRI_ASSIGN_OR_RETURN(std::int64_t v, number(10));
    cmp.set_target(etcdserverpb::Compare::VERSION);
    cmp.set_version(v);
  } else if (target == "c" || target == "create") {
    TRI_ASSIGN_OR_RETURN(std::int64_t v, number(10));
    cmp.set_target(etcdserverpb::Compare::CREATE);
    cmp.set_create_revision(v);
  } else if (target == "m" || target == "mod") {
    TRI_ASSIGN_OR_RETURN(std::int64_t v, number(10));
    cmp.set_target(etcdserverpb::Compare::MOD);
    cmp.set_mod_revision(v);
  } else if (target == "val" || target == "value") {
    cmp.set_target(etcdserverpb::Compare::VALUE);
    cmp.set_value(*value);
  } else if (target == "lease") {
    TRI_ASSIGN_OR_RETURN(std::int64_t v, number(16));
    cmp.set_target(etcdserverpb::Compare::LEASE);
    cmp.set_lease(v);
  } else {
    return malformed("unknown target " + target);
  }
  return cmp;
}

Result<etcdserverpb::RequestOp> ParseTxnOp(std::string_view raw) {
  const std::string line = Trim(raw);
  TRI_ASSIGN_OR_RETURN(std::vector<std::string> words, SplitTxnLine(line));
  if (words.size() < 2) return InvalidArgument("invalid txn request: " + line);
  etcdserverpb::RequestOp op;
  const auto invalid = [&](const Status& st) {
    return InvalidArgument("invalid txn request: " + line + " (" + st.message() + ")");
  };
  if (words[0] == "put") {
    auto r = ReadFlags(words, 1, {"prev-kv", "ignore-value", "ignore-lease"}, {"lease"});
    if (!r.ok()) return invalid(r.status());
    PutFlags flags;
    for (const auto& [name, value] : r->flags) {
      if (name == "lease") {
        flags.lease = value;
        continue;
      }
      auto b = ParseBool(name, value);
      if (!b.ok()) return invalid(b.status());
      (name == "prev-kv"        ? flags.prev_kv
       : name == "ignore-value" ? flags.ignore_value
                                : flags.ignore_lease) = *b;
    }
    auto req = BuildPutRequest(r->positional, flags);
    if (!req.ok()) return invalid(req.status());
    *op.mutable_request_put() = std::move(*req);
  } else if (words[0] == "get") {
    auto r = ReadFlags(words, 1, {"prefix", "from-key", "keys-only", "count-only"},
                       {"limit", "rev", "sort-by", "order", "consistency"});
    if (!r.ok()) return invalid(r.status());
    GetFlags flags;
    for (const auto& [name, value] : r->flags) {
      if (name == "limit" || name == "rev") {
        auto n = ParseInt(value, 10, "--" + name);
        if (!n.ok()) return invalid(n.status());
        (name == "limit" ? flags.limit : flags.rev) = *n;
      } else if (name == "sort-by") {
        flags.sort_by = value;
      } else if (name == "order") {
        flags.order = value;
      } else if (name == "consistency") {
        flags.consistency = value;
      } else {
        auto b = ParseBool(name, value);
        if (!b.ok()) return invalid(b.status());
        (name == "prefix"      ? flags.prefix
         : name == "from-key"  ? flags.from_key
         : name == "keys-only" ? flags.keys_only
                               : flags.count_only) = *b;
      }
    }
    auto req = BuildGetRequest(r->positional, flags);
    if (!req.ok()) return invalid(req.status());
    *op.mutable_request_range() = std::move(*req);
  } else if (words[0] == "del") {
    auto r = ReadFlags(words, 1, {"prefix", "from-key", "prev-kv"}, {});
    if (!r.ok()) return invalid(r.status());
    DelFlags flags;
    for (const auto& [name, value] : r->flags) {
      auto b = ParseBool(name, value);
      if (!b.ok()) return invalid(b.status());
      (name == "prefix" ? flags.prefix : name == "from-key" ? flags.from_key : flags.prev_kv) = *b;
    }
    auto req = BuildDelRequest(r->positional, flags);
    if (!req.ok()) return invalid(req.status());
    *op.mutable_request_delete_range() = std::move(*req);
  } else {
    return InvalidArgument("invalid txn request: " + line + " (expected put, get or del)");
  }
  return op;
}

Result<etcdserverpb::TxnRequest> ParseTxn(std::istream& in, std::ostream* prompts) {
  etcdserverpb::TxnRequest txn;
  std::size_t lines = 0;
  std::string line;
  // Reads one section: lines up to a blank line or the end of input.
  auto section = [&](const char* prompt, auto&& each) -> Status {
    if (prompts != nullptr) *prompts << prompt << "\n" << std::flush;
    while (std::getline(in, line)) {
      if (++lines > kMaxTxnLines)
        return InvalidArgument("txn: more than " + std::to_string(kMaxTxnLines) + " lines");
      if (Trim(line).empty()) return Status::Ok();
      TRI_RETURN_IF_ERROR(each(line));
    }
    return Status::Ok();
  };
  TRI_RETURN_IF_ERROR(section("compares:", [&](const std::string& l) -> Status {
    TRI_ASSIGN_OR_RETURN(etcdserverpb::Compare cmp, ParseCompare(l));
    *txn.add_compare() = std::move(cmp);
    return Status::Ok();
  }));
  TRI_RETURN_IF_ERROR(
      section("success requests (get, put, del):", [&](const std::string& l) -> Status {
        TRI_ASSIGN_OR_RETURN(etcdserverpb::RequestOp op, ParseTxnOp(l));
        *txn.add_success() = std::move(op);
        return Status::Ok();
      }));
  TRI_RETURN_IF_ERROR(
      section("failure requests (get, put, del):", [&](const std::string& l) -> Status {
        TRI_ASSIGN_OR_RETURN(etcdserverpb::RequestOp op, ParseTxnOp(l));
        *txn.add_failure() = std::move(op);
        return Status::Ok();
      }));
  return txn;
}

}  // namespace tri::client
