#include "client/grpc_status.h"

#include <gtest/gtest.h>

namespace tri::client {
namespace {

TEST(FromGrpcStatus, KeepsTheServersMessageAndTheCode) {
  const Status st =
      FromGrpcStatus(grpc::Status(grpc::StatusCode::NOT_FOUND, "etcdserver: member not found"));
  EXPECT_EQ(st.code(), StatusCode::kNotFound);
  EXPECT_EQ(st.message(), "etcdserver: member not found");
  EXPECT_TRUE(FromGrpcStatus(grpc::Status::OK).ok());
}

TEST(FromGrpcStatus, EveryGrpcCodeRoundTrips) {
  for (int code = 1; code <= 16; ++code) {
    const auto grpc_code = static_cast<grpc::StatusCode>(code);
    EXPECT_EQ(GrpcCodeOf(FromGrpcStatus(grpc::Status(grpc_code, "m"))), grpc_code) << code;
  }
}

}  // namespace
}  // namespace tri::client
