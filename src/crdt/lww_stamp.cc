#include "crdt/lww_stamp.h"

#include "crdt/encoding.h"

namespace tri::crdt {

Result<LwwStamp> LwwStamp::DecodeBody(coding::Decoder& in, std::string_view type,
                                      std::string_view field) {
  LwwStamp stamp;
  TRI_ASSIGN_OR_RETURN(stamp.timestamp, HlcTimestamp::DecodeBody(in, type, field));
  TRI_RETURN_IF_ERROR(ReadVarintField(in, type, std::string(field) + ".replica", stamp.replica));
  return stamp;
}

}  // namespace tri::crdt
