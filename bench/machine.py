"""The machine a figure was measured on, without importing TensorFlow (tests/conftest.py
prints it in every pytest header, so that a CI log says which CPU gave its numbers)."""

import os


def cpu_description():
  """Model, core count and vector extensions of this machine: every figure is printed with it,
  since speeds measured on one CPU do not carry over to another."""
  info = {}
  with open("/proc/cpuinfo") as f:
    for line in f:
      key, _, value = line.partition(":")
      info.setdefault(key.strip(), value.strip())
  flags = set(info.get("flags", "").split())
  vectors = "AVX-512" if "avx512f" in flags else "AVX2" if "avx2" in flags else "no AVX2"
  return (f"{info.get('model name', 'unknown CPU')} (family {info.get('cpu family', '?')}, "
          f"model {info.get('model', '?')}), {len(os.sched_getaffinity(0))} cores, {vectors}")
