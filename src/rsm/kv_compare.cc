#include "rsm/kv_compare.h"

#include "base/assert.h"

namespace tri::rsm {

namespace {

int CompareInt(std::int64_t a, std::int64_t b) {
  return a < b ? -1 : (a > b ? 1 : 0);
}

bool HoldsResult(Compare::CompareResult result, int cmp) {
  switch (result) {
    case Compare::EQUAL:
      return cmp == 0;
    case Compare::NOT_EQUAL:
      return cmp != 0;
    case Compare::GREATER:
      return cmp > 0;
    case Compare::LESS:
      return cmp < 0;
  }
  TRI_UNREACHABLE();
}

}  // namespace

bool CompareHolds(const Compare& c, const KeyValue* kv) {
  if (kv == nullptr) {
    if (c.target == Compare::VALUE) return false;
    static const KeyValue kAbsent;
    kv = &kAbsent;
  }
  int cmp = 0;
  switch (c.target) {
    case Compare::VALUE: {
      const int raw = kv->value.compare(c.value);
      cmp = raw < 0 ? -1 : (raw > 0 ? 1 : 0);
      break;
    }
    case Compare::CREATE:
      cmp = CompareInt(kv->create_revision, c.create_revision);
      break;
    case Compare::MOD:
      cmp = CompareInt(kv->mod_revision, c.mod_revision);
      break;
    case Compare::VERSION:
      cmp = CompareInt(kv->version, c.version);
      break;
    case Compare::LEASE:
      cmp = CompareInt(kv->lease, c.lease);
      break;
  }
  return HoldsResult(c.result, cmp);
}

}  // namespace tri::rsm
