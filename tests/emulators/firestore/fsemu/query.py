"""StructuredQuery: parsing, Firestore's implicit ordering, filters, cursors, offset/limit,
projection, and the count/sum/avg aggregations."""
import functools
import math

from . import values as V
from .errors import ApiError, invalid
from .paths import check_path, format_field_path, get_field, parse_field_path

NAME = ('__name__',)
RANGE_OPS = {'LESS_THAN', 'LESS_THAN_OR_EQUAL', 'GREATER_THAN', 'GREATER_THAN_OR_EQUAL'}
INEQUALITY_OPS = RANGE_OPS | {'NOT_EQUAL', 'NOT_IN'}
UNARY_INEQUALITY = {'IS_NOT_NAN', 'IS_NOT_NULL'}
MAX_DISJUNCTION_VALUES = 30
MAX_NOT_IN_VALUES = 10
MAX_DNF_TERMS = 30
MAX_AGGREGATIONS = 5


class Query:
    __slots__ = ('parent', 'collection', 'all_descendants', 'filter', 'order', 'explicit_order',
                 'start', 'end', 'offset', 'limit', 'select')


def parse(db, parent, sq):
    """parent: relative document path ('' = root). sq: StructuredQuery JSON (schema-checked)."""
    if not isinstance(sq, dict):
        raise invalid('structuredQuery is required.')
    if sq.get('findNearest') is not None:
        raise ApiError('UNIMPLEMENTED', 'findNearest (vector search) is not supported by this emulator.')
    q = Query()
    q.parent = parent
    frm = sq.get('from') or []
    if len(frm) != 1:
        raise invalid('Query must have exactly one collection selector in "from" (got %d).' % len(frm))
    sel = frm[0] or {}
    q.collection = sel.get('collectionId') or ''
    q.all_descendants = bool(sel.get('allDescendants'))
    if q.collection:
        check_path(q.collection, False)
    elif not q.all_descendants:
        raise invalid('collectionId is required unless allDescendants is true.')
    q.filter = _parse_filter(db, sq.get('where'), 'structuredQuery.where') if sq.get('where') else None
    if q.filter is not None:
        _check_dnf(q.filter)
    q.explicit_order = []
    for i, o in enumerate(sq.get('orderBy') or []):
        segs = parse_field_path(((o or {}).get('field') or {}).get('fieldPath'))
        d = (o or {}).get('direction') or 'ASCENDING'
        if d == 'DIRECTION_UNSPECIFIED':
            d = 'ASCENDING'
        q.explicit_order.append((tuple(segs), d == 'DESCENDING'))
    seen = set()
    for segs, _ in q.explicit_order:
        if segs in seen:
            raise invalid('Order by clause cannot contain the same field more than once: %s'
                          % format_field_path(segs))
        seen.add(segs)
    q.order = effective_order(q.explicit_order, q.filter)
    q.start = _parse_cursor(db, sq.get('startAt'), q.order, 'startAt')
    q.end = _parse_cursor(db, sq.get('endAt'), q.order, 'endAt')
    q.offset = sq.get('offset') or 0
    if q.offset < 0:
        raise invalid('offset must be non-negative.')
    q.limit = sq.get('limit')
    if q.limit is not None and q.limit < 0:
        raise invalid('limit must be non-negative.')
    q.select = None
    if sq.get('select') is not None:
        q.select = []
        for f in sq['select'].get('fields') or []:
            segs = parse_field_path((f or {}).get('fieldPath'))
            if segs != ['__name__']:
                q.select.append(segs)
    return q


