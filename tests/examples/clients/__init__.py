# SPDX-License-Identifier: GPL-2.0
"""Client drivers of the examples (examples/*), shared by the host tests (user-space
servers) and the VM tests (kernel modules, run in the guest): see run.py."""
