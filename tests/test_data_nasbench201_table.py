"""NAS-Bench-201's accuracy table (nat_tf.data.nasbench201_table): the values read back,
the split of the cells in halves, and one clear error per kind of damaged file."""

import csv
import time

import numpy as np
import pytest

from nat_tf.data import nasbench201_table as table_lib
from nat_tf.errors import UsageError
from nat_tf.space import nasbench201

RESNET = "|nor_conv_3x3~0|+|none~0|nor_conv_3x3~1|+|skip_connect~0|none~1|skip_connect~2|"
ALL_SKIP = ("|skip_connect~0|+|skip_connect~0|skip_connect~1|+|skip_connect~0|skip_connect~1|"
            "skip_connect~2|")
BEST_CIFAR10 = ("|nor_conv_3x3~0|+|nor_conv_1x1~0|nor_conv_3x3~1|+|skip_connect~0|"
                "nor_conv_1x1~1|nor_conv_3x3~2|")


def test_the_check_values_read_back(nasbench201_table):
  table = nasbench201_table
  assert [table.accuracy_of(RESNET, d) for d in ("cifar10", "cifar100", "ImageNet16-120")] == [
      90.66, 70.86, 43.6333]
  assert table.accuracy_of("resnet", "cifar10") == 90.66
  assert table.accuracy_of(nasbench201.parse(RESNET), "cifar100") == 70.86
  all_skip = [table.accuracy_of(ALL_SKIP, d) for d in ("cifar10", "cifar100", "ImageNet16-120")]
  assert [round(value, 2) for value in all_skip] == [39.98, 15.62, 15.87]
  assert table.accuracy_of(BEST_CIFAR10, "cifar10") == 91.57
  best = int(np.argmax(table.accuracy[:, 0]))
  assert table.accuracy[best, 0] == 91.57
  assert nasbench201.to_string(nasbench201.from_op_ids(nasbench201.from_index(best))) == (
      BEST_CIFAR10)


def test_every_row_holds_its_lines_values(nasbench201_table, nasbench201_table_path):
  """Read with the csv module, apart from the reader under test."""
  with open(nasbench201_table_path, newline="", encoding="utf-8") as handle:
    rows = list(csv.reader(handle))
  assert rows[0] == ["arch", "cifar10", "cifar100", "ImageNet16-120"]
  table = nasbench201_table
  assert table.accuracy.shape == (15625, 3) and table.accuracy.dtype == np.float64
  assert not table.accuracy.flags.writeable
  for arch, *values in rows[1:]:
    row = nasbench201.arch_index(nasbench201.op_ids(nasbench201.parse(arch)))
    assert table.accuracy[row].tolist() == [float(v) for v in values], arch
  assert table.path == nasbench201_table_path


def test_reading_takes_well_under_two_seconds(nasbench201_table_path):
  start = time.perf_counter()
  table_lib.load(nasbench201_table_path)
  assert time.perf_counter() - start < 2.0


def test_dataset_columns_and_an_unknown_dataset():
  assert [table_lib.dataset_column(d) for d in ("cifar10", "cifar100",
                                                         "ImageNet16-120")] == [0, 1, 2]
  for name, hint in [("imagenet16-120", "'ImageNet16-120'"), ("cifar-10", "'cifar10'")]:
    with pytest.raises(UsageError, match=f"unknown NAS-Bench-201 dataset '{name}'.*{hint}"):
      table_lib.dataset_column(name)


