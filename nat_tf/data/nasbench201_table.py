"""NAS-Bench-201's table of every cell's validation accuracy, read into one array.

The benchmark trained each of its 15,625 cells, so a transformer's output cell is scored
by looking its accuracy up here instead of training it. The table is a CSV file that
the caller names (a gin binding; the project ships no copy): NAS-Bench-201's
per-architecture validation accuracies, one row per architecture string, in percent,
under the header `arch,cifar10,cifar100,ImageNet16-120`. The reader checks all of it
(every architecture exactly once, every value a percentage), since a damaged or partial
table would silently score cells wrongly; each fault is one UsageError naming the file.

`halves` splits the cells in two fixed halves: the input cells of training are drawn
from the first, and the second is never seen in training, so a policy is judged on
cells it never transformed.
"""

import dataclasses

import numpy as np

from nat_tf.errors import UsageError
from nat_tf.errors import check_integer
from nat_tf.space import genotype
from nat_tf.space import nasbench201
from nat_tf.space import ops

DATASETS = ("cifar10", "cifar100", "ImageNet16-120")
HEADER = ("arch",) + DATASETS
# The table is about 1.7 MB; a file far larger is not it, and is refused before it is read.
MAX_FILE_BYTES = 64 * 2 ** 20
_HOW_TO_GET = ("give NAS-Bench-201's per-architecture validation accuracies (percent) as a "
               f"CSV file with the header {','.join(HEADER)}")


@dataclasses.dataclass(frozen=True)
class Table:
  """`accuracy`: float64 [nasbench201.NUM_ARCHS, 3], validation accuracy in percent, row
  nasbench201.arch_index of a cell, columns DATASETS."""

  path: str
  accuracy: np.ndarray

  def accuracy_of(self, cell_or_string, dataset):
    """The accuracy (percent) of a cell, a cell name or a benchmark string on `dataset`."""
    if isinstance(cell_or_string, genotype.Cell):
      cell = cell_or_string
    else:
      cell = nasbench201.lookup(cell_or_string)
    row = nasbench201.arch_index(nasbench201.op_ids(cell))
    return float(self.accuracy[row, dataset_column(dataset)])


def dataset_column(name):
  """The column of `name` in DATASETS (and in Table.accuracy)."""
  if name not in DATASETS:
    raise UsageError(f"unknown NAS-Bench-201 dataset {name!r}; choose one of {list(DATASETS)}"
                     f"{ops.did_you_mean(name, DATASETS)}")
  return DATASETS.index(name)


def load(path):
  """The Table in the CSV file at `path`, checked in full (module doc)."""
  lines = _read_lines(path)
  if not lines:
    raise UsageError(f"NAS-Bench-201 table {path} is empty; {_HOW_TO_GET}")
  if tuple(lines[0].split(",")) != HEADER:
    raise UsageError(f"NAS-Bench-201 table {path}: the header is {lines[0][:200]!r}, not "
                     f"{','.join(HEADER)}; {_HOW_TO_GET}")
  accuracy = np.full((nasbench201.NUM_ARCHS, len(DATASETS)), np.nan)
  line_of_row = {}
  for line_number, line in enumerate(lines[1:], start=2):
    row, values = _parse_line(path, line_number, line)
    if row in line_of_row:
      raise UsageError(f"NAS-Bench-201 table {path}, line {line_number}: architecture "
                       f"{line.split(',')[0]!r} is also on line {line_of_row[row]}; each "
                       "architecture must appear once")
    line_of_row[row] = line_number
    accuracy[row] = values
  if len(line_of_row) != nasbench201.NUM_ARCHS:
    missing = np.setdiff1d(np.arange(nasbench201.NUM_ARCHS), list(line_of_row))
    first = nasbench201.to_string(nasbench201.from_op_ids(nasbench201.from_index(missing[0])))
    raise UsageError(f"NAS-Bench-201 table {path} lacks {len(missing)} of the "
                     f"{nasbench201.NUM_ARCHS} architectures, e.g. {first!r}; {_HOW_TO_GET}")
  accuracy.flags.writeable = False  # shared by every scorer of a run
  return Table(path, accuracy)


def _read_lines(path):
  try:
    with open(path, "rb") as handle:
      data = handle.read(MAX_FILE_BYTES + 1)
  except OSError as error:
    raise UsageError(f"NAS-Bench-201 table {path} cannot be read ({error.strerror or error}); "
                     f"{_HOW_TO_GET}") from None
  if len(data) > MAX_FILE_BYTES:
    raise UsageError(f"NAS-Bench-201 table {path} is over {MAX_FILE_BYTES:,} bytes, and the "
                     f"table is about 1.7 MB; {_HOW_TO_GET}")
  try:
    return data.decode("utf-8-sig").splitlines()
  except UnicodeDecodeError as error:
    raise UsageError(f"NAS-Bench-201 table {path} is not UTF-8 text (byte {error.start}); "
                     f"{_HOW_TO_GET}") from None


def _parse_line(path, line_number, line):
  """(table row, accuracies) of one line of the file."""
  where = f"NAS-Bench-201 table {path}, line {line_number}"
  fields = line.split(",")
  if len(fields) != len(HEADER):
    raise UsageError(f"{where}: {len(fields)} comma-separated field(s) in {line[:200]!r}, "
                     f"not {len(HEADER)} ({','.join(HEADER)})")
  try:
    row = nasbench201.arch_index(nasbench201.op_ids(nasbench201.parse(fields[0])))
  except UsageError as error:
    raise UsageError(f"{where}: {error}") from None
  values = []
  for dataset, text in zip(DATASETS, fields[1:]):
    try:
      value = float(text)
    except ValueError:
      raise UsageError(f"{where}: the {dataset} value {text!r} is not a number") from None
    if not 0.0 <= value <= 100.0:
      raise UsageError(f"{where}: the {dataset} value {text!r} is not a percentage in 0..100")
    values.append(value)
  return row, values


def halves(seed=0):
  """(first, second): the table rows in two disjoint sorted halves (7,812 and 7,813 rows)
  of a permutation seeded by `seed`.

  Input cells for training are drawn from the first; the second is never seen in
  training and measures how a policy does on cells it has not met. numpy's
  RandomState keeps its stream across versions, so a seed names the same halves.
  """
  check_integer("seed", seed, 0)
  order = np.random.RandomState(seed).permutation(nasbench201.NUM_ARCHS)
  middle = nasbench201.NUM_ARCHS // 2
  return np.sort(order[:middle]), np.sort(order[middle:])
