"""Reading and writing genotypes: the DARTS/NAT Python literal and JSON.

The literal is read with `ast` and walked as data: only `Genotype(...)`, lists,
tuples, strings, integers and `range(a, b)` are accepted, so a genotype file from
someone else can never run code (no eval/exec anywhere). Both the DARTS pair
format `(op, src)` (edge 2i and 2i+1 feed node i + 2) and NAT's triple format
`(op, src, dst)` are read; writing uses the triple format, or pairs on request.

A genotype file is also bounded: its size, the length of every list (a cell's
edges are the longest), the digits of every integer and the nesting depth are
checked while reading, before anything is built from them, so a small hostile file
cannot take the memory or the CPU of whoever reads it.
"""

import ast
import json
import os

from nat_tf.space import genotype as genotype_lib

_FIELDS = ("normal", "normal_concat", "reduce", "reduce_concat")

MAX_FILE_BYTES = 1 << 20
MAX_NODES = genotype_lib.MAX_NODES
MAX_LIST_ITEMS = 2 * MAX_NODES  # a cell's edges: two per node
MAX_INTEGER_DIGITS = 6
# Genotype(...) -> cell list -> edge tuple is 3 deep; JSON object -> list -> list too.
MAX_DEPTH = 8


def read_file(path):
  """A validated Genotype from the file at `path`: at most MAX_FILE_BYTES of UTF-8 text
  (a byte order mark is allowed) in any format `parse` reads."""
  try:
    size = os.path.getsize(path)
    if size > MAX_FILE_BYTES:
      raise genotype_lib.GenotypeError(
          f"genotype file {path!r} has {size:,} bytes; a genotype file has at most "
          f"{MAX_FILE_BYTES:,}")
    with open(path, "rb") as handle:
      data = handle.read(MAX_FILE_BYTES + 1)
  except OSError as error:
    raise genotype_lib.GenotypeError(f"genotype file {path!r} cannot be read: "
                                     f"{error.strerror}") from None
  try:
    text = data.decode("utf-8-sig")
  except UnicodeDecodeError as error:
    raise genotype_lib.GenotypeError(
        f"genotype file {path!r} is not UTF-8 text (byte {error.start}: "
        f"{data[error.start:error.start + 1]!r}); save it as UTF-8") from None
  return parse(text)


def parse(text):
  """A validated Genotype from a DARTS/NAT literal or a JSON object (at most MAX_FILE_BYTES
  characters)."""
  if len(text) > MAX_FILE_BYTES:
    raise genotype_lib.GenotypeError(f"genotype text has {len(text):,} characters; a genotype "
                                     f"has at most {MAX_FILE_BYTES:,}")
  stripped = text.strip()
  if stripped.startswith("{") or stripped.startswith("["):
    return from_json(stripped)
  return _from_literal(stripped)


def from_json(text):
  _check_json_nesting(text)
  try:
    data = json.loads(text, parse_int=_json_integer)
  except json.JSONDecodeError as error:
    raise genotype_lib.GenotypeError(f"genotype JSON is malformed: {error}") from None
  if not isinstance(data, dict):
    raise genotype_lib.GenotypeError("genotype JSON must be an object with keys "
                                     f"{list(_FIELDS)}")
  return _from_fields(data)


def _check_json_nesting(text):
  """Refuse JSON nested deeper than MAX_DEPTH in one linear scan, before json.loads (whose
  recursion a deep enough file exhausts)."""
  depth, in_string, escaped = 0, False, False
  for char in text:
    if in_string:
      if escaped:
        escaped = False
      elif char == "\\":
        escaped = True
      elif char == '"':
        in_string = False
    elif char == '"':
      in_string = True
    elif char in "[{":
      depth += 1
      if depth > MAX_DEPTH:
        raise genotype_lib.GenotypeError(f"genotype JSON is nested more than {MAX_DEPTH} deep; "
                                         "a genotype needs 3 levels")
    elif char in "]}":
      depth -= 1


def _json_integer(digits):
  _check_digits(digits.lstrip("-"))
  return int(digits)


def _check_digits(digits):
  if len(digits) > MAX_INTEGER_DIGITS:
    raise genotype_lib.GenotypeError(
        f"genotype holds an integer of {len(digits)} digits ({digits[:12]}...); node indices "
        f"have at most {MAX_INTEGER_DIGITS} digits")


def _from_literal(text):
  try:
    tree = ast.parse(text, mode="exec")
  except SyntaxError as error:
    if "integer string conversion" in error.msg:
      raise genotype_lib.GenotypeError(
          f"genotype holds an integer of more than 4300 digits at line {error.lineno}; node "
          f"indices have at most {MAX_INTEGER_DIGITS} digits") from None
    raise genotype_lib.GenotypeError(
        f"genotype text is not a Genotype literal: {error.msg} at line {error.lineno}") from None
  except (RecursionError, MemoryError):
    raise genotype_lib.GenotypeError(
        "genotype text is too deeply nested to read (an expression of thousands of terms?); "
        "it must be a Genotype(...) of lists and tuples") from None
  if len(tree.body) != 1:
    raise genotype_lib.GenotypeError("genotype text must hold exactly one Genotype(...) "
                                     f"expression, found {len(tree.body)} statements")
  statement = tree.body[0]
  if isinstance(statement, ast.Assign):
    node = statement.value
  elif isinstance(statement, ast.Expr):
    node = statement.value
  else:
    raise genotype_lib.GenotypeError("genotype text must be a Genotype(...) expression, "
                                     f"found a {type(statement).__name__} statement")
  if not (isinstance(node, ast.Call) and _call_name(node) == "Genotype"):
    raise genotype_lib.GenotypeError(
        f"genotype text must be a Genotype(...) call, found {_describe(node)}")
  if len(node.args) > len(_FIELDS):
    raise genotype_lib.GenotypeError(f"Genotype takes at most {len(_FIELDS)} arguments")
  fields = dict(zip(_FIELDS, (_value(arg) for arg in node.args)))
  for keyword in node.keywords:
    if keyword.arg is None:
      raise genotype_lib.GenotypeError("Genotype(**...) is not allowed in a genotype literal")
    fields[keyword.arg] = _value(keyword.value)
  return _from_fields(fields)


