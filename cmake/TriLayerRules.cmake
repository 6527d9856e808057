# The link side of the layer rule, checked when CMake configures (the include side
# is scripts/check_layers.py, ctest layer_rule_test). See docs/ARCHITECTURE.md.
#
# tri_check_layer_links(SOURCE_ROOT dir LAYERS layer... CORES target... [PURE target...]
#                       FORBIDDEN_IN_CORES pattern...)
#   - every target defined under SOURCE_ROOT/<layer>/ links (directly) only targets
#     of its own layer or of layers listed before it;
#   - a target of CORES links, of the project's targets, only those of the base
#     layer, of its own layer, other CORES and PURE targets (deterministic
#     libraries without I/O, e.g. the saga DSL parser), and reaches, through no chain of links (PUBLIC,
#     PRIVATE or INTERFACE), a library whose name contains one of FORBIDDEN_IN_CORES.
# A violation stops the configuration with FATAL_ERROR naming the chain.

# Link items of `target`, generator expressions reduced to the library they name.
function(_tri_link_items target out_var)
  set(items)
  get_target_property(type ${target} TYPE)
  get_target_property(imported ${target} IMPORTED)
  if(NOT imported AND NOT type STREQUAL "INTERFACE_LIBRARY")
    get_target_property(direct ${target} LINK_LIBRARIES)
    if(direct)
      list(APPEND items ${direct})
    endif()
  endif()
  get_target_property(interface ${target} INTERFACE_LINK_LIBRARIES)
  if(interface)
    list(APPEND items ${interface})
  endif()
  set(reduced)
  foreach(item IN LISTS items)
    # $<LINK_ONLY:x> and $<$<CONFIG:..>:x>: keep x.
    string(REGEX REPLACE "^\\$<LINK_ONLY:(.*)>$" "\\1" item "${item}")
    string(REGEX REPLACE "^\\$<.*:([^:>]+)>+$" "\\1" item "${item}")
    # CMake marks links made from another directory with ::@(dir) items: not libraries.
    if(item AND NOT item MATCHES "^::@")
      list(APPEND reduced ${item})
    endif()
  endforeach()
  set(${out_var} ${reduced} PARENT_SCOPE)
endfunction()

# Every target defined in `dir` or below it.
function(_tri_targets_below dir out_var)
  get_property(targets DIRECTORY ${dir} PROPERTY BUILDSYSTEM_TARGETS)
  get_property(subdirs DIRECTORY ${dir} PROPERTY SUBDIRECTORIES)
  foreach(sub IN LISTS subdirs)
    _tri_targets_below(${sub} below)
    list(APPEND targets ${below})
  endforeach()
  set(${out_var} ${targets} PARENT_SCOPE)
endfunction()

function(tri_check_layer_links)
  cmake_parse_arguments(ARG "" "SOURCE_ROOT" "LAYERS;CORES;PURE;FORBIDDEN_IN_CORES" ${ARGN})

  # Which layer defines each target.
  set(all_targets)
  foreach(layer IN LISTS ARG_LAYERS)
    if(EXISTS ${ARG_SOURCE_ROOT}/${layer}/CMakeLists.txt)
      _tri_targets_below(${ARG_SOURCE_ROOT}/${layer} targets)
      foreach(t IN LISTS targets)
        set(_tri_layer_of_${t} ${layer})
      endforeach()
      list(APPEND all_targets ${targets})
    endif()
  endforeach()

  # Layers link only earlier layers (direct links; indirect ones follow by induction).
  string(REPLACE ";" " " order "${ARG_LAYERS}")
  foreach(t IN LISTS all_targets)
    set(layer ${_tri_layer_of_${t}})
    list(FIND ARG_LAYERS ${layer} own)
    _tri_link_items(${t} items)
    foreach(item IN LISTS items)
      if(TARGET ${item} AND DEFINED _tri_layer_of_${item})
        list(FIND ARG_LAYERS ${_tri_layer_of_${item}} other)
        if(other GREATER own)
          message(FATAL_ERROR "layer rule: ${t} (layer ${layer}) links ${item} of the later "
                              "layer ${_tri_layer_of_${item}} (order: ${order})")
        endif()
      endif()
    endforeach()
  endforeach()

  # Cores link, of the project's libraries, only base and their own layer, and reach
  # no forbidden library through any chain.
  foreach(core IN LISTS ARG_CORES)
    if(NOT TARGET ${core})
      continue()
    endif()
    _tri_link_items(${core} items)
    foreach(item IN LISTS items)
      if(TARGET ${item} AND DEFINED _tri_layer_of_${item})
        set(layer ${_tri_layer_of_${item}})
        list(FIND ARG_CORES ${item} item_is_core)
        list(FIND ARG_PURE ${item} item_is_pure)
        if(NOT layer STREQUAL "base" AND NOT layer STREQUAL _tri_layer_of_${core}
           AND item_is_core EQUAL -1 AND item_is_pure EQUAL -1)
          message(FATAL_ERROR "layer rule: core ${core} links ${item} (layer ${layer}); "
                              "a core links only base, its own layer, cores and pure libraries")
        endif()
      endif()
    endforeach()
    set(queue ${core})
    set(seen ${core})
    set(_tri_via_${core} ${core})
    while(queue)
      list(POP_FRONT queue current)
      if(NOT TARGET ${current})
        continue()
      endif()
      get_target_property(aliased ${current} ALIASED_TARGET)
      if(aliased)
        set(lookup ${aliased})
      else()
        set(lookup ${current})
      endif()
      _tri_link_items(${lookup} items)
      foreach(item IN LISTS items)
        foreach(pattern IN LISTS ARG_FORBIDDEN_IN_CORES)
          string(FIND "${item}" "${pattern}" at)
          if(at GREATER -1)
            message(FATAL_ERROR "layer rule: core ${core} reaches ${item} "
                                "(${_tri_via_${current}} -> ${item}); cores must not link "
                                "${pattern} (drivers link tri_log for logging)")
          endif()
        endforeach()
        if(NOT item IN_LIST seen)
          list(APPEND seen ${item})
          list(APPEND queue ${item})
          set(_tri_via_${item} "${_tri_via_${current}} -> ${item}")
        endif()
      endforeach()
    endwhile()
  endforeach()
endfunction()
