#!/usr/bin/env python3
"""The core's size rules (issue 20): no file of core/src over 400 lines, no function over 80.

    check_sizes.py CORE_SRC          checks the tree; prints each breach, exits 1 if there is one
    check_sizes.py --self-test       checks that the function finder sees what it must

A function is a brace-enclosed body opened outside any other function body (at namespace or class
scope) whose header has a parameter list; its length runs from the header's first line to the
closing brace. Lambdas and local classes count toward the function they are in.
"""
import pathlib
import re
import sys

MAX_FILE_LINES = 400
MAX_FUNCTION_LINES = 80

NOT_FUNCTIONS = re.compile(r"^\s*(template\s*<.*>\s*)?(namespace|class|struct|union|enum|extern)\b|=\s*$")


def strip(text):
    """The text with comments, string and character literals blanked, newlines kept."""
    out = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append("\n" * text.count("\n", i, j))
            i = j
        elif c == "R" and text.startswith('R"', i) and (i == 0 or not (text[i - 1].isalnum() or text[i - 1] == "_")):
            open_paren = text.find("(", i + 2)
            delim = text[i + 2:open_paren]
            end = text.find(")" + delim + '"', open_paren)
            end = n if end < 0 else end + len(delim) + 2
            out.append('""' + "\n" * text.count("\n", i, end))
            i = end
        elif c in "\"'":
            j = i + 1
            while j < n and text[j] != c:
                j += 2 if text[j] == "\\" else 1
            out.append(c + c)
            i = j + 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


# Preprocessor lines and access labels are not part of the header that follows them.
NOT_HEADER = re.compile(r"^[ \t]*(#.*|(public|private|protected)\s*:)[ \t]*$", re.M)


def functions(text):
    """(first line, last line, header) of each function body in C++ source `text`."""
    code = NOT_HEADER.sub("", strip(text))
    found = []
    stack = []  # per open brace: (first line, header) of a function body, "scope" (namespace, class...) or "block"
    header_start = 0  # where the text since the last ; { or } begins
    line_of = lambda pos: code.count("\n", 0, pos) + 1
    for pos, c in enumerate(code):
        if c == "{":
            header = code[header_start:pos]
            in_function = any(isinstance(open_, tuple) or open_ == "block" for open_ in stack)
            if in_function:
                stack.append("block")
            elif "(" in header and ")" in header and not NOT_FUNCTIONS.search(header.strip()):
                first = header_start + len(header) - len(header.lstrip())
                stack.append((line_of(first), header.strip()))
            else:
                stack.append("scope")
            header_start = pos + 1
        elif c == "}":
            if stack:
                top = stack.pop()
                if isinstance(top, tuple):
                    found.append((top[0], line_of(pos), " ".join(top[1].split())))
            header_start = pos + 1
        elif c == ";":
            header_start = pos + 1
    return found


def check(core_src):
    breaches = []
    for path in sorted(pathlib.Path(core_src).rglob("*")):
        if path.suffix not in (".cpp", ".hpp", ".h"):
            continue
        text = path.read_text(encoding="utf-8")
        lines = text.count("\n")
        if lines > MAX_FILE_LINES:
            breaches.append(f"{path}: {lines} lines (at most {MAX_FILE_LINES})")
        for first, last, header in functions(text):
            if last - first + 1 > MAX_FUNCTION_LINES:
                breaches.append(f"{path}:{first}: function of {last - first + 1} lines (at most "
                                f"{MAX_FUNCTION_LINES}): {header[:100]}")
    return breaches


SAMPLE = """#include <string>

namespace a {
// a comment with a { brace
struct S {
public:
    int f(int x) const {
        auto l = [&](int y) { return y + "}"[0]; };
        return l(x);
    }
};

int long_one(int x)
{
""" + "    x += 1;\n" * 85 + """    return x;
}

const int table[] = {1, 2, 3};
}  // namespace a
"""


def self_test():
    found = functions(SAMPLE)
    headers = [h for _, _, h in found]
    assert headers == ["int f(int x) const", "int long_one(int x)"], headers
    first, last, _ = found[1]
    assert (first, last) == (13, 101), (first, last)
    assert found[0][0] == 7, found[0]
    assert not any(h.startswith("const int table") for h in headers)
    print("check_sizes: self-test passed")


if __name__ == "__main__":
    if sys.argv[1:] == ["--self-test"]:
        self_test()
        sys.exit(0)
    if len(sys.argv) != 2:
        sys.exit("usage: check_sizes.py CORE_SRC | --self-test")
    problems = check(sys.argv[1])
    for p in problems:
        print(p)
    if problems:
        sys.exit(1)
    print(f"check_sizes: every file of {sys.argv[1]} within {MAX_FILE_LINES} lines, every function within "
          f"{MAX_FUNCTION_LINES}")