def test_the_halves_split_every_cell_in_two_fixed_sorted_halves():
  first, second = table_lib.halves()
  assert (len(first), len(second)) == (7812, 7813)
  assert np.array_equal(np.sort(np.concatenate([first, second])), np.arange(15625))
  assert np.all(np.diff(first) > 0) and np.all(np.diff(second) > 0)
  again_first, again_second = table_lib.halves(0)
  assert np.array_equal(first, again_first) and np.array_equal(second, again_second)
  other_first, _ = table_lib.halves(1)
  assert not np.array_equal(first, other_first)
  # A random half, not a block of rows: both halves hold low and high rows alike.
  assert 0.45 < np.mean(first < 15625 // 2) < 0.55
  for bad in (-1, 0.5, "0"):
    with pytest.raises(UsageError, match="seed="):
      table_lib.halves(bad)


@pytest.fixture(scope="module")
def table_lines(nasbench201_table_path):
  with open(nasbench201_table_path, encoding="utf-8") as handle:
    return handle.read().splitlines()


def _with_line(lines, number, text):
  """`lines` with line `number` (1-based, as error messages count) replaced by `text`."""
  return lines[:number - 1] + [text] + lines[number:]


def _damaged(lines, name):
  """Each damage: (new lines, the words its error must hold)."""
  bad_arch = lines[49].replace("~0", "~1", 1)  # group 1's edge from node 0 says node 1
  damages = {
      "empty": ([], "is empty"),
      "header": (_with_line(lines, 1, "arch,cifar10,cifar100,imagenet"),
                 "the header is 'arch,cifar10,cifar100,imagenet', not arch,cifar10,cifar100,"
                 "ImageNet16-120"),
      "fields": (_with_line(lines, 100, lines[99].rsplit(",", 1)[0]),
                 "line 100: 3 comma-separated field(s)"),
      "blank": (_with_line(lines, 200, ""), "line 200: 1 comma-separated field(s)"),
      "arch": (_with_line(lines, 50, bad_arch),
               f"line 50: NAS-Bench-201 architecture {bad_arch.split(',')[0]!r}: edge"),
      "number": (_with_line(lines, 7, lines[6].rsplit(",", 1)[0] + ",abc"),
                 "line 7: the ImageNet16-120 value 'abc' is not a number"),
      "above": (_with_line(lines, 8, lines[7].split(",")[0] + ",100.5,1,1"),
                "line 8: the cifar10 value '100.5' is not a percentage in 0..100"),
      "below": (_with_line(lines, 9, lines[8].split(",")[0] + ",1,-0.1,1"),
                "line 9: the cifar100 value '-0.1' is not a percentage"),
      "nan": (_with_line(lines, 9, lines[8].split(",")[0] + ",nan,1,1"),
              "line 9: the cifar10 value 'nan' is not a percentage"),
      "duplicate": (_with_line(lines, 10, lines[2]),
                    f"line 10: architecture {lines[2].split(',')[0]!r} is also on line 3"),
      "missing": (lines[:19] + lines[20:],
                  f"lacks 1 of the 15625 architectures, e.g. {lines[19].split(',')[0]!r}"),
  }
  return damages[name]


@pytest.mark.parametrize("name", ["empty", "header", "fields", "blank", "arch", "number", "above",
                                  "below", "nan", "duplicate", "missing"])
def test_a_damaged_table_gives_its_one_error(table_lines, tmp_path, name):
  lines, expected = _damaged(table_lines, name)
  path = tmp_path / "table.csv"
  path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
  with pytest.raises(UsageError) as error:
    table_lib.load(str(path))
  message = str(error.value)
  assert str(path) in message and expected in message, message


def test_an_unknown_op_in_the_table_is_named_with_its_line(table_lines, tmp_path):
  line = table_lines[1].replace("skip_connect~1", "skip_conect~1", 1)
  path = tmp_path / "table.csv"
  path.write_text("\n".join(_with_line(table_lines, 2, line)), encoding="utf-8")
  with pytest.raises(UsageError, match=r"line 2: .*unknown op 'skip_conect'.*did you mean"):
    table_lib.load(str(path))


def test_a_file_that_cannot_be_read_is_refused(tmp_path, table_lines, monkeypatch):
  for path, problem in [(tmp_path / "absent.csv", "No such file"), (tmp_path, "Is a directory")]:
    with pytest.raises(UsageError) as error:
      table_lib.load(str(path))
    assert f"NAS-Bench-201 table {path} cannot be read ({problem}" in str(error.value)
    assert "arch,cifar10,cifar100,ImageNet16-120" in str(error.value)  # how to get the table
  binary = tmp_path / "binary.csv"
  binary.write_bytes(b"arch,cifar10,cifar100,ImageNet16-120\n\xff\xfe\n")
  with pytest.raises(UsageError, match=f"{binary} is not UTF-8 text"):
    table_lib.load(str(binary))
  big = tmp_path / "big.csv"
  big.write_text("\n".join(table_lines), encoding="utf-8")
  monkeypatch.setattr(table_lib, "MAX_FILE_BYTES", 1000)
  with pytest.raises(UsageError, match=f"{big} is over 1,000 bytes"):
    table_lib.load(str(big))


def test_windows_line_ends_and_a_byte_order_mark_read_alike(table_lines, tmp_path,
                                                            nasbench201_table):
  path = tmp_path / "windows.csv"
  path.write_bytes(b"\xef\xbb\xbf" + "\r\n".join(table_lines).encode("utf-8"))
  assert np.array_equal(table_lib.load(str(path)).accuracy, nasbench201_table.accuracy)