def _parse_filter(db, f, where):
    kinds = [k for k in ('compositeFilter', 'fieldFilter', 'unaryFilter') if (f or {}).get(k) is not None]
    if len(kinds) != 1:
        raise invalid('Filter at \'%s\' must set exactly one of compositeFilter, fieldFilter, unaryFilter.'
                      % where)
    k = kinds[0]
    body = f[k]
    if k == 'compositeFilter':
        op = body.get('op')
        if op not in ('AND', 'OR'):
            raise invalid('Composite filter at \'%s\' needs op AND or OR.' % where)
        subs = body.get('filters') or []
        if not subs:
            raise invalid('Composite filter at \'%s\' must have at least one filter.' % where)
        return (op.lower(), [_parse_filter(db, s, '%s.compositeFilter.filters[%d]' % (where, i))
                             for i, s in enumerate(subs)])
    segs = tuple(parse_field_path((body.get('field') or {}).get('fieldPath')))
    op = body.get('op')
    if k == 'unaryFilter':
        if op not in ('IS_NAN', 'IS_NULL', 'IS_NOT_NAN', 'IS_NOT_NULL'):
            raise invalid('Unary filter at \'%s\' has no valid op.' % where)
        if segs == NAME:
            raise invalid('Unary filters cannot be applied to __name__.')
        return ('unary', segs, op)
    if op in (None, 'OPERATOR_UNSPECIFIED'):
        raise invalid('Field filter at \'%s\' has no op.' % where)
    if body.get('value') is None:
        raise invalid('Field filter at \'%s\' has no value.' % where)
    val = V.parse_value(body['value'], where + '.fieldFilter.value')
    if op in ('IN', 'NOT_IN', 'ARRAY_CONTAINS_ANY'):
        if val[0] != 'a' or not val[1]:
            raise invalid('A non-empty ArrayValue must be provided for \'%s\' filters.' % op)
        cap = MAX_NOT_IN_VALUES if op == 'NOT_IN' else MAX_DISJUNCTION_VALUES
        if len(val[1]) > cap:
            raise invalid("'%s' supports up to %d comparison values." % (op, cap))
    if segs == NAME:
        if op in ('ARRAY_CONTAINS', 'ARRAY_CONTAINS_ANY'):
            raise invalid("'%s' cannot be used on __name__." % op)
        refs = val[1] if op in ('IN', 'NOT_IN') else [val]
        for r in refs:
            if r[0] != 'r':
                raise invalid('__key__ filter value must be a Key')
            if not r[1].startswith(db.prefix):
                raise invalid('__key__ filter value must be a key in the database of the request: %s' % r[1])
    return ('field', segs, op, val)


def _dnf(f):
    """Filter -> list of conjunctions (lists of leaf filters)."""
    kind = f[0]
    if kind == 'and':
        terms = [[]]
        for s in f[1]:
            terms = [a + b for a in terms for b in _dnf(s)]
            if len(terms) > MAX_DNF_TERMS * 4:
                break
        return terms
    if kind == 'or':
        out = []
        for s in f[1]:
            out.extend(_dnf(s))
        return out
    return [[f]]


def dnf(f):
    return _dnf(f) if f is not None else [[]]


def _check_dnf(f):
    if len(_dnf(f)) > MAX_DNF_TERMS:
        raise invalid('Invalid Query. The query contains more than %d disjunctions after expanding to '
                      'disjunctive normal form.' % MAX_DNF_TERMS)


def inequality_fields(f):
    out = set()
    if f is None:
        return out
    if f[0] in ('and', 'or'):
        for s in f[1]:
            out |= inequality_fields(s)
    elif f[0] == 'field' and f[2] in INEQUALITY_OPS:
        out.add(f[1])
    elif f[0] == 'unary' and f[2] in UNARY_INEQUALITY:
        out.add(f[1])
    return out


def effective_order(explicit, filt):
    """Explicit orderBy, then inequality fields not yet ordered (field path order), then __name__
    in the direction of the last ordering."""
    order = list(explicit)
    have = {segs for segs, _ in order}
    if NAME not in have:
        for segs in sorted(inequality_fields(filt) - have - {NAME}):
            order.append((segs, order[-1][1] if order else False))
        order.append((NAME, order[-1][1] if order else False))
    return order


