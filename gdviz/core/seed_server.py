"""Computing the window's seeds in another process, so they do not wait for the GIL (and the
window does not wait for them): 64 seeds of linreg in a thread of the window's interpreter took
the window from ~30 to 4.5 redraws a second (bench_gui --seeds 64).

Protocol (parent -> server):
    ("start", job_id, [(config, seeds, last_step), ...])   compute these runs' seeds, one
                                 chunk of each in turn (drops the previous job)
    ("stop", job_id)             drop this job
    ("quit",)                    exit
Server -> parent:
    ("ready",)                   once, when the server is up
    ("chunk", job_id, k, chunk)  the next SeedChunk of run k
    ("done", job_id, k)          run k's seeds are complete
    ("error", job_id, k, text)   run k's seeds failed (a sentence); its other runs go on

numpy and the standard library only (the child imports no Qt); RunConfig pickles by itself.
"""

from __future__ import annotations

import contextlib
import os

from gdviz.core.seed_paths import seed_chunks


def serve(conn) -> None:
    """The child process's main loop: answer ``conn`` until "quit" or the parent goes away."""
    with contextlib.suppress(OSError, AttributeError):
        os.nice(10)  # after the window and the step server (nice 5): the run itself comes
        #              first, its seeds follow as they come
    conn.send(("ready",))
    job_id, runs = None, []
    try:
        while True:
            while not runs or conn.poll():
                message = conn.recv()
                if message[0] == "quit":
                    return
                if message[0] == "start":
                    job_id = message[1]
                    runs = [(k, seed_chunks(config, seeds, last))
                            for k, (config, seeds, last) in enumerate(message[2])]
                elif message[0] == "stop" and message[1] == job_id:
                    job_id, runs = None, []
            for k, chunks in list(runs):
                try:
                    conn.send(("chunk", job_id, k, next(chunks)))
                except StopIteration:
                    conn.send(("done", job_id, k))
                    runs.remove((k, chunks))
                except Exception as err:   # a sentence for the window, never a dead server
                    conn.send(("error", job_id, k, f"{type(err).__name__}: {err}"
                               if not str(err) else str(err)))
                    runs.remove((k, chunks))
                if conn.poll():
                    break
    except (EOFError, OSError, KeyboardInterrupt):
        return   # the parent has gone
