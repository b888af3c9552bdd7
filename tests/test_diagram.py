"""Cell diagrams: real PNGs, a readable layout, and red exactly where edges changed."""

import dataclasses
import io
import itertools
import os
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image, ImageChops

from nat_tf.errors import UsageError
from nat_tf.report import diagram
from nat_tf.space import catalogue

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def red_pixels(image):
  """Pixels near the highlight colour; nothing but changed edges may have it."""
  pixels = np.asarray(image.convert("RGB"), dtype=int)
  return int((np.abs(pixels - diagram.HIGHLIGHT) <= 40).all(axis=-1).sum())


def overlap(a, b):
  return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def test_png_bytes_reopen_as_the_same_image():
  image = diagram.genotype_image(catalogue.get("DARTS_V2"), "DARTS_V2")
  data = diagram.png_bytes(image)
  assert data.startswith(PNG_MAGIC)
  reopened = Image.open(io.BytesIO(data))
  assert reopened.format == "PNG" and reopened.size == image.size
  assert 600 < image.width < 4000 and 150 < image.height < 1500
  assert ImageChops.difference(reopened.convert("RGB"), image).getbbox() is None


def test_save_png_writes_a_png_and_leaves_no_temporary_file(tmp_path):
  path = tmp_path / "plots" / "enas.png"
  diagram.save_png(diagram.genotype_image(catalogue.get("ENAS")), str(path))
  assert path.read_bytes().startswith(PNG_MAGIC)
  assert Image.open(path).size[0] > 600
  assert os.listdir(path.parent) == ["enas.png"]


def test_comparison_is_a_grid_of_before_and_after_cells():
  before, after = catalogue.get("DARTS_V2"), catalogue.get("NAT_DARTS")
  image = diagram.comparison_image(before, after, ("DARTS_V2", "NAT_DARTS"))
  top_left = diagram.cell_image(before.normal, "DARTS_V2: normal cell")
  top_right = diagram.cell_image(before.reduce, "DARTS_V2: reduce cell")
  bottom_left = diagram.cell_image(after.normal, "NAT_DARTS: normal cell, 2 edges changed",
                                   {2, 4})
  assert image.width >= top_left.width + top_right.width
  assert image.height > top_left.height + bottom_left.height
  row_height = max(top_left.height, top_right.height)
  column_width = max(top_left.width, bottom_left.width)
  for panel, corner in ((top_left, (0, 0)), (top_right, (column_width, 0)),
                        (bottom_left, (0, row_height))):
    crop = image.crop((*corner, corner[0] + panel.width, corner[1] + panel.height))
    # The grid frames each panel with a one-pixel line; compare inside it.
    inner = (1, 1, panel.width - 1, panel.height - 1)
    assert ImageChops.difference(crop.crop(inner), panel.crop(inner)).getbbox() is None
  assert red_pixels(image.crop((0, 0, image.width, row_height))) == 0
  assert red_pixels(image.crop((0, row_height, image.width, image.height))) > 200


