#pragma once

// Plain C++ mirrors of etcd v3.4's key-value messages (etcdserverpb/rpc.proto and
// mvccpb/kv.proto): same field names, same meaning, same enum numbers. The API
// layer converts protobuf <-> these; the state machine never sees protobuf.
//
// Key ranges follow etcd: `range_end` empty = the single key `key`; `range_end`
// = "\0" = every key >= `key`; otherwise the half-open range [key, range_end).
// Revisions are int64 as in etcd; a request revision <= 0 means "current".

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace tri::rsm {

struct KeyValue {
  std::string key;
  std::int64_t create_revision = 0;  // revision of the put that created the key
  std::int64_t mod_revision = 0;     // revision of the last write to the key
  std::int64_t version = 0;          // puts since creation (1 after the first)
  std::string value;
  std::int64_t lease = 0;
  friend bool operator==(const KeyValue&, const KeyValue&) = default;
};

// etcd's ResponseHeader; the state machine fills `revision`, the API fills
// cluster_id, member_id and raft_term.
struct ResponseHeader {
  std::int64_t revision = 0;
  friend bool operator==(const ResponseHeader&, const ResponseHeader&) = default;
};

struct RangeRequest {
  enum SortOrder : std::uint8_t { NONE = 0, ASCEND = 1, DESCEND = 2 };
  enum SortTarget : std::uint8_t { KEY = 0, VERSION = 1, CREATE = 2, MOD = 3, VALUE = 4 };
  std::string key;
  std::string range_end;
  std::int64_t limit = 0;     // <= 0: no limit
  std::int64_t revision = 0;  // <= 0: current revision
  SortOrder sort_order = NONE;
  SortTarget sort_target = KEY;
  bool serializable = false;  // meaningful to the node (local read), not to the store
  bool keys_only = false;
  bool count_only = false;
  std::int64_t min_mod_revision = 0;  // 0: no filter (likewise below)
  std::int64_t max_mod_revision = 0;
  std::int64_t min_create_revision = 0;
  std::int64_t max_create_revision = 0;
  friend bool operator==(const RangeRequest&, const RangeRequest&) = default;
};

struct RangeResponse {
  ResponseHeader header;
  std::vector<KeyValue> kvs;
  bool more = false;       // more keys matched than `limit` returned
  std::int64_t count = 0;  // keys in the range at the revision (before min/max filters)
  friend bool operator==(const RangeResponse&, const RangeResponse&) = default;
};

struct PutRequest {
  std::string key;
  std::string value;
  std::int64_t lease = 0;
  bool prev_kv = false;
  bool ignore_value = false;  // keep the current value (the key must exist)
  bool ignore_lease = false;  // keep the current lease (the key must exist)
  friend bool operator==(const PutRequest&, const PutRequest&) = default;
};

struct PutResponse {
  ResponseHeader header;
  std::optional<KeyValue> prev_kv;  // set when prev_kv was asked and the key existed
  friend bool operator==(const PutResponse&, const PutResponse&) = default;
};

struct DeleteRangeRequest {
  std::string key;
  std::string range_end;
  bool prev_kv = false;
  friend bool operator==(const DeleteRangeRequest&, const DeleteRangeRequest&) = default;
};

struct DeleteRangeResponse {
  ResponseHeader header;
  std::int64_t deleted = 0;
  std::vector<KeyValue> prev_kvs;
  friend bool operator==(const DeleteRangeResponse&, const DeleteRangeResponse&) = default;
};

struct Compare {
  enum CompareResult : std::uint8_t { EQUAL = 0, GREATER = 1, LESS = 2, NOT_EQUAL = 3 };
  enum CompareTarget : std::uint8_t { VERSION = 0, CREATE = 1, MOD = 2, VALUE = 3, LEASE = 4 };
  CompareResult result = EQUAL;
  CompareTarget target = VERSION;
  std::string key;
  std::string range_end;
  // etcd's target_union: only the member named by `target` is compared.
  std::int64_t version = 0;
  std::int64_t create_revision = 0;
  std::int64_t mod_revision = 0;
  std::string value;
  std::int64_t lease = 0;
  friend bool operator==(const Compare&, const Compare&) = default;
};

struct RequestOp;
struct ResponseOp;

struct TxnRequest {
  std::vector<Compare> compare;
  std::vector<RequestOp> success;  // run when every compare holds
  std::vector<RequestOp> failure;  // run otherwise
  friend bool operator==(const TxnRequest&, const TxnRequest&);
};

struct RequestOp {
  std::variant<RangeRequest, PutRequest, DeleteRangeRequest, TxnRequest> request;
  friend bool operator==(const RequestOp&, const RequestOp&) = default;
};

inline bool operator==(const TxnRequest& a, const TxnRequest& b) {
  return a.compare == b.compare && a.success == b.success && a.failure == b.failure;
}

struct TxnResponse {
  ResponseHeader header;
  bool succeeded = false;
  std::vector<ResponseOp> responses;  // one per op of the branch that ran
  friend bool operator==(const TxnResponse&, const TxnResponse&);
};

struct ResponseOp {
  std::variant<RangeResponse, PutResponse, DeleteRangeResponse, TxnResponse> response;
  friend bool operator==(const ResponseOp&, const ResponseOp&) = default;
};

inline bool operator==(const TxnResponse& a, const TxnResponse& b) {
  return a.header == b.header && a.succeeded == b.succeeded && a.responses == b.responses;
}

struct CompactionRequest {
  std::int64_t revision = 0;
  bool physical = false;  // the in-memory store compacts at once; accepted and ignored
  friend bool operator==(const CompactionRequest&, const CompactionRequest&) = default;
};

struct CompactionResponse {
  ResponseHeader header;
  friend bool operator==(const CompactionResponse&, const CompactionResponse&) = default;
};

// etcd's HashKV: a CRC32C over every kept revision up to `revision`, then the
// compact revision (see docs/rsm.md for the exact bytes).
struct HashKVResponse {
  ResponseHeader header;
  std::uint32_t hash = 0;
  std::int64_t compact_revision = 0;
  friend bool operator==(const HashKVResponse&, const HashKVResponse&) = default;
};

// etcd's AlarmRequest / AlarmResponse. Alarms live in the replicated state and
// are cluster-wide, so the state machine reports them with member_id 0.
enum class AlarmType : std::uint8_t { NONE = 0, NOSPACE = 1, CORRUPT = 2 };

struct AlarmRequest {
  enum AlarmAction : std::uint8_t { GET = 0, ACTIVATE = 1, DEACTIVATE = 2 };
  AlarmAction action = GET;
  std::uint64_t member_id = 0;
  AlarmType alarm = AlarmType::NONE;
  friend bool operator==(const AlarmRequest&, const AlarmRequest&) = default;
};

struct AlarmMember {
  std::uint64_t member_id = 0;
  AlarmType alarm = AlarmType::NONE;
  friend bool operator==(const AlarmMember&, const AlarmMember&) = default;
};

struct AlarmResponse {
  ResponseHeader header;
  std::vector<AlarmMember> alarms;
  friend bool operator==(const AlarmResponse&, const AlarmResponse&) = default;
};

// One KV request as it travels in a log entry (command kind kKv).
using KvRequest =
    std::variant<RangeRequest, PutRequest, DeleteRangeRequest, TxnRequest, CompactionRequest>;

// What applying one command answers.
using Response = std::variant<RangeResponse, PutResponse, DeleteRangeResponse, TxnResponse,
                              CompactionResponse, AlarmResponse>;

}  // namespace tri::rsm
