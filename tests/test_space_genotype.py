"""Genotype parsing, formatting and validation (nat_tf.space.genotype*)."""

import json
import os

import pytest

from nat_tf.space import catalogue
from nat_tf.space import genotype_format
from nat_tf.space.genotype import GenotypeError

DARTS_V2_TRIPLES = ("Genotype(normal=[('sep_conv_3x3', 0, 2), ('sep_conv_3x3', 1, 2), "
                    "('sep_conv_3x3', 0, 3), ('sep_conv_3x3', 1, 3), ('sep_conv_3x3', 1, 4), "
                    "('skip_connect', 0, 4), ('skip_connect', 0, 5), ('dil_conv_3x3', 2, 5)], "
                    "normal_concat={concat}, reduce=[('max_pool_3x3', 0, 2), "
                    "('max_pool_3x3', 1, 2), ('skip_connect', 2, 3), ('max_pool_3x3', 1, 3), "
                    "('max_pool_3x3', 0, 4), ('skip_connect', 2, 4), ('skip_connect', 2, 5), "
                    "('max_pool_3x3', 1, 5)], reduce_concat={concat})")


@pytest.mark.parametrize("name", catalogue.names())
def test_round_trip_every_catalogue_entry(name):
  genotype = catalogue.get(name)
  assert genotype_format.parse(genotype_format.to_literal(genotype)) == genotype
  assert genotype_format.parse(genotype_format.to_literal(genotype, pairs=True)) == genotype
  assert genotype_format.parse(genotype_format.to_json(genotype)) == genotype


def test_pair_format_feeds_nodes_in_order():
  genotype = catalogue.get("DARTS_V1")
  assert [e.dst for e in genotype.normal.edges] == [2, 2, 3, 3, 4, 4, 5, 5]
  assert genotype.normal.edges[7] == type(genotype.normal.edges[7])("skip_connect", 2, 5)
  assert genotype.reduce.edges[7].op == "avg_pool_3x3"


def test_range_concat_equals_list_concat():
  with_range = genotype_format.parse(DARTS_V2_TRIPLES.format(concat="range(2, 6)"))
  with_list = genotype_format.parse(DARTS_V2_TRIPLES.format(concat="[2, 3, 4, 5]"))
  assert with_range == with_list == catalogue.get("DARTS")


def test_assignment_form_is_read():
  text = "DARTS_V2 = " + DARTS_V2_TRIPLES.format(concat="[2, 3, 4, 5]")
  assert genotype_format.parse(text) == catalogue.get("DARTS_V2")


@pytest.mark.parametrize("payload", [
    "__import__('os').system('touch {marker}')",
    "Genotype(normal=__import__('os').system('touch {marker}'), normal_concat=[2], "
    "reduce=[], reduce_concat=[2])",
    "Genotype(normal=[(open('{marker}', 'w').write('x'), 0, 2)], normal_concat=[2], "
    "reduce=[], reduce_concat=[2])",
    "import os; os.system('touch {marker}')",
])
def test_code_in_a_genotype_file_is_rejected_unrun(tmp_path, payload):
  marker = tmp_path / "ran"
  path = tmp_path / "evil.txt"
  path.write_text(payload.format(marker=marker))
  with pytest.raises(GenotypeError, match="not data|Genotype|statements"):
    catalogue.load(str(path))
  assert not os.path.exists(marker)


def _darts_with(old, new):
  text = DARTS_V2_TRIPLES.format(concat="[2, 3, 4, 5]")
  assert old in text
  return text.replace(old, new, 1)


