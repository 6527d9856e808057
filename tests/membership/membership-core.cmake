# membership-core: the SWIM/Lifeguard member, its wire format and suspicion math.
tri_add_test(membership_test
  ${CMAKE_CURRENT_LIST_DIR}/wire_test.cc
  ${CMAKE_CURRENT_LIST_DIR}/suspicion_test.cc
  ${CMAKE_CURRENT_LIST_DIR}/member_test.cc
  ${CMAKE_CURRENT_LIST_DIR}/cluster_test.cc
  ${CMAKE_CURRENT_LIST_DIR}/broadcast_queue_test.cc
  LIBS tri_membership
  ENVIRONMENT "RC_PARAMS=max_success=300")

