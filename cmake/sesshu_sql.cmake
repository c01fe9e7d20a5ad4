# sesshu_sql(<target> <prefix>) - embed services/<svc>/sql/*.sql into <target> at build time.
#
# Generates <prefix>_sql.h and <prefix>_sql.c in the service's build folder (cmake/sql_embed.cmake),
# compiles the .c into <target> and puts the header on its include path. The files are rebuilt
# whenever a .sql file changes; a new .sql file is picked up by the glob at the next build.
# How to add a statement: docs/contributing.md §1a.
set(SS_SQL_EMBED ${CMAKE_CURRENT_LIST_DIR}/sql_embed.cmake)

function(sesshu_sql target prefix)
  set(dir ${CMAKE_CURRENT_SOURCE_DIR}/sql)
  file(GLOB sql_files CONFIGURE_DEPENDS ${dir}/*.sql)
  set(out_h ${CMAKE_CURRENT_BINARY_DIR}/generated/${prefix}_sql.h)
  set(out_c ${CMAKE_CURRENT_BINARY_DIR}/generated/${prefix}_sql.c)
  add_custom_command(
    OUTPUT ${out_h} ${out_c}
    COMMAND ${CMAKE_COMMAND} -DSQL_DIR=${dir} -DPREFIX=${prefix} -DOUT_H=${out_h} -DOUT_C=${out_c}
            -P ${SS_SQL_EMBED}
    DEPENDS ${sql_files} ${SS_SQL_EMBED}
    COMMENT "Embedding ${dir}/*.sql"
    VERBATIM)
  target_sources(${target} PRIVATE ${out_c} ${out_h})
  target_include_directories(${target} PUBLIC ${CMAKE_CURRENT_BINARY_DIR}/generated)
endfunction()
