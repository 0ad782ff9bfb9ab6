import sys

from . import allocator

if "--malloc-defaults" not in sys.argv[1:]:  # before torch allocates anything (allocator.py)
    allocator.keep_freed_cpu_memory()

from .runner import main  # noqa: E402 (torch is imported here, after the policy)

sys.exit(main())
