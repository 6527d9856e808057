# Work stealing (routing-steal): the policy core's unit tests and properties.
tri_add_test(routing_steal_test steal_node_test.cc steal_props_test.cc
             LIBS tri_routing ENVIRONMENT "RC_PARAMS=max_success=2000")
