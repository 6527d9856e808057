#include "rsm/kv_error.h"

#include <string>

namespace tri::rsm {

namespace {
KvError Make(GrpcCode code, const char* message) {
  return KvError{code, message};
}
}  // namespace

KvError ErrEmptyKey() {
  return Make(GrpcCode::kInvalidArgument, "etcdserver: key is not provided");
}
KvError ErrKeyNotFound() {
  return Make(GrpcCode::kInvalidArgument, "etcdserver: key not found");
}
KvError ErrValueProvided() {
  return Make(GrpcCode::kInvalidArgument, "etcdserver: value is provided");
}
KvError ErrLeaseProvided() {
  return Make(GrpcCode::kInvalidArgument, "etcdserver: lease is provided");
}
KvError ErrTooManyOps() {
  return Make(GrpcCode::kInvalidArgument, "etcdserver: too many operations in txn request");
}
KvError ErrDuplicateKey() {
  return Make(GrpcCode::kInvalidArgument, "etcdserver: duplicate key given in txn request");
}
KvError ErrCompacted() {
  return Make(GrpcCode::kOutOfRange, "etcdserver: mvcc: required revision has been compacted");
}
KvError ErrFutureRev() {
  return Make(GrpcCode::kOutOfRange, "etcdserver: mvcc: required revision is a future revision");
}
KvError ErrNoSpace() {
  return Make(GrpcCode::kResourceExhausted, "etcdserver: mvcc: database space exceeded");
}
KvError ErrRequestTooLarge() {
  return Make(GrpcCode::kInvalidArgument, "etcdserver: request is too large");
}
KvError ErrLeaseNotFound() {
  return Make(GrpcCode::kNotFound, "etcdserver: requested lease not found");
}
KvError ErrTxnTooDeep(int max_txn_depth) {
  return KvError{GrpcCode::kInvalidArgument,
                 "rsm: txn nested deeper than " + std::to_string(max_txn_depth) + " levels"};
}
KvError ErrMalformed(std::string what) {
  return KvError{GrpcCode::kInvalidArgument, "rsm: malformed command: " + std::move(what)};
}
KvError ErrUnimplemented(std::string what) {
  return KvError{GrpcCode::kUnimplemented, "rsm: not implemented: " + std::move(what)};
}

Status ToStatus(const KvError& error) {
  switch (error.grpc_code) {
    case GrpcCode::kOk:
      return Status::Ok();
    case GrpcCode::kInvalidArgument:
      return InvalidArgument(error.message);
    case GrpcCode::kNotFound:
      return NotFound(error.message);
    case GrpcCode::kResourceExhausted:
      return ResourceExhausted(error.message);
    case GrpcCode::kFailedPrecondition:
      return FailedPrecondition(error.message);
    case GrpcCode::kOutOfRange:
      return OutOfRange(error.message);
    case GrpcCode::kUnimplemented:
      return Unimplemented(error.message);
    case GrpcCode::kInternal:
    case GrpcCode::kDataLoss:
      break;
  }
  return Internal(error.message);
}

}  // namespace tri::rsm
