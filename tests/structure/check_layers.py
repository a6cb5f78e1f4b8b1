#!/usr/bin/env python3
"""The core's layering (issue 20): every core library links only libraries of lower layers, and the
README's picture of the layers names the same libraries on the same layers as the build.

    check_layers.py CORE_GRAPH README    CORE_GRAPH: the build's core_graph.txt, one line per
                                         library, "<name> <layer> <linked core library>..."
    check_layers.py --self-test          checks that an upward or sideways link is caught

The README's picture is the block that starts with a line "layer  libraries"; each row below it
is "<layer>  <library> <library> ..." (a row may end with a comment after "#").
"""
import re
import sys


def read_graph(text):
    graph = {}
    for line in text.splitlines():
        if not line.strip():
            continue
        name, layer, *links = line.split()
        graph[name] = (int(layer), links)
    return graph


def read_picture(text):
    layers = {}
    rows = iter(text.splitlines())
    for line in rows:
        if re.match(r"^\s*layer\s+libraries\b", line):
            break
    else:
        return None
    for line in rows:
        m = re.match(r"^\s*(\d+)\s+([a-z0-9_ ]+?)\s*(#.*)?$", line)
        if not m:
            break
        for name in m[2].split():
            layers[name] = int(m[1])
    return layers


def problems_in(graph, picture):
    found = []
    for name, (layer, links) in sorted(graph.items()):
        for link in links:
            if link not in graph:
                found.append(f"{name} links {link}, which is no core library")
            elif graph[link][0] >= layer:
                found.append(f"{name} (layer {layer}) links {link} (layer {graph[link][0]}): only lower layers may be linked")
    if picture is None:
        found.append("README.md has no picture of the layers (a block starting with 'layer  libraries')")
    else:
        build = {name: layer for name, (layer, _) in graph.items()}
        for name in sorted(set(build) | set(picture)):
            if build.get(name) != picture.get(name):
                found.append(f"{name}: layer {build.get(name)} in the build, {picture.get(name)} in README.md's picture")
    return found


def self_test():
    graph = read_graph("pyjson 0\nauth 1 pyjson\nhttp1 1 pyjson\n")
    picture = {"pyjson": 0, "auth": 1, "http1": 1}
    assert problems_in(graph, picture) == [], problems_in(graph, picture)
    upward = read_graph("pyjson 0 auth\nauth 1 pyjson\nhttp1 1 pyjson\n")
    assert any("pyjson (layer 0) links auth (layer 1)" in p for p in problems_in(upward, picture))
    sideways = read_graph("pyjson 0\nauth 1 pyjson http1\nhttp1 1 pyjson\n")
    assert any("auth (layer 1) links http1 (layer 1)" in p for p in problems_in(sideways, picture))
    assert any("README" in p for p in problems_in(graph, {"pyjson": 0, "auth": 2, "http1": 1}))
    assert read_picture("x\nlayer  libraries\n  1  auth http1   # signing\n  0  pyjson\n\nmore") == picture
    print("check_layers: self-test passed")


if __name__ == "__main__":
    if sys.argv[1:] == ["--self-test"]:
        self_test()
        sys.exit(0)
    if len(sys.argv) != 3:
        sys.exit("usage: check_layers.py CORE_GRAPH README | --self-test")
    with open(sys.argv[1], encoding="utf-8") as f:
        graph = read_graph(f.read())
    with open(sys.argv[2], encoding="utf-8") as f:
        picture = read_picture(f.read())
    problems = problems_in(graph, picture)
    for p in problems:
        print(p)
    if problems:
        sys.exit(1)
    print(f"check_layers: {len(graph)} core libraries, each linking only lower layers, as README.md draws them")
