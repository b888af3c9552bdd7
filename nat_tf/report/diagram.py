"""Cell diagrams drawn with Pillow alone: a cell, a genotype, or a before/after pair.

NAT's result is an edit of its input, so the picture that matters is the pair with
the edited edges marked. Pillow comes with TF-Agents; matplotlib and graphviz are
not project dependencies, so the layout is done here, as a small layered drawing:
nodes go left to right by depth, and every edge runs through its own slot in each
column it crosses, so it never passes through a node. Between two node columns
sits a label column holding one slot per edge that ends in the next node column;
op labels therefore never overlap each other or a node, and two edges between the
same pair of nodes (allowed, the reference code) get two curves and two labels.
Everything is drawn at twice the size and scaled down, for smooth curves and text.
"""

import dataclasses
import functools
import io
import itertools
import math

from PIL import Image, ImageDraw, ImageFont

from nat_tf import atomic
from nat_tf.errors import UsageError
from nat_tf.space import genotype as genotype_lib
from nat_tf.space import ops

HIGHLIGHT = (214, 39, 40)  # edges a transformation changed; no other element uses red
OUTPUT = "out"  # key of the output node c_{k} among the nodes 0..N+1 of a Layout

_INK = (45, 45, 45)
_SKIP_INK = (31, 119, 180)
_NULL_INK = (180, 180, 180)
_NULL_TEXT = (125, 125, 125)
_CONCAT_INK = (150, 150, 150)
_FRAME = (215, 215, 215)
_FILLS = {"input": (197, 230, 197), "node": (196, 222, 240), "output": (240, 233, 170)}

_SS = 2  # supersampling factor
_TEXT = {"node": 14, "label": 13, "title": 16}  # font sizes in output pixels
_NODE_H, _NODE_MIN_W, _POINT_H, _GAP, _COLUMN_GAP, _MARGIN, _PAD = 30, 44, 6, 8, 46, 14, 5
_PORT_STEP, _ARROW, _DASH = 6, 9, (7, 5)


@functools.lru_cache(maxsize=None)
def _font(size):
  """Pillow's bundled font at a pixel size, so no drawing depends on system fonts."""
  try:
    return ImageFont.load_default(size=size)
  except TypeError:
    raise RuntimeError("cell diagrams need Pillow >= 10.1 (ImageFont.load_default(size=...))") \
        from None


def _text_size(text, kind):
  """Width and line height of `text` in output pixels."""
  font = _font(_TEXT[kind] * _SS)
  left, _, right, _ = font.getbbox(text)
  return (right - left) / _SS, sum(font.getmetrics()) / _SS


def _node_name(node):
  """genotype.node_name, as printed reports name nodes; the output, the concatenation,
  DARTS's c_{k}."""
  return "c_{k}" if node == OUTPUT else genotype_lib.node_name(node)


@dataclasses.dataclass(frozen=True)
class Layout:
  """Where everything of one cell goes, in output pixels (x right, y down).

  Boxes are (x0, y0, x1, y1); `paths` and `concat_paths` are polylines from the
  source node's box to the target's, keyed by edge index and by concat node.
  """
  size: tuple
  nodes: dict
  labels: dict
  paths: dict
  concat_paths: dict


def _depths(cell):
  """Longest-path depth of each node: inputs 0, the output one past the deepest node."""
  depth = {0: 0, 1: 0}
  for edge in cell.edges:  # sorted by target, so every source is known first
    depth[edge.dst] = max(depth.get(edge.dst, 0), depth[edge.src] + 1)
  depth[OUTPUT] = max(depth.values()) + 1
  return depth


def _chains(cell, depth):
  """Every edge as a chain of items, one per column from its source to its target.

  Node columns are even (2 * depth), label columns odd. A node item is
  ("node", n); the item of a chain in column c is (key, c).
  """
  links = [(("edge", i), e.src, e.dst) for i, e in enumerate(cell.edges)]
  links += [(("concat", n), n, OUTPUT) for n in cell.concat]
  return {key: [("node", src)] + [(key, c) for c in range(2 * depth[src] + 1, 2 * depth[dst])]
          + [("node", dst)] for key, src, dst in links}