def _parse_cursor(db, c, order, what):
    if c is None:
        return None
    vals = [V.parse_value(v, 'structuredQuery.%s.values[%d]' % (what, i)) for i, v in enumerate(c.get('values') or [])]
    if len(vals) > len(order):
        raise invalid('Too many cursor values specified. The specified order by clause has %d fields.'
                      % len(order))
    for i, v in enumerate(vals):
        if order[i][0] == NAME:
            if v[0] != 'r':
                raise invalid('Cursor position for __name__ must be a reference value.')
            if not v[1].startswith(db.prefix):
                raise invalid('Cursor reference %s is not in the database of the request.' % v[1])
    return ([V.sort_key(v) for v in vals], bool(c.get('before')))


# ---- execution ---------------------------------------------------------------------------------

def _value(db, path, doc, segs):
    if segs == NAME:
        return ('r', db.prefix + path)
    if len(segs) == 1:
        return doc.fields.get(segs[0])
    return get_field(doc.fields, segs)


def _is_nan(v):
    return v[0] == 'd' and v[1] != v[1]


def _matches(db, path, doc, f):
    kind = f[0]
    if kind == 'and':
        return all(_matches(db, path, doc, s) for s in f[1])
    if kind == 'or':
        return any(_matches(db, path, doc, s) for s in f[1])
    v = _value(db, path, doc, f[1])
    if kind == 'unary':
        op = f[2]
        if v is None:
            return False
        if op == 'IS_NULL':
            return v[0] == 'n'
        if op == 'IS_NAN':
            return _is_nan(v)
        if op == 'IS_NOT_NULL':
            return v[0] != 'n'
        return v[0] != 'n' and not _is_nan(v)  # IS_NOT_NAN
    op, want = f[2], f[3]
    if v is None:
        return False
    if op == 'EQUAL':
        return V.equal(v, want)
    if op in RANGE_OPS:
        if V.type_rank(v) != V.type_rank(want):
            return False
        c = V.compare(v, want)
        if op == 'LESS_THAN':
            return c < 0
        if op == 'LESS_THAN_OR_EQUAL':
            return c <= 0
        if op == 'GREATER_THAN':
            return c > 0
        return c >= 0
    if op == 'NOT_EQUAL':
        return v[0] != 'n' and not V.equal(v, want)
    if op == 'ARRAY_CONTAINS':
        return v[0] == 'a' and any(V.equal(e, want) for e in v[1])
    if op == 'ARRAY_CONTAINS_ANY':
        return v[0] == 'a' and any(V.equal(e, w) for e in v[1] for w in want[1])
    if op == 'IN':
        return any(V.equal(v, w) for w in want[1])
    if op == 'NOT_IN':
        if any(w[0] == 'n' for w in want[1]):
            return False
        return v[0] != 'n' and not any(V.equal(v, w) for w in want[1])
    raise invalid('Unsupported filter op %s.' % op)


def _candidates(db, q, docs):
    if q.all_descendants:
        base = q.parent + '/' if q.parent else ''
        cid = q.collection
        for path, doc in docs.items():
            if base and not path.startswith(base):
                continue
            if cid:
                segs = path.split('/')
                if segs[-2] != cid:
                    continue
            yield path, doc
    else:
        coll = (q.parent + '/' if q.parent else '') + q.collection
        n = len(coll)
        for path, doc in docs.items():
            if path.startswith(coll) and len(path) > n and path[n] == '/' and path.find('/', n + 1) < 0:
                yield path, doc


def _cmp_keys(a, b, dirs):
    for x, y, desc in zip(a, b, dirs):
        if x != y:
            c = -1 if x < y else 1
            return -c if desc else c
    return 0


