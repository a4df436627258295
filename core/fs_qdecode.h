/* fs_qdecode: decodes a runQuery answer from its JSON text straight into arena fs_docs, without
 * building a json-c tree (the hot path of every clip listing). */
#ifndef CLIP_FS_QDECODE_H
#define CLIP_FS_QDECODE_H

#include <stddef.h>

#include "arena.h"
#include "fs_value.h"

/* Nesting of JSON the fast decoder walks through (members it skips); deeper goes to json-c. */
#define FS_QDECODE_DEPTH_MAX 64

/* 0: p[0..n) was decoded; *docs (arena array) and *ndocs hold exactly what the tree decoder
 * (fs_decode_query_response_jsonc) gives for the same text. -1: not taken: anything but strict
 * JSON of the usual shape (an error element, a duplicate key, a Value kind other than null,
 * boolean, integer, double, timestamp, string, reference, array or map, text that is not UTF-8,
 * escapes of NUL or lone surrogates, numbers json-c might read differently, ...). The caller then
 * decodes the same text with the tree decoder (the strict reader of core/json), which accepts it
 * or words the error; memory the attempt took from a stays there until the arena is reset. */
int fs_qdecode(arena_t *a, const char *p, size_t n, fs_doc **docs, size_t *ndocs);

#endif
