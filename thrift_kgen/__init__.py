"""thrift-kgen: compile a Thrift IDL into a Linux kernel module that serves it."""

__version__ = "0.1.0"
