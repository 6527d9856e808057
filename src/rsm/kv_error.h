#pragma once

// Errors of the key-value state machine. Each carries the exact etcd v3.4 message
// (etcdserver/api/v3rpc/rpctypes/error.go) and the gRPC status code the API must
// return with it, so the API layer forwards both without a translation table.

#include <string>
#include <utility>
#include <variant>

#include "base/assert.h"
#include "base/status.h"

namespace tri::rsm {

// The numeric values are gRPC's (grpc::StatusCode), so the API casts directly.
enum class GrpcCode : int {
  kOk = 0,
  kInvalidArgument = 3,
  kNotFound = 5,
  kResourceExhausted = 8,
  kFailedPrecondition = 9,
  kOutOfRange = 11,
  kUnimplemented = 12,
  kInternal = 13,
  kDataLoss = 15,
};

struct KvError {
  GrpcCode grpc_code = GrpcCode::kInternal;
  std::string message;
  friend bool operator==(const KvError&, const KvError&) = default;
};

// The same error as a Status of the same code and message, for a caller that
// reports errors as Status (the node's services, before the gRPC layer).
Status ToStatus(const KvError& error);

// etcd's errors, by their rpctypes names.
KvError ErrEmptyKey();       // InvalidArgument "etcdserver: key is not provided"
KvError ErrKeyNotFound();    // InvalidArgument "etcdserver: key not found"
KvError ErrValueProvided();  // InvalidArgument "etcdserver: value is provided"
KvError ErrLeaseProvided();  // InvalidArgument "etcdserver: lease is provided"
KvError ErrTooManyOps();     // InvalidArgument "etcdserver: too many operations in txn request"
KvError ErrDuplicateKey();   // InvalidArgument "etcdserver: duplicate key given in txn request"
KvError ErrCompacted();      // OutOfRange "etcdserver: mvcc: required revision has been compacted"
KvError ErrFutureRev();  // OutOfRange "etcdserver: mvcc: required revision is a future revision"
KvError ErrNoSpace();    // ResourceExhausted "etcdserver: mvcc: database space exceeded"
KvError ErrRequestTooLarge();  // InvalidArgument "etcdserver: request is too large"
KvError ErrLeaseNotFound();    // NotFound "etcdserver: requested lease not found"
// A txn nested more than KvOptions::max_txn_depth levels below the top one
// (etcd has no such bound beyond protobuf's recursion limit of 100).
KvError ErrTxnTooDeep(int max_txn_depth);  // InvalidArgument
// A command or request that does not decode (a corrupt entry, or one written by a
// newer version): InvalidArgument with `what` naming the field and log index.
KvError ErrMalformed(std::string what);
// A well-formed command of a kind or operation this version does not implement.
KvError ErrUnimplemented(std::string what);

// A value of T, or a KvError. Accessing the wrong side is a programming error.
template <typename T>
class [[nodiscard]] KvOr {
 public:
  KvOr(T value) : v_(std::move(value)) {}        // NOLINT: implicit by design
  KvOr(KvError error) : v_(std::move(error)) {}  // NOLINT: implicit by design

  bool ok() const { return v_.index() == 0; }
  const KvError& error() const {
    TRI_ASSERT_MSG(!ok(), "KvOr::error() on a value");
    return std::get<1>(v_);
  }
  T& value() & {
    TRI_ASSERT_MSG(ok(), "KvOr::value() on an error");
    return std::get<0>(v_);
  }
  const T& value() const& {
    TRI_ASSERT_MSG(ok(), "KvOr::value() on an error");
    return std::get<0>(v_);
  }
  T&& value() && {
    TRI_ASSERT_MSG(ok(), "KvOr::value() on an error");
    return std::get<0>(std::move(v_));
  }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<T, KvError> v_;
};

}  // namespace tri::rsm
