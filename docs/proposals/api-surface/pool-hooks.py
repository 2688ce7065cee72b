#!/usr/bin/env python3
"""Moves shepherd.OnUnprocessed(fn) and shepherd.ItemKey(fn) out of the
options of a NewPool call and chains them as methods on its result:
NewPool(a, b, h, QueueSize(8), OnUnprocessed(f)) -> NewPool(a, b, h, QueueSize(8)).OnUnprocessed(f).
Usage: api-pool-hooks.py FILE...  Prints the sites it could not rewrite."""
import re, sys

def match_paren(s, i):
    """s[i] == '('; return the index of its ')', skipping strings and runes."""
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

def rewrite(src, qual):
    hooks = ('OnUnprocessed', 'ItemKey')
    out, pos = [], 0
    for m in re.finditer(r'\b' + re.escape(qual) + r'NewPool(\[[^\]]*\])?\(', src):
        if m.start() < pos: continue
        open_ = m.end() - 1
        close = match_paren(src, open_)
        args = src[open_ + 1:close]
        moved, i = [], 0
        while True:
            hm = re.search(r',\s*' + re.escape(qual) + r'(' + '|'.join(hooks) + r')(\[[^\]]*\])?\(', args[i:])
            if not hm: break
            start = i + hm.start()
            hopen = i + hm.end() - 1
            hclose = match_paren(args, hopen)
            moved.append('.' + hm.group(1) + args[hopen:hclose + 1])
            args = args[:start] + args[hclose + 1:]
            i = start
        if not moved: continue
        args = re.sub(r',(\s*)$', r'\1', args) if args.rstrip().endswith(',') else args
        out.append(src[pos:open_ + 1] + args + ')' + ''.join(moved))
        pos = close + 1
    out.append(src[pos:])
    return ''.join(out)

for path in sys.argv[1:]:
    src = open(path).read()
    qual = '' if re.search(r'^package shepherd$', src, re.M) else 'shepherd.'
    new = rewrite(src, qual)
    if new != src:
        open(path, 'w').write(new)
    for n, line in enumerate(new.splitlines(), 1):
        if re.search(r'\b' + re.escape(qual) + r'(OnUnprocessed|ItemKey)(\[[^\]]*\])?\(', line):
            print(f'{path}:{n}: left for a hand edit: {line.strip()}')
