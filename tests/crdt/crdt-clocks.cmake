# crdt-clocks: clocks, counters, registers, the LWW map and the conflict strategies.
tri_add_test(crdt_version_vector_test version_vector_test.cc LIBS tri_crdt)
tri_add_test(crdt_hlc_test hlc_test.cc LIBS tri_crdt)
tri_add_test(crdt_dotted_version_vector_test dotted_version_vector_test.cc LIBS tri_crdt)
tri_add_test(crdt_counters_test counters_test.cc LIBS tri_crdt)
tri_add_test(crdt_registers_test registers_test.cc LIBS tri_crdt)
tri_add_test(crdt_lww_map_test lww_map_test.cc LIBS tri_crdt)
tri_add_test(crdt_conflict_test conflict_test.cc LIBS tri_crdt)
tri_add_test(crdt_clocks_convergence_test clocks_convergence_test.cc LIBS tri_crdt
             ENVIRONMENT "RC_PARAMS=max_success=300")
