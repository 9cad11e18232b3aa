/* Names of the status codes (static strings; the per-run message lives in the sim state). */
#include "api.h"

const char *csim_strerror(int status)
{
    switch (status) {
    case CSIM_OK: return "the program returned";
    case CSIM_PAUSED: return "the step slice ran out";
    case CSIM_INDEX_ERROR: return "IndexError";
    case CSIM_ZERO_DIVISION: return "ZeroDivisionError";
    case CSIM_OVERFLOW: return "OverflowError";
    case CSIM_VALUE_ERROR: return "ValueError";
    case CSIM_ASSERTION: return "AssertionError";
    case CSIM_UNBOUND_LOCAL: return "UnboundLocalError";
    case CSIM_BUDGET: return "the instruction budget ran out";
    case CSIM_BAD_PROGRAM: return "invalid program";
    case CSIM_BAD_CONFIG: return "invalid machine config";
    case CSIM_NO_MEMORY: return "out of memory";
    case CSIM_DEADLOCK: return "deadlock";
    case CSIM_BAD_PARALLEL: return "invalid use of the parallel form";
    case CSIM_CHECK_VIOLATION: return "checking mode: sequential order broken";
    default: return "unknown status";
    }
}
