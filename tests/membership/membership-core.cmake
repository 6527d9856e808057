# membership-core: the SWIM/Lifeguard member, its wire format and suspicion math.
tri_add_test(membership_test
  ${CMAKE_CURRENT_LIST_DIR}/wire_test.cc
  ${CMAKE_CURRENT_LIST_DIR}/suspicion_test.cc
  ${CMAKE_CURRENT_LIST_DIR}/member_test.cc
  ${CMAKE_CURRENT_LIST_DIR}/cluster_test.cc
  LIBS tri_membership
  ENVIRONMENT "RC_PARAMS=max_success=300")

# Not a test: goal measurements of the core alone (see the file's header).
add_executable(membership_scale ${CMAKE_CURRENT_LIST_DIR}/scale_tool.cc)
target_link_libraries(membership_scale PRIVATE tri_membership)
