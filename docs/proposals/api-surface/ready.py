#!/usr/bin/env python3
"""Readiness by option: every Add/StartService call whose service is a
shepherd.ReadyFunc(...) (or a call to one of the helper functions named on
the command line after --, which return one) gets shepherd.AwaitReady(30s)
appended (not to calls that pass opts...: fix those by hand); ReadyFunc becomes ServiceFunc and helpers' result types follow.
Usage: api-ready.py FILE... [-- helper...]"""
import re, sys

def match_paren(s, i):
    depth, j = 0, i
    while j < len(s):
        c = s[j]
        if c in '"\'`':
            q = c; j += 1
            while s[j] != q:
                if s[j] == '\\' and q != '`': j += 1
                j += 1
        elif c in '([{': depth += 1
        elif c in ')]}':
            depth -= 1
            if depth == 0: return j
        j += 1
    raise ValueError('unbalanced')

args = sys.argv[1:]
helpers = args[args.index('--') + 1:] if '--' in args else []
files = args[:args.index('--')] if '--' in args else args
for path in files:
    src = open(path).read()
    q = '' if re.search(r'^package shepherd$', src, re.M) else 'shepherd.'
    svc = r'(' + re.escape(q) + r'ReadyFunc\(' + ''.join('|\\b' + re.escape(h) + r'\(' for h in helpers) + ')'
    out, pos = [], 0
    for m in re.finditer(r'\.(Add|StartService)\(', src):
        if m.start() < pos: continue
        o = m.end() - 1
        c = match_paren(src, o)
        call = src[o + 1:c]
        # the service is the second argument
        if not re.match(r'\s*[^,]+,\s*' + svc, call): continue
        out.append(src[pos:c] + ', ' + q + 'AwaitReady(30*time.Second))')
        pos = c + 1
    out.append(src[pos:])
    new = ''.join(out)
    new = re.sub(r'\b' + re.escape(q) + r'ReadyFunc\b', q + 'ServiceFunc', new)
    if new != src:
        if '"time"' not in new:
            new = new.replace('import (\n', 'import (\n\t"time"\n', 1)
        open(path, 'w').write(new)
