"""lamina.distributed: torch.distributed's process groups and collectives, on MPI.

Start the ranks with ``python -m lamina.distributed.run --nproc-per-node N script.py`` or
``mpiexec -n N python script.py``; the script calls ``init_process_group()``. Needs the
``distributed`` extra (mpi4py and an MPI library); without it ``is_available()`` is False.
"""

from __future__ import annotations

from .distributed_c10d import (Backend, GroupMember, ProcessGroup, ReduceOp, Work,  # noqa: F401
                               all_gather, all_gather_into_tensor, all_gather_object,
                               all_reduce, barrier, broadcast, broadcast_object_list,
                               destroy_process_group, gather, gather_object, get_backend,
                               get_global_rank, get_group_rank, get_process_group_ranks,
                               get_rank, get_world_size, group, init_process_group, irecv,
                               is_available, is_initialized, is_mpi_available, isend, new_group,
                               recv, reduce, reduce_scatter_tensor, scatter,
                               scatter_object_list, send)
from .distributed_c10d import __all__  # noqa: F401