@pytest.mark.parametrize("old, new, message", [
    ("('sep_conv_3x3', 1, 2)", "('sep_conv_3x4', 1, 2)",
     r"normal cell, edge 1 .*unknown operation 'sep_conv_3x4'.*did you mean 'sep_conv_3x3'"),
    ("('skip_connect', 0, 4)", "('skip_connect', 7, 4)",
     r"normal cell, edge 5 .*source node 7 must be in 0..3"),
    ("('max_pool_3x3', 1, 5)]", "('max_pool_3x3', 1, 6)]",
     r"reduce cell, edge 7 .*target node 6 is out of range 2..5"),
    ("('sep_conv_3x3', 1, 3)", "('sep_conv_3x3', 1, 2)",
     r"normal cell: node 2 has 3 inputs"),
    ("reduce_concat=[2, 3, 4, 5]", "reduce_concat=[2, 3, 9]",
     r"reduce cell: concat names node 9, which does not exist"),
])
def test_validation_names_cell_and_edge(old, new, message):
  with pytest.raises(GenotypeError, match=message):
    genotype_format.parse(_darts_with(old, new))


def test_node_count_must_match_between_cells():
  enas_reduce = genotype_format.to_dict(catalogue.get("ENAS"))["reduce"]
  data = genotype_format.to_dict(catalogue.get("DARTS"))
  data.update(reduce=enas_reduce, reduce_concat=[2, 3, 6])
  with pytest.raises(GenotypeError, match="same node count"):
    genotype_format.parse(json.dumps(data))


@pytest.mark.parametrize("text, message", [
    ("{not json", "JSON is malformed"),
    ('{"normal": []}', "missing"),
    ("Genotype(normal=[('sep_conv_3x3', 0)], normal_concat=[2], reduce=[('null', 0, 2)], "
     "reduce_concat=[2])", "mixes|edges"),
    ("Genotype(", "not a Genotype literal"),
])
def test_malformed_text_is_rejected(text, message):
  with pytest.raises(GenotypeError, match=message):
    genotype_format.parse(text)


# Hostile genotype files: each ends in one GenotypeError naming the limit, quickly and
# before anything large is allocated.

def _load_text(tmp_path, text, name="genotype.txt"):
  path = tmp_path / name
  path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
  return catalogue.load(str(path))


def _cell_of(num_nodes, pairs=False):
  """A well-formed cell literal of `num_nodes` nodes: every node fed by nodes 0 and 1."""
  if pairs:
    return "[" + ", ".join("('skip_connect', 0), ('skip_connect', 1)"
                           for _ in range(num_nodes)) + "]"
  return "[" + ", ".join(f"('skip_connect', 0, {t}), ('skip_connect', 1, {t})"
                         for t in range(2, num_nodes + 2)) + "]"


@pytest.mark.parametrize("text, message", [
    ("Genotype(normal=[], normal_concat=range(0, 1000000000), reduce=[], reduce_concat=[2])",
     r"integer of 10 digits .*at most 6"),
    ("Genotype(normal=[], normal_concat=range(0, 999999), reduce=[], reduce_concat=[2])",
     r"range\(0, 999999\) has 999999 items; a genotype list holds at most 2000"),
    ("Genotype(normal=[('skip_connect', 0, 2), ('skip_connect', 1, 2)], normal_concat=[2], "
     "reduce=[('skip_connect', 0, 2), ('skip_connect', 1, " + "9" * 5000 + ")], "
     "reduce_concat=[2])", r"integer .*digits.*at most 6"),
    ("Genotype(normal=" + "+".join(["1"] * 200_000) + ")", r"too deeply nested"),
    ("Genotype(normal=" + "[" * 100 + "]" * 100 + ", normal_concat=[2], reduce=[], "
     "reduce_concat=[2])", r"nested more than 8 deep"),
    ("Genotype(normal=[('skip_connect', 0, 2), ('skip_connect', True, 2)], normal_concat=[2], "
     "reduce=[('skip_connect', 0, 2), ('skip_connect', 1, 2)], reduce_concat=[2])",
     r"True is not a node index"),
], ids=["huge_range", "long_range", "huge_integer", "long_expression", "deep_nesting",
        "boolean_node"])
