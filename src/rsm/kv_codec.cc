#include "rsm/kv_codec.h"

#include <string>
#include <utility>

#include "base/coding.h"

namespace tri::rsm {

namespace {

using coding::Decoder;

std::uint64_t ZigZag(std::int64_t v) {
  return (static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63);
}
std::int64_t UnZigZag(std::uint64_t v) {
  return static_cast<std::int64_t>(v >> 1) ^ -static_cast<std::int64_t>(v & 1);
}

void PutBool(std::string& out, bool b) {
  coding::PutFixed8(out, b ? 1 : 0);
}

// ---------------------------------------------------------------- encoding

void EncodeRange(std::string& out, const RangeRequest& r) {
  coding::PutLengthPrefixed(out, r.key);
  coding::PutLengthPrefixed(out, r.range_end);
  PutSignedVarint(out, r.limit);
  PutSignedVarint(out, r.revision);
  coding::PutFixed8(out, r.sort_order);
  coding::PutFixed8(out, r.sort_target);
  PutBool(out, r.serializable);
  PutBool(out, r.keys_only);
  PutBool(out, r.count_only);
  PutSignedVarint(out, r.min_mod_revision);
  PutSignedVarint(out, r.max_mod_revision);
  PutSignedVarint(out, r.min_create_revision);
  PutSignedVarint(out, r.max_create_revision);
}

void EncodePut(std::string& out, const PutRequest& r) {
  coding::PutLengthPrefixed(out, r.key);
  coding::PutLengthPrefixed(out, r.value);
  PutSignedVarint(out, r.lease);
  PutBool(out, r.prev_kv);
  PutBool(out, r.ignore_value);
  PutBool(out, r.ignore_lease);
}

void EncodeDeleteRange(std::string& out, const DeleteRangeRequest& r) {
  coding::PutLengthPrefixed(out, r.key);
  coding::PutLengthPrefixed(out, r.range_end);
  PutBool(out, r.prev_kv);
}

void EncodeCompare(std::string& out, const Compare& c) {
  coding::PutFixed8(out, c.result);
  coding::PutFixed8(out, c.target);
  coding::PutLengthPrefixed(out, c.key);
  coding::PutLengthPrefixed(out, c.range_end);
  PutSignedVarint(out, c.version);
  PutSignedVarint(out, c.create_revision);
  PutSignedVarint(out, c.mod_revision);
  coding::PutLengthPrefixed(out, c.value);
  PutSignedVarint(out, c.lease);
}

void EncodeTxn(std::string& out, const TxnRequest& t);

void EncodeOp(std::string& out, const RequestOp& op) {
  std::visit(
      [&out](const auto& r) {
        using T = std::decay_t<decltype(r)>;
        if constexpr (std::is_same_v<T, RangeRequest>) {
          coding::PutFixed8(out, static_cast<std::uint8_t>(KvRequestTag::kRange));
          EncodeRange(out, r);
        } else if constexpr (std::is_same_v<T, PutRequest>) {
          coding::PutFixed8(out, static_cast<std::uint8_t>(KvRequestTag::kPut));
          EncodePut(out, r);
        } else if constexpr (std::is_same_v<T, DeleteRangeRequest>) {
          coding::PutFixed8(out, static_cast<std::uint8_t>(KvRequestTag::kDeleteRange));
          EncodeDeleteRange(out, r);
        } else {
          coding::PutFixed8(out, static_cast<std::uint8_t>(KvRequestTag::kTxn));
          EncodeTxn(out, r);
        }
      },
      op.request);
}

void EncodeTxn(std::string& out, const TxnRequest& t) {
  coding::PutVarint64(out, t.compare.size());
  for (const Compare& c : t.compare)
    EncodeCompare(out, c);
  coding::PutVarint64(out, t.success.size());
  for (const RequestOp& op : t.success)
    EncodeOp(out, op);
  coding::PutVarint64(out, t.failure.size());
  for (const RequestOp& op : t.failure)
    EncodeOp(out, op);
}

// ---------------------------------------------------------------- decoding

// Wraps a Decoder and remembers the first field that failed, so the error says
// "TxnRequest.success[2].PutRequest.value" rather than "bad input".
class Reader {
 public:
  explicit Reader(std::string_view bytes) : d_(bytes) {}