def run(db, q, docs=None):
    """-> (list of (path, doc) in order, skipped count). docs: a view (default: live documents)."""
    dirs = [desc for _, desc in q.order]
    rows = []
    for path, doc in _candidates(db, q, db.docs if docs is None else docs):
        if q.filter is not None and not _matches(db, path, doc, q.filter):
            continue
        keys = []
        for segs, _ in q.order:
            v = _value(db, path, doc, segs)
            if v is None:
                break  # ordering by a field implies it exists
            keys.append(V.sort_key(v))
        else:
            rows.append((keys, path, doc))
    rows.sort(key=functools.cmp_to_key(lambda a, b: _cmp_keys(a[0], b[0], dirs)))
    if q.start is not None:
        vals, before = q.start
        rows = [r for r in rows if (_cmp_keys(r[0], vals, dirs) >= 0 if before else _cmp_keys(r[0], vals, dirs) > 0)]
    if q.end is not None:
        vals, before = q.end
        rows = [r for r in rows if (_cmp_keys(r[0], vals, dirs) < 0 if before else _cmp_keys(r[0], vals, dirs) <= 0)]
    skipped = min(q.offset, len(rows))
    rows = rows[q.offset:]
    if q.limit is not None:
        rows = rows[:q.limit]
    return [(p, d) for _, p, d in rows], skipped


# ---- aggregations ------------------------------------------------------------------------------

def parse_aggregations(aggs):
    if not aggs:
        raise invalid('At least one aggregation is required.')
    if len(aggs) > MAX_AGGREGATIONS:
        raise invalid('Aggregation queries support at most %d aggregations.' % MAX_AGGREGATIONS)
    out = []
    aliases = set()
    for i, a in enumerate(aggs):
        a = a or {}
        alias = a.get('alias') or 'field_%d' % (i + 1)
        if alias in aliases:
            raise invalid('Duplicate aggregation alias "%s".' % alias)
        aliases.add(alias)
        kinds = [k for k in ('count', 'sum', 'avg') if a.get(k) is not None]
        if len(kinds) != 1:
            raise invalid('Aggregation "%s" must set exactly one of count, sum, avg.' % alias)
        k = kinds[0]
        if k == 'count':
            up = a['count'].get('upTo')
            up = V.parse_int64(up, 'count.upTo') if up is not None else None
            if up is not None and up <= 0:
                raise invalid('count.upTo must be greater than zero.')
            out.append((alias, 'count', up))
        else:
            segs = tuple(parse_field_path((a[k].get('field') or {}).get('fieldPath')))
            out.append((alias, k, segs))
    return out


def aggregate(db, rows, aggs):
    # Firestore: a query with sum/avg aggregates only the documents that have every field those
    # aggregations name (whatever its value), count included: they come from those fields' index
    fields = [arg for _, kind, arg in aggs if kind in ('sum', 'avg')]
    if fields:
        rows = [(path, doc) for path, doc in rows
                if all(_value(db, path, doc, f) is not None for f in fields)]
    result = {}
    for alias, kind, arg in aggs:
        if kind == 'count':
            n = len(rows) if arg is None else min(len(rows), arg)
            result[alias] = V.to_json(('i', n))
            continue
        nums = []
        for path, doc in rows:
            v = _value(db, path, doc, arg)
            if v is not None and v[0] in ('i', 'd'):
                nums.append(v)
        if kind == 'sum':
            if all(v[0] == 'i' for v in nums):
                s = sum(v[1] for v in nums)
                if V.INT64_MIN <= s <= V.INT64_MAX:
                    result[alias] = V.to_json(('i', s))
                    continue
            result[alias] = V.to_json(('d', _fsum(nums)))
        else:
            if not nums:
                result[alias] = V.to_json(V.NULL)
            else:
                result[alias] = V.to_json(('d', _fsum(nums) / len(nums)))
    return result


def _fsum(nums):
    try:
        return math.fsum(float(v[1]) for v in nums)
    except (OverflowError, ValueError):
        return sum(float(v[1]) for v in nums)