def test_hostile_literals_are_refused_by_a_limit(tmp_path, text, message):
  with pytest.raises(GenotypeError, match=message):
    _load_text(tmp_path, text)


@pytest.mark.parametrize("text, message", [
    ("[" * 10_000 + "]" * 10_000, r"nested more than 8 deep"),
    ('{"normal": ' + "9" * 5000 + "}", r"integer .*5000 digits.*at most 6"),
    ('{"normal": [["skip_connect", 0, 2], ["skip_connect", true, 2]], "normal_concat": [2], '
     '"reduce": [["skip_connect", 0, 2], ["skip_connect", 1, 2]], "reduce_concat": [2]}',
     r"True is not a node index|neither \(op, src\)"),
], ids=["deep_nesting", "huge_integer", "boolean_node"])
def test_hostile_json_is_refused_by_a_limit(tmp_path, text, message):
  with pytest.raises(GenotypeError, match=message):
    _load_text(tmp_path, text, "genotype.json")


def test_a_file_over_the_size_limit_is_refused_unread(tmp_path):
  path = tmp_path / "big.txt"
  with open(path, "wb") as handle:
    handle.truncate(genotype_format.MAX_FILE_BYTES + 1)
  with pytest.raises(GenotypeError, match=r"big.txt.* bytes; a genotype file has at most"):
    catalogue.load(str(path))


def test_undecodable_bytes_are_named(tmp_path):
  with pytest.raises(GenotypeError, match=r"not UTF-8 text .*byte 9"):
    _load_text(tmp_path, b"Genotype(\xff\xfe)")


def test_a_byte_order_mark_is_accepted(tmp_path):
  text = DARTS_V2_TRIPLES.format(concat="[2, 3, 4, 5]")
  assert _load_text(tmp_path, b"\xef\xbb\xbf" + text.encode()) == catalogue.get("DARTS_V2")


def test_a_cell_over_the_edge_limit_is_refused(tmp_path):
  cell = _cell_of(genotype_format.MAX_NODES + 1)
  text = f"Genotype(normal={cell}, normal_concat=[2], reduce={cell}, reduce_concat=[2])"
  with pytest.raises(GenotypeError, match=r"2002 items; a genotype list holds at most 2000"):
    _load_text(tmp_path, text)


def test_validation_is_linear_in_the_cell_size():
  """A cell at the node limit parses in well under a second (the old per-node loop was
  quadratic: 20k edges took 32 s)."""
  import time  # pylint: disable=import-outside-toplevel
  cell = _cell_of(genotype_format.MAX_NODES, pairs=True)
  concat = list(range(2, genotype_format.MAX_NODES + 2))
  text = f"Genotype(normal={cell}, normal_concat={concat}, reduce={cell}, reduce_concat={concat})"
  assert genotype_format.parse(text).num_nodes == genotype_format.MAX_NODES

  def cpu_seconds():  # this process's CPU time: a busy machine's waits do not count
    start = time.process_time()
    genotype_format.parse(text)
    return time.process_time() - start

  assert min(cpu_seconds() for _ in range(3)) < 1.0  # about 0.04 s on a 2-core Xeon


def test_a_cell_whose_inputs_no_longer_reach_its_outputs_is_disconnected():
  for name in catalogue.names():
    assert not catalogue.get(name).disconnected(), name
  resblock = catalogue.get("ResBlock")
  chain_cut = resblock.reduce.with_ops(["null" if edge.dst == 2 else edge.op
                                        for edge in resblock.reduce.edges])
  assert chain_cut.disconnected()  # 1 -> 2, the edge every path from an input takes, is cut
  assert resblock.replace(reduce=chain_cut).disconnected()
  # a cut branch is not a cut cell: ResBlock's skip 2 -> 5 still carries input 1
  branch_cut = resblock.reduce.with_ops(["null" if edge.dst == 3 else edge.op
                                         for edge in resblock.reduce.edges])
  assert not branch_cut.disconnected()
