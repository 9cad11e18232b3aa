/* The instruction set as C sees it, generated from the X-macro table in opcodes.def.
 *
 * csim_opcode numbers the opcodes in table order (Python's Opcode enum uses the same order and
 * checks it at import). csim_op_info describes each opcode's operands and latency class; the
 * validator in sim.c reads it, the dispatch loop in core.c never does.
 */
#ifndef CSIM_OPCODES_H
#define CSIM_OPCODES_H

/* One enumerator per row of opcodes.def: OP_MOV, OP_I2F, ...; the meaning of each is the string
   in its row. */
typedef enum csim_opcode {
#define OP(name, dst, srcs, cls, doc) OP_##name,
#include "opcodes.def"
#undef OP
    CSIM_NOPS                /* the number of opcodes, not an opcode */
} csim_opcode;

/* Latency classes: the class column of opcodes.def. */
typedef enum csim_op_class {
    CLS_INT = 0,             /* lat_int */
    CLS_MUL,                 /* lat_mul */
    CLS_DIV,                 /* lat_div */
    CLS_FADD,                /* lat_fadd */
    CLS_FMUL,                /* lat_fmul */
    CLS_FDIV,                /* lat_fdiv */
    CLS_SQRT,                /* lat_sqrt */
    CLS_MATH,                /* lat_math */
    CLS_MEM,                 /* loads and stores: latency from the cache hierarchy */
    CLS_CTRL,                /* control flow: writes no register */
    CLS_SYNC,                /* parallel-loop markers and segment synchronization: no register */
    CLS_COUNT                /* the number of classes, not a class */
} csim_op_class;

/* One row of the table. dst and srcs are the table's columns as strings ("I", "-", "III"). */
typedef struct csim_op_info {
    const char *name;
    const char *dst;
    const char *srcs;
    csim_op_class cls;
    const char *doc;
} csim_op_info;

extern const csim_op_info csim_op_table[CSIM_NOPS];

#endif
