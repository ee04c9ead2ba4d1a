"""Builds the contacts kernel, the one compiled module (everything else is in pyproject.toml)."""

from Cython.Build import cythonize
from setuptools import Extension, setup

setup(
    ext_modules=cythonize(
        [Extension("connection_api.contacts_kernel", ["src/connection_api/contacts_kernel.pyx"])],
        compiler_directives={"language_level": "3", "boundscheck": False, "wraparound": False, "cdivision": True},
    )
)
