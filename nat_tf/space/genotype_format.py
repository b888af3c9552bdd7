"""Reading and writing genotypes: the DARTS/NAT Python literal and JSON.

The literal is read with `ast` and walked as data: only `Genotype(...)`, lists,
tuples, strings, integers and `range(a, b)` are accepted, so a genotype file from
someone else can never run code (no eval/exec anywhere). Both the DARTS pair
format `(op, src)` (edge 2i and 2i+1 feed node i + 2) and NAT's triple format
`(op, src, dst)` are read; writing uses the triple format, or pairs on request.
"""

import ast
import json

from nat_tf.space import genotype as genotype_lib

_FIELDS = ("normal", "normal_concat", "reduce", "reduce_concat")


def parse(text):
  """A validated Genotype from a DARTS/NAT literal or a JSON object."""
  stripped = text.strip()
  if stripped.startswith("{"):
    return from_json(stripped)
  return _from_literal(stripped)


def from_json(text):
  try:
    data = json.loads(text)
  except json.JSONDecodeError as error:
    raise genotype_lib.GenotypeError(f"genotype JSON is malformed: {error}") from None
  if not isinstance(data, dict):
    raise genotype_lib.GenotypeError("genotype JSON must be an object with keys "
                                     f"{list(_FIELDS)}")
  return _from_fields(data)


def _from_literal(text):
  try:
    tree = ast.parse(text, mode="exec")
  except SyntaxError as error:
    raise genotype_lib.GenotypeError(
        f"genotype text is not a Genotype literal: {error.msg} at line {error.lineno}") from None
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


def _value(node):
  """The plain data a literal node denotes; anything executable is refused."""
  if isinstance(node, ast.Constant) and isinstance(node.value, (str, int)):
    return node.value
  if isinstance(node, (ast.List, ast.Tuple)):
    return [_value(element) for element in node.elts]
  if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "range"
      and not node.keywords and 1 <= len(node.args) <= 2):
    bounds = [_value(arg) for arg in node.args]
    if all(isinstance(bound, int) for bound in bounds):
      return list(range(*bounds))
  raise genotype_lib.GenotypeError(
      f"genotype text is not data: found {_describe(node)}; only lists, tuples, strings, "
      "integers and range(a, b) are allowed")


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
    if not isinstance(concat, list) or not all(isinstance(n, int) for n in concat):
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
  edges = []
  for index, entry in enumerate(entries):
    shape_ok = (isinstance(entry, list) and len(entry) in (2, 3) and isinstance(entry[0], str)
                and all(isinstance(n, int) for n in entry[1:]))
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