def along(image, cell, edge):
  """Neighbourhoods (3x3 pixels) of points every 3 px along an edge of a cell image,
  away from nodes and labels (which cover the line)."""
  layout = diagram.layout(cell)
  title_height = image.height - layout.size[1]
  pixels = np.asarray(image.convert("RGB"), dtype=int)
  boxes = [(x0 - 4, y0 - 4, x1 + 4, y1 + 4)
           for x0, y0, x1, y1 in [*layout.nodes.values(), *layout.labels.values()]]
  path = layout.paths[edge]
  for (x0, y0), (x1, y1) in zip(path, path[1:]):
    steps = max(1, int(np.hypot(x1 - x0, y1 - y0) // 3))
    for t in np.arange(steps) / steps:
      x, y = x0 + (x1 - x0) * t, y0 + (y1 - y0) * t
      if not any(b[0] < x < b[2] and b[1] < y < b[3] for b in boxes):
        row, column = round(y + title_height), round(x)
        yield pixels[row - 1:row + 2, column - 1:column + 2].reshape(-1, 3)


def test_changed_edges_are_red_along_their_whole_length():
  cell = catalogue.get("DARTS_V2").normal
  image = diagram.cell_image(cell, "normal", changed={6})
  red = [(np.abs(near - diagram.HIGHLIGHT) <= 40).all(axis=-1).any()
         for near in along(image, cell, 6)]
  assert len(red) > 50 and all(red)
  assert not any((np.abs(near - diagram.HIGHLIGHT) <= 40).all(axis=-1).any()
                 for near in along(image, cell, 7))


def test_null_edges_are_dashed_and_other_edges_solid():
  cell = catalogue.get("VGG").normal  # edge 0 is null, edge 1 skip_connect
  image = diagram.cell_image(cell, "normal")
  assert any((near > 235).all() for near in along(image, cell, 0))
  assert not any((near > 235).all() for near in along(image, cell, 1))


def test_red_appears_exactly_when_edges_changed():
  darts, nat_darts = catalogue.get("DARTS_V2"), catalogue.get("NAT_DARTS")
  assert red_pixels(diagram.comparison_image(darts, nat_darts)) > 200
  assert red_pixels(diagram.comparison_image(darts, darts)) == 0
  assert red_pixels(diagram.genotype_image(nat_darts)) == 0
  assert red_pixels(diagram.cell_image(darts.normal, "normal")) == 0
  assert red_pixels(diagram.cell_image(darts.normal, "normal", changed={6})) > 100


def test_changed_edges_are_the_edges_whose_op_differs():
  darts, nat_darts = catalogue.get("DARTS_V2"), catalogue.get("NAT_DARTS")
  assert diagram.changed_edges(darts.normal, nat_darts.normal) == {2, 4}
  assert diagram.changed_edges(darts.reduce, nat_darts.reduce) == {1, 3, 5}
  assert diagram.changed_edges(darts.normal, darts.normal) == set()


def test_topology_mismatch_is_a_usage_error():
  darts = catalogue.get("DARTS_V2")
  with pytest.raises(UsageError, match="4 intermediate nodes before, 5 after"):
    diagram.comparison_image(darts, catalogue.get("ENAS"))
  with pytest.raises(UsageError, match=r"normal cells differ in topology at edge 0: 0->2"):
    diagram.comparison_image(darts, catalogue.get("R1"))
  other_concat = darts.replace(reduce=dataclasses.replace(darts.reduce, concat=(5,)))
  with pytest.raises(UsageError, match="reduce cells concatenate different nodes"):
    diagram.comparison_image(darts, other_concat)


def test_changed_must_name_edges_of_the_cell():
  with pytest.raises(UsageError, match=r"changed edges \[8\]"):
    diagram.cell_image(catalogue.get("DARTS_V2").normal, "normal", changed={1, 8})


@pytest.mark.parametrize("name", catalogue.names())
def test_layout_keeps_labels_nodes_and_edges_apart(name):
  for cell in catalogue.get(name).cells.values():
    layout = diagram.layout(cell)
    boxes = list(layout.nodes.values()) + list(layout.labels.values())
    assert len(layout.nodes) == cell.num_nodes + 3 and len(layout.labels) == len(cell.edges)
    for a, b in itertools.combinations(boxes, 2):
      assert not overlap(a, b)
    for box in boxes:
      assert 0 <= box[0] < box[2] <= layout.size[0] and 0 <= box[1] < box[3] <= layout.size[1]
    ends = [(layout.paths[i], e.src, e.dst) for i, e in enumerate(cell.edges)]
    ends += [(layout.concat_paths[n], n, diagram.OUTPUT) for n in cell.concat]
    for path, src, dst in ends:
      assert path[0][0] == layout.nodes[src][2] and path[-1][0] == layout.nodes[dst][0]
      # Inside the path stays clear of every node, its own two included.
      for x, y in path[1:-1]:
        for node in layout.nodes.values():
          assert not node[0] + 1 < x < node[2] - 1 or not node[1] + 1 < y < node[3] - 1


def test_both_inputs_from_one_node_get_two_curves_and_two_labels():
  cell = catalogue.get("R1").normal  # node 2 reads node 1 twice through dil_conv_5x5
  assert cell.edges[0] == cell.edges[1]
  layout = diagram.layout(cell)
  assert layout.paths[0] != layout.paths[1]
  assert layout.paths[0][0] != layout.paths[1][0] and layout.paths[0][-1] != layout.paths[1][-1]
  assert not overlap(layout.labels[0], layout.labels[1])


def test_diagrams_do_not_import_tensorflow():
  code = "import sys, nat_tf.report.diagram; sys.exit('tensorflow' in sys.modules)"
  assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
