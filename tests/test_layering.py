"""nat_tf's packages import only downward (BUILD_NOTES, "Layout (issue 18)").

The imports are read from the source with `ast`, nothing is imported, so the check
is quick and also sees the imports written inside functions. Because a unit may
import only units of lower layers, the package graph has no cycle.
"""

import ast
import os

import pytest

PACKAGE = "nat_tf"
ROOT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), PACKAGE)

# Bottom first. A unit (a package of nat_tf, or a module at its top level) may import its
# own unit and the units of lower layers, nothing on its own layer or above.
LAYERS = (
    ("errors",),
    ("atomic", "interrupts", "progress", "quiet", "run_folder"),
    ("export", "run_config"),
    ("space",),  # pure Python and numpy
    ("data", "nn", "report", "tflite"),  # report: cell drawings, from space alone
    ("reload_check", "rl", "training"),  # training: step loop, checkpoints, optimiser, ...
    ("search",),  # the search loop and the evaluation of its policy
    ("evaluate",),  # training from scratch, exports of finished runs
    ("analysis",),  # after a search: derivation, baselines, comparison, studies
    ("cli",),  # the programs' flags and entry point, for bin/ alone
)
LAYER = {unit: depth for depth, units in enumerate(LAYERS) for unit in units}
PROGRAM_ENTRY = "cli"
NO_TENSORFLOW_UNIT = "space"
TENSORFLOW_PACKAGES = ("tensorflow", "tensorflow_datasets", "keras", "tf_keras", "tf_agents",
                       "spektral")


def unit_of(module):
  """'nat_tf.search.derive' -> 'search'; 'nat_tf.cli' -> 'cli'; 'nat_tf.__init__' -> None."""
  parts = module.split(".")
  return parts[1] if len(parts) > 1 and parts[1] != "__init__" else None


def imported_names(module, source):
  """(line, dotted name) of every import in `source`, relative ones resolved; for `from a
  import b` the name is a.b, so that importing a module and importing from it read alike."""
  package = module.split(".")
  for node in ast.walk(ast.parse(source)):
    if isinstance(node, ast.Import):
      for alias in node.names:
        yield node.lineno, alias.name
    elif isinstance(node, ast.ImportFrom):
      base = node.module or ""
      if node.level:
        base = ".".join(package[:len(package) - node.level] + ([base] if base else []))
      for alias in node.names:
        yield node.lineno, f"{base}.{alias.name}"


def violations(module, source):
  """One line per import of `module` (dotted name, e.g. 'nat_tf.nn.cell' or
  'nat_tf.nn.__init__'; its text in `source`) that breaks a rule, naming the module, the import and the rule."""
  unit = unit_of(module)
  found = []
  for line, name in imported_names(module, source):
    where = f"{module}:{line} imports {name}"
    top = name.split(".")[0]
    if unit == NO_TENSORFLOW_UNIT and top in TENSORFLOW_PACKAGES:
      found.append(f"{where}: nat_tf.{NO_TENSORFLOW_UNIT} imports no TensorFlow")
    if top != PACKAGE:
      continue
    target = unit_of(name)
    if target == PROGRAM_ENTRY and unit != PROGRAM_ENTRY:
      found.append(f"{where}: only bin/ imports nat_tf.{PROGRAM_ENTRY} (its import defines "
                   "absl flags); library code uses nat_tf.run_config")
    elif target not in LAYER:
      found.append(f"{where}: {target!r} has no layer in tests/test_layering.LAYERS")
    elif unit != target and (unit is None or LAYER[target] >= LAYER[unit]):
      found.append(f"{where}: {unit!r} (layer {LAYER.get(unit)}) may import only lower layers, "
                   f"and {target!r} is layer {LAYER[target]}")
  return found


def library_modules():
  """{dotted name: path} of every module under nat_tf/ (a package's as 'a.b.__init__', so
  that relative imports resolve against the package itself)."""
  modules = {}
  for folder, _, files in os.walk(ROOT):
    for file in files:
      if file.endswith(".py"):
        path = os.path.join(folder, file)
        relative = os.path.relpath(path, os.path.dirname(ROOT))[:-len(".py")]
        modules[relative.replace(os.sep, ".")] = path
  return modules


def test_every_import_follows_the_layering():
  found = []
  for module, path in sorted(library_modules().items()):
    with open(path, encoding="utf-8") as handle:
      found += violations(module, handle.read())
  assert not found, "\n".join(found)


def test_every_unit_has_one_layer():
  names = [unit for units in LAYERS for unit in units]
  assert len(names) == len(set(names))
  units = {unit_of(module) for module in library_modules()} - {None}
  assert units <= set(names), f"units without a layer: {sorted(units - set(names))}"


@pytest.mark.parametrize("module, source, rule", [
    ("nat_tf.nn.cell", "from nat_tf.search import runs", "may import only lower layers"),
    ("nat_tf.data.pipeline", "import nat_tf.nn.layers", "may import only lower layers"),
    ("nat_tf.training.sgd", "def f():\n  from nat_tf.analysis import derive",
     "may import only lower layers"),
    ("nat_tf.space.cost", "from .. import nn", "may import only lower layers"),
    ("nat_tf.space.__init__", "from . import cost\nfrom ..nn import cell",
     "may import only lower layers"),
    ("nat_tf.search.runs", "from nat_tf import cli", "only bin/ imports nat_tf.cli"),
    ("nat_tf.analysis.study", "from nat_tf.cli import required", "only bin/ imports nat_tf.cli"),
    ("nat_tf.space.graph", "import tensorflow as tf", "imports no TensorFlow"),
    ("nat_tf.space.graph", "from tf_agents.specs import array_spec", "imports no TensorFlow"),
    ("nat_tf.search.derive", "from nat_tf.plots import draw", "has no layer"),
])
def test_a_bad_import_is_flagged(module, source, rule):
  found = violations(module, source)
  assert len(found) == 1 and rule in found[0] and module in found[0], found


@pytest.mark.parametrize("module, source", [
    ("nat_tf.analysis.derive", "from nat_tf.search import runs\nfrom nat_tf import atomic"),
    ("nat_tf.search.train_eval", "from nat_tf.search import search_setup"),
    ("nat_tf.nn.cell", "import tensorflow as tf\nfrom nat_tf.space import genotype"),
    ("nat_tf.cli", "from nat_tf import run_config"),
])
def test_a_downward_import_passes(module, source):
  assert violations(module, source) == []
