"""The repository's programs (bin/, bench/) run in forks of one interpreter that has imported
the stack, for the tests.

Starting a program is mostly importing TensorFlow, TF-Agents, Spektral and TFDS: 8-10 s on
a 2-core CPU, more than most of the error and end-to-end checks then take (BUILD_NOTES.md,
"Test suite durations"). A `ProgramServer` is a Python process that imports the stack once
(as the programs do: nat_tf first, quiet logs at the default verbosity) and then forks a
child for each program it is asked to run. The child is a process of its own, with its own
pid, flags, gin state and TensorFlow runtime (nothing has started TensorFlow's runtime in
the server, so no thread pool is forked), its output in files; it runs a program (bin/train,
bench/x.py) as `python PROGRAM ARGS` would, and ends as a program ends (exit status,
atexit), less the interpreter's teardown of its modules.

What a fork cannot show is what a program does while it loads: TensorFlow and TFDS read
some environment variables (TF_CPP_MIN_LOG_LEVEL, TF_ENABLE_ONEDNN_OPTS, TFDS_DATA_DIR) as
they are imported, and quiet.start filters what they print then. A server therefore runs
programs in the environment it was started with only (one server per environment), and
the tests of start-up and of the very end (the log, --verbosity, what is logged as the
process ends) start a fresh interpreter.

Run as a script, this file is the server: one JSON request per line on stdin
({"argv": [...], "stdout": path, "stderr": path, "timeout": seconds}), one JSON reply per
line on stdout ({"returncode": int} or {"timeout": true}).
"""

import json
import os
import signal
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # the repository root


class ProgramServer:
  """The client side: a server process started in environment `env`, and `run`."""

  def __init__(self, env):
    self.process = subprocess.Popen([sys.executable, os.path.abspath(__file__)], cwd=ROOT,
                                    env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                    text=True)

  def run(self, argv, timeout):
    """Run `argv` (a program's path and its arguments, from the repository root) in a fork; a
    CompletedProcess with its text stdout and stderr. Raises TimeoutExpired after killing a
    program that ran past `timeout` seconds."""
    with tempfile.TemporaryDirectory() as folder:
      stdout, stderr = os.path.join(folder, "stdout"), os.path.join(folder, "stderr")
      request = {"argv": argv, "stdout": stdout, "stderr": stderr, "timeout": timeout}
      self.process.stdin.write(json.dumps(request) + "\n")
      self.process.stdin.flush()
      line = self.process.stdout.readline()
      if not line:
        raise RuntimeError(f"the program server exited with status {self.process.wait()}")
      reply = json.loads(line)
      if reply.get("timeout"):
        raise subprocess.TimeoutExpired(argv, timeout)
      with open(stdout) as out, open(stderr) as err:
        return subprocess.CompletedProcess(argv, reply["returncode"], out.read(), err.read())

  def close(self):
    """End the server (it exits when its stdin closes)."""
    self.process.stdin.close()
    self.process.wait()


def _serve():
  """Import the stack as a program would, then fork a child per request. Replies go out on
  a copy of stdout; stdout itself is stderr from here on, so that nothing an import prints
  can be read as a reply."""
  replies = os.fdopen(os.dup(1), "w")
  os.dup2(2, 1)
  from nat_tf import quiet  # pylint: disable=import-outside-toplevel
  quiet.start([sys.argv[0]])
  # What the programs import besides TensorFlow and TF-Agents.
  import spektral  # pylint: disable=import-outside-toplevel,unused-import
  import tensorflow_datasets  # pylint: disable=import-outside-toplevel,unused-import
  from nat_tf import cli  # pylint: disable=import-outside-toplevel,unused-import
  for line in sys.stdin:
    request = json.loads(line)
    pid = os.fork()
    if pid == 0:
      replies.close()
      _run_program(request)  # does not return
    print(json.dumps(_wait(pid, request["timeout"])), file=replies, flush=True)


def _run_program(request):
  """In the child: standard streams to the request's files, then the program as __main__,
  and the exit a program makes (its exit status, atexit's functions, logs flushed) without
  the interpreter's teardown of every module, which takes 2-3 s after TensorFlow's import.
  (What TensorFlow logs as objects are deleted at that teardown is seen by the tests that
  start a fresh interpreter.)"""
  import atexit  # pylint: disable=import-outside-toplevel
  import logging  # pylint: disable=import-outside-toplevel
  import runpy  # pylint: disable=import-outside-toplevel
  import traceback  # pylint: disable=import-outside-toplevel
  for descriptor, path, mode in ((0, os.devnull, os.O_RDONLY),
                                 (1, request["stdout"], os.O_WRONLY | os.O_CREAT),
                                 (2, request["stderr"], os.O_WRONLY | os.O_CREAT)):
    opened = os.open(path, mode)
    os.dup2(opened, descriptor)
    os.close(opened)
  sys.argv = list(request["argv"])
  sys.path[0] = os.path.dirname(os.path.abspath(sys.argv[0]))  # as for `python PROGRAM`
  try:
    runpy.run_path(sys.argv[0], run_name="__main__")
    status = 0
  except SystemExit as end:
    status = _exit_status(end.code)
  except BaseException:  # pylint: disable=broad-except  # as the interpreter reports it
    traceback.print_exc()
    status = 1
  atexit._run_exitfuncs()  # pylint: disable=protected-access
  logging.shutdown()
  sys.stdout.flush()
  sys.stderr.flush()
  os._exit(status)  # pylint: disable=protected-access


def _exit_status(code):
  """The status the interpreter exits with for sys.exit(`code`); a message is printed."""
  if code is None or isinstance(code, int):
    return code or 0
  print(code, file=sys.stderr)
  return 1


def _wait(pid, timeout):
  """The reply for child `pid`: its exit status, or a timeout after killing it."""
  deadline = time.monotonic() + timeout
  while True:
    done, status = os.waitpid(pid, os.WNOHANG)
    if done:
      return {"returncode": os.waitstatus_to_exitcode(status)}
    if time.monotonic() > deadline:
      os.kill(pid, signal.SIGKILL)
      os.waitpid(pid, 0)
      return {"timeout": True}
    time.sleep(0.02)


if __name__ == "__main__":
  _serve()
