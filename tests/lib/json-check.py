#!/usr/bin/env python3
"""json-check.py SCHEMA [EXPR...] < DOCUMENT

Reads one JSON document (partwrap --json output) from stdin, validates it
against SCHEMA (JSON Schema draft 2020-12, with python3-jsonschema), then
evaluates each EXPR, a Python expression over `d` (the document) and
`disk(NAME)` (the element of d["disks"] with that name), which must be true.

Exit status: 0 valid and every EXPR true; 1 otherwise (each problem on
stdout); 77 when python3-jsonschema is not installed.
"""
import json
import sys


def main():
    if len(sys.argv) < 2:
        print(__doc__.strip())
        return 2
    try:
        import jsonschema
    except ImportError:
        print("python3-jsonschema is not installed (apt-get install python3-jsonschema)")
        return 77
    if not hasattr(jsonschema, "Draft202012Validator"):
        print("python3-jsonschema %s has no draft 2020-12 support" % getattr(jsonschema, "__version__", "?"))
        return 77

    with open(sys.argv[1]) as f:
        schema = json.load(f)
    text = sys.stdin.read()
    try:
        d = json.loads(text)  # exactly one document, nothing after it
    except ValueError as e:
        print("not one JSON document: %s" % e)
        print(text[:2000])
        return 1

    problems = 0
    validator = jsonschema.Draft202012Validator(schema)
    for e in sorted(validator.iter_errors(d), key=lambda e: list(e.absolute_path)):
        # oneOf failures: show the reasons of the branch that came closest.
        best = jsonschema.exceptions.best_match([e])
        print("schema: at /%s: %s" % ("/".join(str(p) for p in best.absolute_path), best.message))
        problems += 1

    def disk(name):
        for x in d.get("disks", []):
            if x.get("name") == name:
                return x
        raise KeyError("no disk %r in the document" % name)

    for expr in sys.argv[2:]:
        try:
            ok = eval(expr, {"d": d, "disk": disk})
        except Exception as e:  # a missing key is a failed expectation
            ok = False
            expr = "%s (%s: %s)" % (expr, type(e).__name__, e)
        if not ok:
            print("expected: %s" % expr)
            problems += 1
    if problems:
        print("document: %s" % json.dumps(d, indent=1)[:4000])
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
