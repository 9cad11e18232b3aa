"""The C core is compiled at install time by cffi in API mode (csim/_build.py)."""
from setuptools import setup

setup(cffi_modules=["csim/_build.py:ffibuilder"])
