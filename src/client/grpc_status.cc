#include "client/grpc_status.h"

#include <string>

namespace tri::client {

Status FromGrpcStatus(const grpc::Status& status) {
  const std::string& msg = status.error_message();
  switch (status.error_code()) {
    case grpc::StatusCode::OK:
      return Status::Ok();
    case grpc::StatusCode::CANCELLED:
      return Status(StatusCode::kCancelled, msg);
    case grpc::StatusCode::UNKNOWN:
      return Status(StatusCode::kInternal, "unknown: " + msg);
    case grpc::StatusCode::INVALID_ARGUMENT:
      return Status(StatusCode::kInvalidArgument, msg);
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return Status(StatusCode::kDeadlineExceeded, msg);
    case grpc::StatusCode::NOT_FOUND:
      return Status(StatusCode::kNotFound, msg);
    case grpc::StatusCode::ALREADY_EXISTS:
      return Status(StatusCode::kAlreadyExists, msg);
    case grpc::StatusCode::PERMISSION_DENIED:
      return Status(StatusCode::kPermissionDenied, msg);
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      return Status(StatusCode::kResourceExhausted, msg);
    case grpc::StatusCode::FAILED_PRECONDITION:
      return Status(StatusCode::kFailedPrecondition, msg);
    case grpc::StatusCode::ABORTED:
      return Status(StatusCode::kAborted, msg);
    case grpc::StatusCode::OUT_OF_RANGE:
      return Status(StatusCode::kOutOfRange, msg);
    case grpc::StatusCode::UNIMPLEMENTED:
      return Status(StatusCode::kUnimplemented, msg);
    case grpc::StatusCode::INTERNAL:
      return Status(StatusCode::kInternal, msg);
    case grpc::StatusCode::UNAVAILABLE:
      return Status(StatusCode::kUnavailable, msg);
    case grpc::StatusCode::DATA_LOSS:
      return Status(StatusCode::kDataLoss, msg);
    case grpc::StatusCode::UNAUTHENTICATED:
      return Status(StatusCode::kPermissionDenied, "unauthenticated: " + msg);
    default:
      return Status(
          StatusCode::kInternal,
          "grpc code " + std::to_string(static_cast<int>(status.error_code())) + ": " + msg);
  }
}

grpc::StatusCode GrpcCodeOf(const Status& status) {
  switch (status.code()) {
    case StatusCode::kOk:
      return grpc::StatusCode::OK;
    case StatusCode::kCancelled:
      return grpc::StatusCode::CANCELLED;
    case StatusCode::kInvalidArgument:
      return grpc::StatusCode::INVALID_ARGUMENT;
    case StatusCode::kDeadlineExceeded:
      return grpc::StatusCode::DEADLINE_EXCEEDED;
    case StatusCode::kNotFound:
      return grpc::StatusCode::NOT_FOUND;
    case StatusCode::kAlreadyExists:
      return grpc::StatusCode::ALREADY_EXISTS;
    case StatusCode::kPermissionDenied:
      return status.message().starts_with("unauthenticated: ")
                 ? grpc::StatusCode::UNAUTHENTICATED
                 : grpc::StatusCode::PERMISSION_DENIED;
    case StatusCode::kResourceExhausted:
      return grpc::StatusCode::RESOURCE_EXHAUSTED;
    case StatusCode::kFailedPrecondition:
      return grpc::StatusCode::FAILED_PRECONDITION;
    case StatusCode::kAborted:
      return grpc::StatusCode::ABORTED;
    case StatusCode::kOutOfRange:
      return grpc::StatusCode::OUT_OF_RANGE;
    case StatusCode::kUnimplemented:
      return grpc::StatusCode::UNIMPLEMENTED;
    case StatusCode::kUnavailable:
      return grpc::StatusCode::UNAVAILABLE;
    case StatusCode::kDataLoss:
    case StatusCode::kCorruption:
      return grpc::StatusCode::DATA_LOSS;
    case StatusCode::kInternal:
      return status.message().starts_with("unknown: ") ? grpc::StatusCode::UNKNOWN
                                                       : grpc::StatusCode::INTERNAL;
    default:
      return grpc::StatusCode::INTERNAL;
  }
}

}  // namespace tri::client