def _crossings(columns, successors):
  """Pairs of segments that cross between neighbouring columns."""
  total = 0
  for left, right in zip(columns, columns[1:]):
    row = {item: i for i, item in enumerate(right)}
    segments = [(i, row[b]) for i, a in enumerate(left) for b in successors.get(a, ())]
    total += sum((a1 - a2) * (b1 - b2) < 0
                 for (a1, b1), (a2, b2) in itertools.combinations(segments, 2))
  return total


def _order(columns, predecessors, successors, sweeps=8):
  """Orders items within columns by the barycentre heuristic, keeping the best sweep.

  Nodes keep their index order down each column (c_{k-2} above c_{k-1}, node 2
  above node 3), as a reader expects; edges passing through move around them.
  """
  best, best_crossings = columns, _crossings(columns, successors)
  current = [list(column) for column in columns]
  for sweep in range(sweeps):
    forward = sweep % 2 == 0
    inner = range(1, len(current) - 1)
    for c in inner if forward else reversed(inner):
      if forward:
        current[c] = _by_barycentre(current[c], current[c - 1], predecessors)
      else:
        current[c] = _by_barycentre(current[c], current[c + 1], successors)
    crossings = _crossings(current, successors)
    if crossings < best_crossings:
      best, best_crossings = [list(column) for column in current], crossings
  return _transpose(best, successors)


def _transpose(columns, successors):
  """Swaps neighbours in columns while that removes crossings (two nodes never swap),
  which untangles what the barycentre heuristic leaves behind."""
  columns = [list(column) for column in columns]
  best, improved = _crossings(columns, successors), True
  while improved:
    improved = False
    for column in columns[1:-1]:
      for i in range(len(column) - 1):
        if column[i][0] == column[i + 1][0] == "node":
          continue
        column[i], column[i + 1] = column[i + 1], column[i]
        crossings = _crossings(columns, successors)
        if crossings < best:
          best, improved = crossings, True
        else:
          column[i], column[i + 1] = column[i + 1], column[i]
  return columns


def _by_barycentre(column, neighbours, links):
  """`column` sorted by the mean height of each item's links into `neighbours`."""
  height = {item: (i + 0.5) / len(neighbours) for i, item in enumerate(neighbours)}

  def barycentre(i):
    linked = links.get(column[i])
    return (sum(height[n] for n in linked) / len(linked) if linked
            else (i + 0.5) / len(column)), i
  ordered = [column[i] for i in sorted(range(len(column)), key=barycentre)]
  nodes = iter(sorted(item for item in ordered if item[0] == "node"))
  return [next(nodes) if item[0] == "node" else item for item in ordered]


def layout(cell):
  """Places the nodes, edge paths and op labels of `cell` (see the module docstring)."""
  depth = _depths(cell)
  chains = _chains(cell, depth)
  predecessors, successors = {}, {}
  for chain in chains.values():
    for a, b in zip(chain, chain[1:]):
      successors.setdefault(a, []).append(b)
      predecessors.setdefault(b, []).append(a)
  columns = [[] for _ in range(2 * depth[OUTPUT] + 1)]
  for node in [*range(cell.num_nodes + 2), OUTPUT]:
    columns[2 * depth[node]].append(("node", node))
  for chain in chains.values():
    for item in chain[1:-1]:
      columns[item[1]].append(item)
  columns = _order(columns, predecessors, successors)
  label_items = {chains[("edge", i)][-2]: i for i in range(len(cell.edges))}
  sizes = {item: _size(item, cell, label_items) for column in columns for item in column}
  heights = [sum(sizes[item][1] for item in column) + _GAP * (len(column) - 1)
             for column in columns]
  widths = [max(sizes[item][0] for item in column) for column in columns]
  left = [_MARGIN + sum(widths[:c]) + _COLUMN_GAP * c for c in range(len(columns))]
  centre_y = _MARGIN + max(heights) / 2
  place = {}  # item -> (column, centre x, centre y)
  for c, column in enumerate(columns):
    y = centre_y - heights[c] / 2
    for item in column:
      place[item] = (c, left[c] + widths[c] / 2, y + sizes[item][1] / 2)
      y += sizes[item][1] + _GAP

  def box(item):
    _, x, y = place[item]
    width, height = sizes[item]
    return (x - width / 2, y - height / 2, x + width / 2, y + height / 2)

  ports = _ports(place, predecessors, successors)
  paths = {}
  for key, chain in chains.items():
    points = [(box(chain[0])[2], ports[chain[0], chain[1]])]
    for item in chain[1:-1]:
      c, _, y = place[item]
      points += _curve(points[-1], (left[c], y)) + [(left[c] + widths[c], y)]
    points += _curve(points[-1], (box(chain[-1])[0], ports[chain[-1], chain[-2]]))
    paths[key] = points
  return Layout(
      size=(math.ceil(left[-1] + widths[-1] + _MARGIN), math.ceil(max(heights) + 2 * _MARGIN)),
      nodes={item[1]: box(item) for item in place if item[0] == "node"},
      labels={i: box(item) for item, i in label_items.items()},
      paths={key[1]: path for key, path in paths.items() if key[0] == "edge"},
      concat_paths={key[1]: path for key, path in paths.items() if key[0] == "concat"})


