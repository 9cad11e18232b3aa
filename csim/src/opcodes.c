/* The opcode table as data: names for csim_opcode_name, operand columns for the validator. */
#include "api.h"
#include "opcodes.h"

const csim_op_info csim_op_table[CSIM_NOPS] = {
#define OP(name, dst, srcs, cls, doc) {#name, #dst, #srcs, CLS_##cls, doc},
#include "opcodes.def"
#undef OP
};

int csim_opcode_count(void)
{
    return CSIM_NOPS;
}

const char *csim_opcode_name(int op)
{
    if (op < 0 || op >= CSIM_NOPS)
        return "?";
    return csim_op_table[op].name;
}
