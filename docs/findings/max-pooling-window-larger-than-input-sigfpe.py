"""MaxPooling1D/2D/3D(pool_size=2, strides=1) on an input of size 1 ('valid' padding): the window
does not fit (documented length floor((1 - 2) / 1) + 1 = 0). Called eagerly in float32, tf.keras
kills the process with SIGFPE; with the default strides (= pool_size) the same window raises
an error instead. Found by `conformance fuzz all` (seed 0), for MaxPooling1D and MaxPooling3D.

Each call runs in a child process, since the crash takes the process with it.
Recorded in cases/pooling_window.yaml (max_1d/2d/3d_window_larger_than_input_stride_one).
"""
import subprocess
import sys

CHILD = """
import numpy as np, tensorflow as tf
layer = tf.keras.layers.MaxPooling{rank}D(pool_size=2, strides={strides})
print(tuple(layer(tf.constant(np.full((1,) + (1,) * {rank} + (1,), 0.5, np.float32))).shape))
"""

for rank in (1, 2, 3):
    for strides in (2, 1):
        run = subprocess.run([sys.executable, "-c", CHILD.format(rank=rank, strides=strides)], capture_output=True, text=True)
        what = f"MaxPooling{rank}D strides={strides}:"
        if run.returncode < 0:
            print(what, f"the process was killed by signal {-run.returncode} (SIGFPE is 8)")
        elif run.returncode:
            last = [line for line in run.stderr.splitlines() if "Error" in line][-1:]
            print(what, f"raised, {last[0][:120] if last else 'exit code ' + str(run.returncode)}")
        else:
            print(what, f"returned shape {run.stdout.strip()}")