def _call_name(node):
  if isinstance(node.func, ast.Name):
    return node.func.id
  if isinstance(node.func, ast.Attribute):
    return node.func.attr
  return None


def _describe(node):
  if isinstance(node, ast.Call):
    return f"a call to {ast.unparse(node.func)!r} at line {node.lineno}"
  return f"{type(node).__name__} at line {getattr(node, 'lineno', '?')}"


def _value(node, depth=1):
  """The plain data a literal node denotes, within the limits; anything executable is
  refused."""
  if depth > MAX_DEPTH:
    raise genotype_lib.GenotypeError(f"genotype text is nested more than {MAX_DEPTH} deep "
                                     f"at line {node.lineno}; a genotype needs 3 levels")
  if isinstance(node, ast.Constant) and isinstance(node.value, bool):
    raise genotype_lib.GenotypeError(f"{node.value} is not a node index (line {node.lineno}); "
                                     "give an integer")
  if isinstance(node, ast.Constant) and isinstance(node.value, int):
    _check_digits(str(abs(node.value)))
    return node.value
  if isinstance(node, ast.Constant) and isinstance(node.value, str):
    return node.value
  if isinstance(node, (ast.List, ast.Tuple)):
    _check_length(len(node.elts), f"a list at line {node.lineno}")
    return [_value(element, depth + 1) for element in node.elts]
  if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "range"
      and not node.keywords and 1 <= len(node.args) <= 2):
    bounds = [_value(arg, depth + 1) for arg in node.args]
    if all(_is_integer(bound) for bound in bounds):
      _check_length(len(range(*bounds)), ast.unparse(node))
      return list(range(*bounds))
  raise genotype_lib.GenotypeError(
      f"genotype text is not data: found {_describe(node)}; only lists, tuples, strings, "
      "integers and range(a, b) are allowed")


def _check_length(length, what):
  if length > MAX_LIST_ITEMS:
    raise genotype_lib.GenotypeError(
        f"{what} has {length} items; a genotype list holds at most {MAX_LIST_ITEMS} (the edges "
        f"of a cell of at most {MAX_NODES} nodes)")


def _is_integer(value):
  """Whether `value` is an integer node index: JSON's true/false are bools, not nodes."""
  return isinstance(value, int) and not isinstance(value, bool)


def _from_fields(fields):
  unknown = set(fields) - set(_FIELDS)
  missing = [field for field in _FIELDS if field not in fields]
  if unknown or missing:
    raise genotype_lib.GenotypeError(
        f"genotype fields must be {list(_FIELDS)}; unknown {sorted(unknown)}, missing {missing}")
  cells = {}
  for name in ("normal", "reduce"):
    edges = _edges(name, fields[name])
    concat = fields[f"{name}_concat"]
    if not isinstance(concat, list) or not all(_is_integer(n) for n in concat):
      raise genotype_lib.GenotypeError(f"{name}_concat must be a list of node indices, "
                                       f"got {concat!r}")
    cells[name] = (edges, concat)
  return genotype_lib.make_genotype(cells["normal"][0], cells["normal"][1],
                                    cells["reduce"][0], cells["reduce"][1])


def _edges(name, entries):
  """(op, src, dst) triples from triples or DARTS pairs."""
  if not isinstance(entries, list) or not entries:
    raise genotype_lib.GenotypeError(f"{name} cell must be a non-empty list of edges, "
                                     f"got {entries!r}")
  _check_length(len(entries), f"the {name} cell")
  edges = []
  for index, entry in enumerate(entries):
    shape_ok = (isinstance(entry, list) and len(entry) in (2, 3) and isinstance(entry[0], str)
                and all(_is_integer(n) for n in entry[1:]))
    if not shape_ok:
      raise genotype_lib.GenotypeError(
          f"{name} cell, edge {index}: {entry!r} is neither (op, src) nor (op, src, dst)")
    if len(entry) != len(entries[0]):
      raise genotype_lib.GenotypeError(
          f"{name} cell, edge {index}: mixes (op, src) pairs with (op, src, dst) triples")
    edges.append(tuple(entry) if len(entry) == 3 else (entry[0], entry[1], index // 2 + 2))
  return edges


def to_literal(genotype, pairs=False):
  """The Python literal of `genotype`: NAT triples, or DARTS pairs if `pairs`."""

  def edges(cell):
    if pairs:
      return "[" + ", ".join(f"({e.op!r}, {e.src})" for e in cell.edges) + "]"
    return "[" + ", ".join(f"({e.op!r}, {e.src}, {e.dst})" for e in cell.edges) + "]"

  return (f"Genotype(normal={edges(genotype.normal)}, normal_concat={list(genotype.normal.concat)}, "
          f"reduce={edges(genotype.reduce)}, reduce_concat={list(genotype.reduce.concat)})")


def to_dict(genotype):
  data = {}
  for name, cell in genotype.cells.items():
    data[name] = [[e.op, e.src, e.dst] for e in cell.edges]
    data[f"{name}_concat"] = list(cell.concat)
  return {field: data[field] for field in _FIELDS}


def to_json(genotype):
  return json.dumps(to_dict(genotype), indent=1)