  bool Fail(std::string what) {
    if (error_.empty()) error_ = std::move(what) + " at byte " + std::to_string(d_.position());
    return false;
  }
  bool Bytes(std::string& v, const std::string& what) {
    return d_.ReadLengthPrefixed(v) || Fail(what + ": truncated or bad length");
  }
  bool Signed(std::int64_t& v, const std::string& what) {
    std::uint64_t raw = 0;
    if (!d_.ReadVarint64(raw)) return Fail(what + ": truncated or bad varint");
    v = UnZigZag(raw);
    return true;
  }
  bool Unsigned(std::uint64_t& v, const std::string& what) {
    return d_.ReadVarint64(v) || Fail(what + ": truncated or bad varint");
  }
  bool Bool(bool& v, const std::string& what) {
    std::uint8_t b = 0;
    if (!d_.ReadFixed8(b)) return Fail(what + ": truncated");
    if (b > 1) return Fail(what + ": boolean is " + std::to_string(b) + ", not 0 or 1");
    v = b == 1;
    return true;
  }
  // An enum byte that must be <= max.
  template <typename E>
  bool Enum(E& v, std::uint8_t max, const std::string& what) {
    std::uint8_t b = 0;
    if (!d_.ReadFixed8(b)) return Fail(what + ": truncated");
    if (b > max) return Fail(what + ": value " + std::to_string(b) + " is out of range");
    v = static_cast<E>(b);
    return true;
  }
  // A count of elements; each element takes at least one byte, so a count above
  // the remaining bytes is corrupt (and never causes a large allocation).
  bool Count(std::uint64_t& n, const std::string& what) {
    if (!Unsigned(n, what)) return false;
    if (n > d_.remaining())
      return Fail(what + ": count " + std::to_string(n) + " exceeds the input");
    return true;
  }
  bool Tag(std::uint8_t& tag, const std::string& what) {
    return d_.ReadFixed8(tag) || Fail(what + ": truncated");
  }
  bool Done(const std::string& what) {
    if (!d_.done()) return Fail(what + ": " + std::to_string(d_.remaining()) + " trailing bytes");
    return true;
  }
  const std::string& error() const { return error_; }

