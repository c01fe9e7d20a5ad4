# sql_embed.cmake - turns a service's sql/*.sql files into a C header and source (run by CMake
# at build time through sesshu_sql(), cmake/sesshu_sql.cmake; docs/contributing.md §1a).
#
#   cmake -DSQL_DIR=<services/x/sql> -DPREFIX=<acct> -DOUT_H=<x_sql.h> -DOUT_C=<x_sql.c> -P sql_embed.cmake
#
# A file is a header comment, then statements, each introduced by "-- name: <prefix>_<what>",
# followed by one "-- $n name: type, meaning" line per parameter and the statement itself, ending
# in ";" (so a file can be pasted into psql with \set or PREPARE as written). Each statement becomes
#   extern const char sql_<name>[];
# in the header, so a misspelt name fails to compile, and a row of <prefix>_sql_all[] (name, file,
# line, parameter count, text) for the check that PREPAREs every statement (tests/integration).
# The build fails, naming file and line, on a duplicate or malformed name, a statement without ";",
# or a $n without its "-- $n" line (and a "-- $n" line the statement does not use).
cmake_minimum_required(VERSION 3.20)

foreach(v SQL_DIR PREFIX OUT_H OUT_C)
  if(NOT DEFINED ${v})
    message(FATAL_ERROR "sql_embed.cmake: -D${v}=... missing")
  endif()
endforeach()