def _size(item, cell, label_items):
  """Width and height of an item: a node box, an op label, or a bare line."""
  if item[0] == "node":
    width = _text_size(_node_name(item[1]), "node")[0] + 4 * _PAD
    return max(width, _NODE_MIN_W), _NODE_H
  if item in label_items:
    width, height = _text_size(cell.edges[label_items[item]].op, "label")
    return width + 2 * _PAD, height + _PAD
  return 0, _POINT_H


def _ports(place, predecessors, successors):
  """The y at which each edge leaves or enters a node: spread out, in the order of
  the edges' other ends, so edges sharing a node neither cross nor overlap there."""
  ports = {}
  for item in place:
    if item[0] != "node":
      continue
    for links in (predecessors.get(item, []), successors.get(item, [])):
      ordered = sorted(links, key=lambda other: place[other][2])
      step = min(_PORT_STEP, 0.7 * _NODE_H / max(len(ordered) - 1, 1))
      for i, other in enumerate(ordered):
        ports[item, other] = place[item][2] + (i - (len(ordered) - 1) / 2) * step
  return ports


def _curve(start, end, samples=16):
  """Points after `start` of a cubic Bezier to `end`, horizontal at both ends."""
  (x0, y0), (x1, y1) = start, end
  if y0 == y1:
    return [end]
  mid = (x0 + x1) / 2
  points = []
  for k in range(1, samples + 1):
    t = k / samples
    a, b, c, d = (1 - t) ** 3, 3 * (1 - t) ** 2 * t, 3 * (1 - t) * t ** 2, t ** 3
    points.append((a * x0 + (b + c) * mid + d * x1, (a + b) * y0 + (c + d) * y1))
  return points


def _dashes(points, on, off):
  """The pieces of a polyline drawn when it is dashed `on` pixels on, `off` off."""
  dashes, current, drawing, left = [], [points[0]], True, on
  for (x0, y0), (x1, y1) in zip(points, points[1:]):
    length, done = math.hypot(x1 - x0, y1 - y0), 0.0
    while length - done > left:
      done += left
      point = (x0 + (x1 - x0) * done / length, y0 + (y1 - y0) * done / length)
      if drawing:
        dashes.append(current + [point])
      current = [point]
      drawing = not drawing
      left = on if drawing else off
    left -= length - done
    if drawing:
      current.append((x1, y1))
  if drawing and len(current) > 1:
    dashes.append(current)
  return dashes


def _scaled(points):
  return [(x * _SS, y * _SS) for x, y in points]


def _line(draw, points, ink, width, dashed=False):
  for piece in _dashes(points, *_DASH) if dashed else [points]:
    draw.line(_scaled(piece), fill=ink, width=round(width * _SS), joint="curve")


def _arrow(draw, points, ink, width, dashed):
  """The path drawn up to an arrowhead that ends on the target node's border."""
  (xa, ya), (xb, yb) = points[-2], points[-1]
  length = math.hypot(xb - xa, yb - ya) or 1.0
  ux, uy = (xb - xa) / length, (yb - ya) / length
  size = _ARROW + width
  base = (xb - ux * size, yb - uy * size)
  _line(draw, points[:-1] + [base], ink, width, dashed)
  half = size * 0.45
  draw.polygon(_scaled([(xb, yb), (base[0] - uy * half, base[1] + ux * half),
                        (base[0] + uy * half, base[1] - ux * half)]), fill=ink)


