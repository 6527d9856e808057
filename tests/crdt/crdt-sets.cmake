# crdt-sets: the shared convergence harness (convergence.h) and its own test, the
# G-Set and the OR-Set (ORSWOT). Each convergence batch is one gtest case (ctest
# runs them side by side); CRDT_SCHEDULES / CRDT_SEED resize them (scripts/crdt-soak.sh).
tri_add_test(crdt_harness_test convergence_test.cc LIBS tri_base)
tri_add_test(crdt_gset_test gset_test.cc LIBS tri_crdt ENVIRONMENT "RC_PARAMS=max_success=300")
tri_add_test(crdt_or_set_test or_set_test.cc LIBS tri_crdt ENVIRONMENT "RC_PARAMS=max_success=300")