file(GLOB files RELATIVE ${SQL_DIR} ${SQL_DIR}/*.sql)
list(SORT files)

set(decls "")
set(defs "")
set(rows "")
set(seen "")
get_filename_component(svcdir ${SQL_DIR} DIRECTORY)
get_filename_component(svc ${svcdir} NAME)

# Close the statement collected so far: checks, then its C text.
macro(ss_sql_flush)
  if(NOT "${cur}" STREQUAL "")
    string(STRIP "${body}" trimmed)
    if(trimmed STREQUAL "")
      message(FATAL_ERROR "${where}: statement ${cur} is empty")
    endif()
    if(NOT trimmed MATCHES "@SEMI@$")
      message(FATAL_ERROR "${where}: statement ${cur} does not end with ;")
    endif()
    string(REGEX REPLACE "[ \t\n]*@SEMI@$" "" trimmed "${trimmed}")
    # Parameters used ($1..$max) must each have their "-- $n" line, and no more.
    string(REGEX MATCHALL "\\$[0-9]+" used "${trimmed}")
    set(max 0)
    foreach(u ${used})
      string(SUBSTRING "${u}" 1 -1 n)
      if(n GREATER max)
        set(max ${n})
      endif()
    endforeach()
    if(max GREATER 0)
      foreach(n RANGE 1 ${max})
        if(NOT " ${docs} " MATCHES " ${n} ")
          message(FATAL_ERROR "${where}: ${cur} uses \$${n} without a '-- \$${n} name: type' line")
        endif()
      endforeach()
    endif()
    foreach(n ${docs})
      if(n GREATER max)
        message(FATAL_ERROR "${where}: ${cur} documents \$${n} but does not use it")
      endif()
    endforeach()
    # C text: one string literal per line, escaped (\, ", and ?? against trigraphs).
    string(REPLACE "@BSL@" "\\\\" trimmed "${trimmed}")
    string(REPLACE "\"" "\\\"" trimmed "${trimmed}")
    string(REPLACE "??" "?\\?" trimmed "${trimmed}")
    string(REPLACE "@SEMI@" ";" trimmed "${trimmed}")
    string(REPLACE "@LBR@" "[" trimmed "${trimmed}")
    string(REPLACE "@RBR@" "]" trimmed "${trimmed}")
    string(REPLACE "\n" "\\n\"\n    \"" ctext "${trimmed}")
    string(APPEND decls "extern const char sql_${cur}[]; /* ${file}:${startline}, ${max} parameter(s) */\n")
    string(APPEND decls "extern const ss_sql_param sql_${cur}_params[];\n")
    string(APPEND defs "const ss_sql_param sql_${cur}_params[] = {${pdefs}{0, NULL, NULL}};\n")
    string(APPEND defs "const char sql_${cur}[] =\n    \"${ctext}\";\n")
    string(APPEND rows "    {\"${cur}\", \"services/${svc}/sql/${file}\", ${startline}, ${max}, sql_${cur}},\n")
  endif()
  set(cur "")
  set(body "")
  set(docs "")
  set(pdefs "")
endmacro()

foreach(file ${files})
  file(READ ${SQL_DIR}/${file} content)
  # CMake lists split on ";" and treat [ ] and \ specially: hide them, split on newlines.
  string(REPLACE "\\" "@BSL@" content "${content}")
  string(REPLACE ";" "@SEMI@" content "${content}")
  string(REPLACE "[" "@LBR@" content "${content}")
  string(REPLACE "]" "@RBR@" content "${content}")
  string(REPLACE "\n" ";" lines "${content}")
  set(cur "")
  set(body "")
  set(docs "")
  set(pdefs "")
  set(lineno 0)
  foreach(line IN LISTS lines)
    math(EXPR lineno "${lineno} + 1")
    set(where "services/${svc}/sql/${file}:${lineno}")
    if(line MATCHES "^-- name:[ ]*(.*)$")
      set(next "${CMAKE_MATCH_1}")
      ss_sql_flush()
      set(cur "${next}")
      string(STRIP "${cur}" cur)
      if(NOT cur MATCHES "^${PREFIX}_[a-z0-9_]+$")
        message(FATAL_ERROR "${where}: name '${cur}' must be ${PREFIX}_<lower_case_words>")
      endif()
      if(" ${seen} " MATCHES " ${cur} ")
        message(FATAL_ERROR "${where}: name '${cur}' is used twice in services/${svc}/sql")
      endif()
      string(APPEND seen " ${cur}")
      set(startline ${lineno})
    elseif(cur STREQUAL "")
      # The file's header comment (or blank lines) before the first statement.
      if(NOT line MATCHES "^--" AND NOT line MATCHES "^[ \t]*$")
        message(FATAL_ERROR "${where}: SQL outside a statement: a '-- name:' line must come first")
      endif()
    elseif(line MATCHES "^--[ ]*\\$([0-9]+)[ ]")
      if(NOT body STREQUAL "")
        message(FATAL_ERROR "${where}: parameter lines go before the statement")
      endif()
      set(pn "${CMAKE_MATCH_1}")
      string(APPEND docs " ${pn}")
      # Its name and type for the argument builder (sesshu/sql_params.h), when the line has them.
      if(line MATCHES "^--[ ]*\\$([0-9]+)[ ]+([A-Za-z_][A-Za-z0-9_]*)[ ]*:[ ]*([A-Za-z0-9_@]+)")
        string(REPLACE "@LBR@@RBR@" "[]" ptype "${CMAKE_MATCH_3}")
        string(APPEND pdefs "{${CMAKE_MATCH_1}, \"${CMAKE_MATCH_2}\", \"${ptype}\"}, ")
      else()
        string(APPEND pdefs "{${pn}, NULL, NULL}, ")
      endif()
    elseif(line MATCHES "^[ \t]*--")
      # A comment line: for the reader and psql, not sent to the server.
    elseif(NOT (body STREQUAL "" AND line MATCHES "^[ \t]*$"))
      if(body STREQUAL "")
        set(body "${line}")
      else()
        string(APPEND body "\n${line}")
      endif()
    endif()
  endforeach()
  ss_sql_flush()
endforeach()

string(TOUPPER "${PREFIX}" up)
set(h "/* ${PREFIX}_sql.h - generated at build time from services/${svc}/sql/<resource>.sql by cmake/sql_embed.cmake.
 * Do not edit: change the .sql file. Each statement is sql_<name>; see docs/contributing.md. */
#ifndef ${up}_SQL_H
#define ${up}_SQL_H

#include \"sesshu/sql.h\"
#include \"sesshu/sql_params.h\"

${decls}
/* Every statement above, then {NULL}: for the check that prepares them all. */
extern const ss_sql_stmt ${PREFIX}_sql_all[];

#endif
")
set(c "/* ${PREFIX}_sql.c - generated at build time from services/${svc}/sql/<resource>.sql; do not edit. */
#include \"${PREFIX}_sql.h\"

${defs}
const ss_sql_stmt ${PREFIX}_sql_all[] = {
${rows}    {NULL, NULL, 0, 0, NULL},
};
")
file(WRITE ${OUT_H} "${h}")
file(WRITE ${OUT_C} "${c}")