def _edge_style(op, changed):
  """Ink, text ink, line width and dashing of an edge: skip blue, null grey and
  dashed, changed red and thick."""
  op_class = ops.op_class(op)
  ink = {ops.OpClass.SKIP: _SKIP_INK, ops.OpClass.NULL: _NULL_INK}.get(op_class, _INK)
  text = _NULL_TEXT if op_class == ops.OpClass.NULL else ink
  if changed:
    ink = text = HIGHLIGHT
  return ink, text, 4 if changed else 2, op_class == ops.OpClass.NULL


def _canvas(width, height):
  image = Image.new("RGB", (round(width * _SS), round(height * _SS)), "white")
  return image, ImageDraw.Draw(image)


def _finish(image):
  size = (image.width // _SS, image.height // _SS)
  return image.resize(size, Image.Resampling.LANCZOS)


def _text(draw, xy, text, kind, ink=_INK, anchor="mm"):
  draw.text(_scaled([xy])[0], text, fill=ink, font=_font(_TEXT[kind] * _SS), anchor=anchor)


def cell_image(cell, title, changed=None):
  """A DAG drawing of `cell` under `title`; edge indices in `changed` in red."""
  changed = frozenset(changed or ())
  unknown = sorted(i for i in changed if not 0 <= i < len(cell.edges))
  if unknown:
    raise UsageError(f"changed edges {unknown} are not edges of a cell with "
                     f"{len(cell.edges)} edges (0..{len(cell.edges) - 1})")
  geometry = layout(cell)
  title_w, title_h = _text_size(title, "title")
  title_h += 2 * _PAD
  image, draw = _canvas(max(geometry.size[0], title_w + 2 * _MARGIN), geometry.size[1] + title_h)
  _text(draw, (_MARGIN, _PAD + title_h / 2), title, "title", anchor="lm")

  def down(points):
    return [(x, y + title_h) for x, y in points]

  for path in geometry.concat_paths.values():
    _arrow(draw, down(path), _CONCAT_INK, 1.5, False)
  # Null edges first and changed ones last, so what matters is drawn on top.
  order = sorted(geometry.paths, key=lambda i: (i in changed, cell.edges[i].op != ops.NULL))
  for i in order:
    ink, _, width, dashed = _edge_style(cell.edges[i].op, i in changed)
    _arrow(draw, down(geometry.paths[i]), ink, width, dashed)
  for node, box in geometry.nodes.items():
    kind = "output" if node == OUTPUT else "input" if node < 2 else "node"
    draw.rounded_rectangle(_scaled(down([box[:2], box[2:]])), radius=6 * _SS,
                           fill=_FILLS[kind], outline=(90, 90, 90), width=_SS)
    _text(draw, ((box[0] + box[2]) / 2, (box[1] + box[3]) / 2 + title_h), _node_name(node), "node")
  for i, box in geometry.labels.items():
    _, text_ink, _, _ = _edge_style(cell.edges[i].op, i in changed)
    outline = HIGHLIGHT if i in changed else None
    draw.rectangle(_scaled(down([box[:2], box[2:]])), fill="white", outline=outline, width=_SS)
    _text(draw, ((box[0] + box[2]) / 2, (box[1] + box[3]) / 2 + title_h), cell.edges[i].op,
          "label", text_ink)
  return _finish(image)


def changed_edges(before, after, name="cell"):
  """Indices of the edges of cell `after` whose op differs from `before`'s.

  Transformations change ops only, and pruning leaves dead nodes out of the concat, so
  the cells must have the same edges (source, target) and `after` must output the
  nodes `before` does but those dead in `after`; otherwise a UsageError names the
  difference.
  """
  if len(before.edges) != len(after.edges):
    raise UsageError(f"{name} cells differ in topology: {before.num_nodes} intermediate nodes "
                     f"before, {after.num_nodes} after; a comparison needs one graph with "
                     "other ops")
  for i, (old, new) in enumerate(zip(before.edges, after.edges)):
    if (old.src, old.dst) != (new.src, new.dst):
      raise UsageError(f"{name} cells differ in topology at edge {i}: {old.src}->{old.dst} "
                       f"before, {new.src}->{new.dst} after; a comparison needs one graph "
                       "with other ops")
  left_out = set(before.concat) - set(after.concat)
  if not set(after.concat) <= set(before.concat) or not left_out <= set(after.dead_nodes()):
    raise UsageError(f"{name} cells concatenate different nodes: {list(before.concat)} before, "
                     f"{list(after.concat)} after (a transformation leaves only dead nodes out)")
  return frozenset(i for i, (old, new) in enumerate(zip(before.edges, after.edges))
                   if old.op != new.op)


def _edges(count):
  return f"{count} edge{'' if count == 1 else 's'}"


def _legend(changed=None):
  """One line of samples: the kinds of edge and, in a comparison, what changed."""
  entries = [("computational op", _INK, 2, False), (ops.SKIP, _SKIP_INK, 2, False),
             (f"{ops.NULL} (edge removed)", _NULL_INK, 2, True)]
  if changed:
    entries.append((f"changed by the transformation ({_edges(changed)})", HIGHLIGHT, 4, False))
  elif changed == 0:
    entries.append(("no edge changed", None, 0, False))
  sample = 34  # a line sample and its space, before an entry's text
  widths = [(sample if ink else 0) + _text_size(text, "label")[0] + 24
            for text, ink, _, _ in entries]
  height = _text_size("Ag", "label")[1] + 2 * _PAD
  image, draw = _canvas(_MARGIN + sum(widths), height)
  x, y = _MARGIN, height / 2
  for (text, ink, line_width, dashed), width in zip(entries, widths):
    if ink:
      _line(draw, [(x, y), (x + sample - 6, y)], ink, line_width, dashed)
    _text(draw, (x + (sample if ink else 0), y), text, "label", anchor="lm")
    x += width
  return _finish(image)


def _grid(rows, changed=None):
  """Panels in rows and columns, framed, above a legend."""
  widths = [max(row[c].width for row in rows) for c in range(len(rows[0]))]
  heights = [max(panel.height for panel in row) for row in rows]
  legend = _legend(changed)
  image = Image.new("RGB", (max(sum(widths), legend.width), sum(heights) + legend.height),
                    "white")
  draw = ImageDraw.Draw(image)
  for r, row in enumerate(rows):
    for c, panel in enumerate(row):
      x, y = sum(widths[:c]), sum(heights[:r])
      image.paste(panel, (x, y))
      draw.rectangle((x, y, x + widths[c] - 1, y + heights[r] - 1), outline=_FRAME)
  image.paste(legend, (0, sum(heights)))
  return image


def genotype_image(genotype, name=None):
  """Both cells of `genotype` side by side."""
  prefix = f"{name}: " if name else ""
  return _grid([[cell_image(cell, f"{prefix}{cell_name} cell")
                 for cell_name, cell in genotype.cells.items()]])


def comparison_image(before, after, names=("before", "after")):
  """Normal and reduce cells of `before` (top row) and `after` (bottom row), with the
  edges `after` changed in red; raises UsageError unless both share their topology."""
  changes = {cell_name: changed_edges(cell, after.cells[cell_name], cell_name)
             for cell_name, cell in before.cells.items()}
  top = [cell_image(cell, f"{names[0]}: {cell_name} cell")
         for cell_name, cell in before.cells.items()]
  bottom = [cell_image(after.cells[cell_name],
                       f"{names[1]}: {cell_name} cell, {_edges(len(changes[cell_name]))} changed",
                       changes[cell_name]) for cell_name in before.cells]
  return _grid([top, bottom], sum(len(c) for c in changes.values()))


def png_bytes(image):
  """`image` encoded as PNG (also what tf.image.decode_png reads for summaries)."""
  stream = io.BytesIO()
  image.save(stream, format="PNG")
  return stream.getvalue()


def save_png(image, path):
  """Writes `image` to `path` as a PNG, atomically."""
  atomic.write_bytes(path, png_bytes(image))
