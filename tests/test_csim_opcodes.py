"""The opcode table: C and Python read the same opcodes.def; every opcode is described."""

from __future__ import annotations

from helixrc.csim import binding
from helixrc.csim.opcodes import OP_INFO, Opcode, Status, parse_opcodes

ffi, lib = binding.ffi, binding.lib


def test_c_and_python_agree() -> None:
    assert lib.csim_opcode_count() == len(OP_INFO) == len(Opcode)
    for op in Opcode:
        assert ffi.string(lib.csim_opcode_name(op)).decode() == op.name == OP_INFO[op].name


def test_every_opcode_has_a_doc_and_valid_columns() -> None:
    for info in OP_INFO:
        assert len(info.doc.strip()) >= 5, info.name
        assert info.dst in ("I", "F", "D", "-")
        assert info.srcs == "-" or set(info.srcs) <= {"I", "F"}
        assert info.cls in ("INT", "MUL", "DIV", "FADD", "FMUL", "FDIV", "SQRT", "MATH", "MEM", "CTRL", "SYNC")


def test_status_names_match_c() -> None:
    for st in Status:
        assert getattr(lib, "CSIM_" + st.name) == st
        assert ffi.string(lib.csim_strerror(st)).decode()
    assert ffi.string(lib.csim_strerror(999)).decode() == "unknown status"


def test_parse_rejects_a_malformed_row() -> None:
    try:
        parse_opcodes('OP(FOO, X, II, INT, "bad dst type")\n')
    except ValueError as e:
        assert "opcodes.def:1" in str(e)
    else:
        raise AssertionError("a malformed row was accepted")
