"""Published genotypes: NAT's inputs and the NAT / NAT++ outputs of its repositories.

Genotypes whose official text exists are stored verbatim under `genotypes/` and
read with the project's parser. Published outputs known only as a list of changed
edges (the reference code) are built here as edits of their inputs, each edit
checked against the input, so a wrong entry fails loudly rather than silently.
Names are the official files' names, looked up case-insensitively.
"""

import functools
import importlib.resources
import os

from nat_tf.errors import UsageError
from nat_tf.space import genotype_format
from nat_tf.space import ops
from nat_tf.space.genotype import GenotypeError

_SKIP, _NULL = ops.SKIP, ops.NULL

# name -> (input name, {normal edge: new op}, {reduce edge: new op}); edges are (op, src, dst).
_EDITS = {
    "NATv2_DARTS": ("DARTS_V2",
                    {("sep_conv_3x3", 0, 3): _NULL, ("sep_conv_3x3", 1, 3): _SKIP,
                     ("sep_conv_3x3", 1, 4): "dil_conv_3x3"},
                    {("max_pool_3x3", 0, 2): "avg_pool_3x3", ("max_pool_3x3", 1, 3): _SKIP,
                     ("max_pool_3x3", 0, 4): "avg_pool_3x3"}),
    "NATv2_ENAS": ("ENAS",
                   {("skip_connect", 1, 2): _NULL, ("avg_pool_3x3", 0, 6): _SKIP,
                    ("sep_conv_5x5", 1, 6): "sep_conv_3x3"},
                   {("sep_conv_5x5", 0, 2): "sep_conv_3x3", ("sep_conv_3x3", 1, 4): "avg_pool_3x3",
                    ("sep_conv_3x3", 5, 6): "max_pool_3x3"}),
    "NAT_NAONet": ("NAONet",
                   {("conv_3x3", 1, 3): _NULL, ("conv_3x3", 1, 4): _SKIP},
                   {("conv_3x3", 0, 2): _NULL, ("avg_pool_2x2", 1, 2): "avg_pool_3x3",
                    ("max_pool_2x2", 0, 4): _SKIP, ("conv_1x1", 2, 5): _SKIP}),
    "NATv2_NAONet": ("NAONet",
                     {("conv_1x1", 0, 4): "max_pool_3x3", ("conv_1x3_3x1", 0, 5): "max_pool_3x3",
                      ("conv_3x3", 0, 6): "sep_conv_3x3"},
                     {("avg_pool_2x2", 1, 2): _SKIP, ("conv_1x1", 0, 3): "avg_pool_3x3",
                      ("avg_pool_3x3", 0, 5): _SKIP, ("conv_1x1", 2, 5): _SKIP,
                      ("conv_3x3", 0, 6): "max_pool_3x3"}),
    "NATv2_VGG": ("VGG",
                  {("null", 0, 2): _SKIP, ("null", 0, 3): _SKIP,
                   ("conv_3x3", 3, 4): "sep_conv_3x3", ("null", 0, 5): _SKIP},
                  {("null", 0, 2): _SKIP, ("null", 0, 3): _SKIP,
                   ("conv_3x3", 3, 4): "sep_conv_3x3", ("null", 0, 5): _SKIP}),
    "NATv2_ResBlock": ("ResBlock",
                       {("null", 0, 2): _SKIP, ("null", 0, 3): _SKIP, ("null", 0, 4): _SKIP},
                       {("null", 0, 2): _SKIP, ("null", 0, 3): _SKIP, ("null", 0, 4): _SKIP,
                        ("conv_3x3", 3, 4): "sep_conv_3x3"}),
    "NAT_MobileNetV2": ("MobileNetV2",
                        {("null", 0, 4): _SKIP},
                        {("conv_1x1", 1, 2): _SKIP, ("null", 0, 3): _SKIP}),
}
_EDITS["NATv2_MobileNetV2"] = _EDITS["NAT_MobileNetV2"]

_ALIASES = {"DARTS": "DARTS_V2", "NATPP_DARTS": "NATv2_DARTS"}


@functools.lru_cache(maxsize=None)
def _files():
  """Official genotype texts shipped with the package, by name."""
  folder = importlib.resources.files("nat_tf.space") / "genotypes"
  return {os.path.splitext(entry.name)[0]: entry for entry in folder.iterdir()
          if entry.name.endswith(".txt")}


def names():
  """Canonical names of every catalogue genotype (aliases not included)."""
  return sorted(set(_files()) | set(_EDITS))


def _canonical(name):
  by_lower = {n.lower(): n for n in names()}
  by_lower.update({alias.lower(): target for alias, target in _ALIASES.items()})
  return by_lower.get(str(name).lower())


def is_known(name):
  return _canonical(name) is not None


@functools.lru_cache(maxsize=None)
def _get_canonical(name):
  if name in _files():
    return genotype_format.parse(_files()[name].read_text())
  base_name, normal_edits, reduce_edits = _EDITS[name]
  base = _get_canonical(base_name)
  return base.replace(normal=_edit(name, "normal", base.normal, normal_edits),
                      reduce=_edit(name, "reduce", base.reduce, reduce_edits))


def get(name):
  """The catalogue genotype called `name` (case-insensitive)."""
  canonical = _canonical(name)
  if canonical is None:
    raise UsageError(f"no catalogue genotype named {name!r}{ops.did_you_mean(name, names())}; "
                   f"known: {', '.join(names())}")
  return _get_canonical(canonical)


def _edit(name, cell_name, cell, edits):
  new_ops = list(cell.ops)
  for (op, src, dst), new_op in edits.items():
    matches = [i for i, e in enumerate(cell.edges) if (e.op, e.src, e.dst) == (op, src, dst)]
    if len(matches) != 1:
      raise GenotypeError(f"catalogue entry {name}: {cell_name} edge {(op, src, dst)} "
                          f"matches {len(matches)} edges of its input")
    new_ops[matches[0]] = new_op
  return cell.with_ops(new_ops)


def load(name_or_path):
  """A genotype from a catalogue name, or from a file in any supported format."""
  if is_known(name_or_path):
    return get(name_or_path)
  if os.path.isfile(name_or_path):
    return genotype_format.read_file(name_or_path)
  raise UsageError(f"{name_or_path!r} is neither a catalogue genotype nor a file"
                   f"{ops.did_you_mean(name_or_path, names())}; catalogue names: "
                   f"{', '.join(names())}")