 private:
  Decoder d_;
  std::string error_;
};

bool DecodeRange(Reader& in, RangeRequest& r, const std::string& at) {
  const std::string p = at + "RangeRequest.";
  return in.Bytes(r.key, p + "key") && in.Bytes(r.range_end, p + "range_end") &&
         in.Signed(r.limit, p + "limit") && in.Signed(r.revision, p + "revision") &&
         in.Enum(r.sort_order, RangeRequest::DESCEND, p + "sort_order") &&
         in.Enum(r.sort_target, RangeRequest::VALUE, p + "sort_target") &&
         in.Bool(r.serializable, p + "serializable") && in.Bool(r.keys_only, p + "keys_only") &&
         in.Bool(r.count_only, p + "count_only") &&
         in.Signed(r.min_mod_revision, p + "min_mod_revision") &&
         in.Signed(r.max_mod_revision, p + "max_mod_revision") &&
         in.Signed(r.min_create_revision, p + "min_create_revision") &&
         in.Signed(r.max_create_revision, p + "max_create_revision");
}

bool DecodePut(Reader& in, PutRequest& r, const std::string& at) {
  const std::string p = at + "PutRequest.";
  return in.Bytes(r.key, p + "key") && in.Bytes(r.value, p + "value") &&
         in.Signed(r.lease, p + "lease") && in.Bool(r.prev_kv, p + "prev_kv") &&
         in.Bool(r.ignore_value, p + "ignore_value") && in.Bool(r.ignore_lease, p + "ignore_lease");
}

bool DecodeDeleteRange(Reader& in, DeleteRangeRequest& r, const std::string& at) {
  const std::string p = at + "DeleteRangeRequest.";
  return in.Bytes(r.key, p + "key") && in.Bytes(r.range_end, p + "range_end") &&
         in.Bool(r.prev_kv, p + "prev_kv");
}

bool DecodeCompare(Reader& in, Compare& c, const std::string& at) {
  const std::string p = at + "Compare.";
  return in.Enum(c.result, Compare::NOT_EQUAL, p + "result") &&
         in.Enum(c.target, Compare::LEASE, p + "target") && in.Bytes(c.key, p + "key") &&
         in.Bytes(c.range_end, p + "range_end") && in.Signed(c.version, p + "version") &&
         in.Signed(c.create_revision, p + "create_revision") &&
         in.Signed(c.mod_revision, p + "mod_revision") && in.Bytes(c.value, p + "value") &&
         in.Signed(c.lease, p + "lease");
}

bool DecodeTxn(Reader& in, TxnRequest& t, const std::string& at, int depth_left);

bool DecodeOp(Reader& in, RequestOp& op, const std::string& at, int depth_left) {
  std::uint8_t tag = 0;
  if (!in.Tag(tag, at + "RequestOp.tag")) return false;
  switch (static_cast<KvRequestTag>(tag)) {
    case KvRequestTag::kRange:
      return DecodeRange(in, op.request.emplace<RangeRequest>(), at);
    case KvRequestTag::kPut:
      return DecodePut(in, op.request.emplace<PutRequest>(), at);
    case KvRequestTag::kDeleteRange:
      return DecodeDeleteRange(in, op.request.emplace<DeleteRangeRequest>(), at);
    case KvRequestTag::kTxn:
      return DecodeTxn(in, op.request.emplace<TxnRequest>(), at, depth_left - 1);
    case KvRequestTag::kCompaction:
      break;
  }
  return in.Fail(at + "RequestOp.tag: unknown request op " + std::to_string(tag));
}

bool DecodeOps(Reader& in, std::vector<RequestOp>& ops, const std::string& at, int depth_left) {
  std::uint64_t n = 0;
  if (!in.Count(n, at)) return false;
  ops.resize(n);
  for (std::uint64_t i = 0; i < n; ++i) {
    if (!DecodeOp(in, ops[i], at + "[" + std::to_string(i) + "].", depth_left)) return false;
  }
  return true;
}

bool DecodeTxn(Reader& in, TxnRequest& t, const std::string& at, int depth_left) {
  if (depth_left < 0) return in.Fail(at + "TxnRequest: nested deeper than the limit");
  const std::string p = at + "TxnRequest.";
  std::uint64_t n = 0;
  if (!in.Count(n, p + "compare")) return false;
  t.compare.resize(n);
  for (std::uint64_t i = 0; i < n; ++i) {
    if (!DecodeCompare(in, t.compare[i], p + "compare[" + std::to_string(i) + "].")) return false;
  }
  return DecodeOps(in, t.success, p + "success", depth_left) &&
         DecodeOps(in, t.failure, p + "failure", depth_left);
}

}  // namespace

void PutSignedVarint(std::string& out, std::int64_t v) {
  coding::PutVarint64(out, ZigZag(v));
}

std::string EncodeKvRequest(const KvRequest& request) {
  std::string out;
  std::visit(
      [&out](const auto& r) {
        using T = std::decay_t<decltype(r)>;
        if constexpr (std::is_same_v<T, CompactionRequest>) {
          coding::PutFixed8(out, static_cast<std::uint8_t>(KvRequestTag::kCompaction));
          PutSignedVarint(out, r.revision);
          PutBool(out, r.physical);
        } else {
          EncodeOp(out, RequestOp{r});
        }
      },
      request);
  return out;
}

Result<KvRequest> DecodeKvRequest(std::string_view bytes, const KvDecodeLimits& limits) {
  Reader in(bytes);
  std::uint8_t tag = 0;
  if (!in.Tag(tag, "KvRequest.tag")) return InvalidArgument(in.error());
  KvRequest request;
  bool ok = false;
  switch (static_cast<KvRequestTag>(tag)) {
    case KvRequestTag::kRange:
      ok = DecodeRange(in, request.emplace<RangeRequest>(), "");
      break;
    case KvRequestTag::kPut:
      ok = DecodePut(in, request.emplace<PutRequest>(), "");
      break;
    case KvRequestTag::kDeleteRange:
      ok = DecodeDeleteRange(in, request.emplace<DeleteRangeRequest>(), "");
      break;
    case KvRequestTag::kTxn:
      ok = DecodeTxn(in, request.emplace<TxnRequest>(), "", limits.max_txn_depth);
      break;
    case KvRequestTag::kCompaction: {
      auto& c = request.emplace<CompactionRequest>();
      ok = in.Signed(c.revision, "CompactionRequest.revision") &&
           in.Bool(c.physical, "CompactionRequest.physical");
      break;
    }
    default:
      in.Fail("KvRequest.tag: unknown request kind " + std::to_string(tag));
  }
  if (!ok || !in.Done("KvRequest")) return InvalidArgument(in.error());
  return request;
}

std::string EncodeAlarmRequest(const AlarmRequest& request) {
  std::string out;
  coding::PutFixed8(out, request.action);
  coding::PutVarint64(out, request.member_id);
  coding::PutFixed8(out, static_cast<std::uint8_t>(request.alarm));
  return out;
}

Result<AlarmRequest> DecodeAlarmRequest(std::string_view bytes) {
  Reader in(bytes);
  AlarmRequest r;
  if (!in.Enum(r.action, AlarmRequest::DEACTIVATE, "AlarmRequest.action") ||
      !in.Unsigned(r.member_id, "AlarmRequest.member_id") ||
      !in.Enum(r.alarm, static_cast<std::uint8_t>(AlarmType::CORRUPT), "AlarmRequest.alarm") ||
      !in.Done("AlarmRequest")) {
    return InvalidArgument(in.error());
  }
  return r;
}

}  // namespace tri::rsm
