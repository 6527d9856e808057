#include "crdt/lww_register.h"

#include <tuple>

#include "crdt/encoding.h"

namespace tri::crdt {

namespace {

constexpr std::string_view kType = "lww register";

Status ValueTooLong(std::size_t size, const Limits& limits) {
  return ResourceExhausted("lww register: value of " + std::to_string(size) +
                           " bytes, past max_value_bytes " +
                           std::to_string(limits.max_value_bytes));
}

}  // namespace

Result<LwwRegister> LwwRegister::Set(std::string value, const LwwStamp& stamp) {
  if (value.size() > limits_.max_value_bytes) return ValueTooLong(value.size(), limits_);
  LwwRegister delta(limits_);
  delta.has_value_ = true;
  delta.stamp_ = stamp;
  delta.value_ = std::move(value);
  TRI_RETURN_IF_ERROR(Merge(delta));
  return delta;
}

Status LwwRegister::Merge(const LwwRegister& other) {
  if (!other.has_value_) return Status::Ok();
  if (!has_value_ || std::tie(other.stamp_, other.value_) > std::tie(stamp_, value_)) {
    if (other.value_.size() > limits_.max_value_bytes) {
      return ValueTooLong(other.value_.size(), limits_);
    }
    has_value_ = true;
    stamp_ = other.stamp_;
    value_ = other.value_;
  }
  return Status::Ok();
}

std::string LwwRegister::ToString() const {
  if (!has_value_) return "(unset)";
  return "\"" + value_ + "\"@" + stamp_.ToString();
}

std::string LwwRegister::Encode() const {
  std::string out;
  PutHeader(out, TypeTag::kLwwRegister);
  coding::PutFixed8(out, has_value_ ? 1 : 0);
  if (has_value_) {
    stamp_.EncodeBody(out);
    coding::PutLengthPrefixed(out, value_);
  }
  return out;
}

Result<LwwRegister> LwwRegister::Decode(std::string_view bytes, const Limits& limits) {
  coding::Decoder in(bytes);
  TRI_RETURN_IF_ERROR(ReadHeader(in, TypeTag::kLwwRegister, kType));
  std::uint8_t present = 0;
  if (!in.ReadFixed8(present)) return DecodeError(kType, "presence byte truncated", in);
  if (present > 1) {
    return DecodeError(kType, "presence byte " + std::to_string(present) + " is not 0 or 1", in);
  }
  LwwRegister reg(limits);
  if (present == 1) {
    reg.has_value_ = true;
    TRI_ASSIGN_OR_RETURN(reg.stamp_, LwwStamp::DecodeBody(in, kType, "stamp"));
    TRI_RETURN_IF_ERROR(ReadBytesField(in, kType, "value", limits.max_value_bytes, reg.value_));
  }
  TRI_RETURN_IF_ERROR(CheckDone(in, kType));
  return reg;
}

}  // namespace tri::crdt
