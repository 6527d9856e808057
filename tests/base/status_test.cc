#include <gtest/gtest.h>

#include <string>

#include "base/result.h"
#include "base/status.h"

namespace tri {
namespace {

Result<int> ParsePositive(int x) {
  if (x <= 0) return InvalidArgument("x must be positive, got " + std::to_string(x));
  return x;
}

Result<int> Doubled(int x) {
  TRI_ASSIGN_OR_RETURN(int v, ParsePositive(x));
  return v * 2;
}

Status CheckBoth(int a, int b) {
  TRI_RETURN_IF_ERROR(ParsePositive(a).status());
  TRI_RETURN_IF_ERROR(ParsePositive(b).status());
  return Status::Ok();
}

TEST(Status, OkHasNoMessage) {
  Status s;
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.ToString(), "OK");
}

TEST(Status, ToStringNamesCodeAndMessage) {
  EXPECT_EQ(NotFound("step 'x'").ToString(), "NOT_FOUND: step 'x'");
  EXPECT_EQ(Corruption("bad crc").WithContext("seg 3").ToString(), "CORRUPTION: seg 3: bad crc");
}

TEST(Result, CarriesValueOrError) {
  EXPECT_EQ(Doubled(4).value(), 8);
  auto bad = Doubled(-1);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(bad.value_or(7), 7);
}

TEST(Result, ReturnIfErrorStopsAtFirstError) {
  EXPECT_TRUE(CheckBoth(1, 2).ok());
  EXPECT_EQ(CheckBoth(1, -2).message(), "x must be positive, got -2");
}

TEST(ResultDeathTest, ValueOfErrorAborts) {
  Result<int> r = Internal("boom");
  EXPECT_DEATH((void)r.value(), "Result::value\\(\\) on an error");
}

}  // namespace
}  // namespace tri
