#pragma once

// etcdctl 3.4's request syntax, shared by `tri kv` and the lines of `tri kv txn`:
// the flags of get/put/del turned into requests with etcdctl's (clientv3's)
// exact rules (an empty key with --prefix or --from-key means "\0"; sorting by
// key ascending is sent as no sort), and the txn text format:
//
//   compares, one per line:  mod("key") > "5" | ver("k") = "1" | create("k") < "3" |
//                            value("k") != "v" | lease("k") = "694d77aa9e38260f" (hex)
//   blank line
//   success ops, one per line: put KEY VALUE [--prev-kv ...] | get KEY [flags] | del KEY [flags]
//   blank line
//   failure ops, one per line
//
// Every error is kInvalidArgument and names the offending line or flag.

#include <cstdint>
#include <istream>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "etcdserverpb/rpc.pb.h"

namespace tri::client {

// Bound on the lines of one txn text (compares plus ops).
inline constexpr std::size_t kMaxTxnLines = 10000;
// Bound on a value read from stdin by `put KEY` (etcd's default request limit is 1.5 MiB).
inline constexpr std::size_t kMaxStdinValueBytes = 16 << 20;

struct GetFlags {
  bool prefix = false;
  bool from_key = false;
  std::int64_t limit = 0;
  std::int64_t rev = 0;
  std::string sort_by;  // CREATE, KEY, MODIFY, VALUE, VERSION (any case) or empty
  std::string order;    // ASCEND, DESCEND (any case) or empty
  bool keys_only = false;
  bool count_only = false;
  std::string consistency = "l";  // l (linearizable) or s (serializable)
};

struct PutFlags {
  bool prev_kv = false;
  std::string lease = "0";  // hex lease id, 0 for none
  bool ignore_value = false;
  bool ignore_lease = false;
};

struct DelFlags {
  bool prefix = false;
  bool from_key = false;
  bool prev_kv = false;
};

// The end of the range holding every key with `prefix` ("\0" when none exists).
std::string PrefixRangeEnd(std::string_view prefix);

Result<etcdserverpb::RangeRequest> BuildGetRequest(const std::vector<std::string>& args,
                                                   const GetFlags& flags);
Result<etcdserverpb::PutRequest> BuildPutRequest(const std::vector<std::string>& args,
                                                 const PutFlags& flags);
Result<etcdserverpb::DeleteRangeRequest> BuildDelRequest(const std::vector<std::string>& args,
                                                         const DelFlags& flags);

// Splits a line as etcdctl does: words, "Go-quoted strings" and 'single quotes'.
Result<std::vector<std::string>> SplitTxnLine(std::string_view line);

Result<etcdserverpb::Compare> ParseCompare(std::string_view line);
Result<etcdserverpb::RequestOp> ParseTxnOp(std::string_view line);

// Reads the three sections of the txn text from `in` (end of input also ends
// a section). With `prompts`, writes etcdctl's interactive prompts
// ("compares:", ...) there before each section.
Result<etcdserverpb::TxnRequest> ParseTxn(std::istream& in, std::ostream* prompts = nullptr);

}  // namespace tri::client
