#include "crdt/lww_register.h"

#include <tuple>

#include "crdt/encoding.h"

namespace tri::crdt {

namespace {
constexpr std::string_view kType = "lww register";
}  // namespace

Result<LwwRegister> LwwRegister::Set(std::string value, const LwwStamp& stamp,
                                     const Limits& limits) {
  if (value.size() > limits.max_value_bytes) {
    return ResourceExhausted("lww register: value of " + std::to_string(value.size()) +
                             " bytes, past max_value_bytes " +
                             std::to_string(limits.max_value_bytes));
  }
  LwwRegister delta;
  delta.has_value_ = true;
  delta.stamp_ = stamp;
  delta.value_ = std::move(value);
  Merge(delta);
  return delta;
}

void LwwRegister::Merge(const LwwRegister& other) {
  if (!other.has_value_) return;
  if (!has_value_ ||
      std::tie(other.stamp_, other.value_) > std::tie(stamp_, value_)) {
    *this = other;
  }
}

Status LwwRegister::CheckLimits(const Limits& limits) const {
  if (value_.size() > limits.max_value_bytes) {
    return ResourceExhausted("lww register: value of " + std::to_string(value_.size()) +
                             " bytes, past max_value_bytes " +
                             std::to_string(limits.max_value_bytes));
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
  LwwRegister reg;
  if (present == 1) {
    reg.has_value_ = true;
    TRI_ASSIGN_OR_RETURN(reg.stamp_, LwwStamp::DecodeBody(in, kType, "stamp"));
    TRI_RETURN_IF_ERROR(ReadBytesField(in, kType, "value", limits.max_value_bytes, reg.value_));
  }
  TRI_RETURN_IF_ERROR(CheckDone(in, kType));
  return reg;
}

}  // namespace tri::crdt
