"""Document paths, ids and field paths: parsing and Firestore's validity rules."""
import re

from .errors import invalid

MAX_ID_BYTES = 1500
MAX_NAME_BYTES = 6 * 1024
MAX_DEPTH = 100  # subcollection depth
_RESERVED_ID = re.compile(r'^__.*__$')
_SIMPLE = re.compile(r'^[A-Za-z_][A-Za-z_0-9]*$')


NUMERIC_ID = re.compile(r'^__id(-?\d+)__$')  # Datastore-style numeric ids; they sort before names


def check_id(seg, kind='Document', allow_numeric=False):
    if seg == '':
        raise invalid('%s id must not be empty.' % kind)
    if seg in ('.', '..'):
        raise invalid('%s id "%s" is not allowed ("." and ".." are reserved).' % (kind, seg))
    if allow_numeric and kind == 'Document' and NUMERIC_ID.match(seg):
        return
    if _RESERVED_ID.match(seg):
        raise invalid('%s id "%s" is not allowed: ids matching __.*__ are reserved.' % (kind, seg))
    try:
        n = len(seg.encode('utf-8'))
    except UnicodeEncodeError:
        raise invalid('%s id must be valid UTF-8.' % kind)
    if n > MAX_ID_BYTES:
        raise invalid('%s id exceeds %d bytes.' % (kind, MAX_ID_BYTES))


def split_path(path):
    return path.split('/') if path else []


def check_path(path, want_document, allow_numeric=False):
    segs = split_path(path)
    if len(path.encode('utf-8', 'surrogatepass')) > MAX_NAME_BYTES:
        raise invalid('Document name exceeds %d bytes.' % MAX_NAME_BYTES)
    for i, s in enumerate(segs):
        check_id(s, 'Collection' if i % 2 == 0 else 'Document', allow_numeric)
    if len(segs) // 2 > MAX_DEPTH:
        raise invalid('Document path is nested deeper than %d subcollections.' % MAX_DEPTH)
    if want_document is not None and (len(segs) % 2 == 0) != want_document:
        if want_document:
            raise invalid('Document name "%s" has odd number of segments' % path)
        raise invalid('Collection path "%s" has even number of segments' % path)
    return segs


def check_document_path(path, allow_numeric=False):
    if not path:
        raise invalid('Document name is empty.')
    return check_path(path, True, allow_numeric)


def _seg_key(seg):
    m = NUMERIC_ID.match(seg)
    if m:
        return (0, int(m.group(1)), '')
    return (1, 0, seg)


def path_key(path):
    """Sort key of a slash-separated path: segment by segment, numeric ids (__id123__) first."""
    return tuple(_seg_key(s) for s in path.split('/'))


def parse_field_path(text):
    """'a.b' / '`x.y`.z' -> list of segments; 400 on malformed paths."""
    if not isinstance(text, str) or text == '':
        raise invalid('Invalid field path: field paths must not be empty.')
    if text == '__name__':
        return ['__name__']
    segs = []
    i, n = 0, len(text)
    while True:
        if i < n and text[i] == '`':
            i += 1
            buf = []
            while True:
                if i >= n:
                    raise invalid('Invalid field path "%s": unterminated backtick.' % text)
                c = text[i]
                if c == '\\':
                    if i + 1 >= n:
                        raise invalid('Invalid field path "%s": trailing escape.' % text)
                    buf.append(text[i + 1])
                    i += 2
                    continue
                if c == '`':
                    i += 1
                    break
                buf.append(c)
                i += 1
            seg = ''.join(buf)
            if seg == '':
                raise invalid('Invalid field path "%s": empty segment.' % text)
        else:
            j = text.find('.', i)
            if j < 0:
                j = n
            seg = text[i:j]
            if not _SIMPLE.match(seg):
                raise invalid('Invalid field path "%s": segment "%s" must be quoted with backticks.'
                              % (text, seg))
            i = j
        segs.append(seg)
        if i >= n:
            return segs
        if text[i] != '.':
            raise invalid('Invalid field path "%s".' % text)
        i += 1
        if i >= n:
            raise invalid('Invalid field path "%s": trailing dot.' % text)


def format_field_path(segs):
    return '.'.join(s if _SIMPLE.match(s) else '`' + s.replace('\\', '\\\\').replace('`', '\\`') + '`'
                    for s in segs)


# ---- field access on a fields dict (internal values) -------------------------------------------

def get_field(fields, segs):
    cur = fields
    for s in segs[:-1]:
        v = cur.get(s)
        if v is None or v[0] != 'm':
            return None
        cur = v[1]
    return cur.get(segs[-1])


def set_field(fields, segs, value):
    """Sets a nested field, copying maps on the way (fields dicts are shared between versions)."""
    cur = fields
    for s in segs[:-1]:
        v = cur.get(s)
        if v is None or v[0] != 'm':
            nxt = {}
        else:
            nxt = dict(v[1])
        cur[s] = ('m', nxt)
        cur = nxt
    cur[segs[-1]] = value


def delete_field(fields, segs):
    cur = fields
    for s in segs[:-1]:
        v = cur.get(s)
        if v is None or v[0] != 'm':
            return
        nxt = dict(v[1])
        cur[s] = ('m', nxt)
        cur = nxt
    cur.pop(segs[-1], None)


def mask_fields(fields, masks):
    """Only the given field paths (list of segment lists) of fields."""
    out = {}
    for segs in masks:
        v = get_field(fields, segs)
        if v is not None:
            set_field(out, segs, v)
    return out
