"""Composite-index enforcement from a firestore.indexes.json (Firebase CLI format).

The rules (a simplified model of real Firestore, see README.md):
  For each conjunction of the query's filter in disjunctive normal form, with
    E = fields with equality filters (EQUAL, IN, IS_NULL, IS_NAN),
    A = fields with ARRAY_CONTAINS / ARRAY_CONTAINS_ANY,
    O = the effective orderBy (explicit orderBy, then inequality fields), less E fields and __name__:
  1. nothing in E, A, O                       -> served by the built-in __name__ index;
  2. E, A and O together name a single field  -> its automatic single-field index;
  3. O empty (only equality / array-contains) -> merging of automatic single-field indexes;
  4. otherwise a declared composite index must hold E and A (any order, array-contains fields
     as arrayConfig CONTAINS) followed by O with the same directions, or all of them reversed
     (an index is scanned either way); a trailing __name__ in the index must match too.
  A sum/avg aggregation over field F checks the query as if it were also ordered by F.
  __name__ filters never need an index. Automatic single-field indexes exist with collection
  scope only; a collection-group query needs fieldOverrides with COLLECTION_GROUP scope for rules
  2 and 3, and a COLLECTION_GROUP composite index for rule 4. A fieldOverride replaces the
  automatic indexes of its field (so "indexes": [] turns them off).
"""
import json

from .errors import failed_precondition
from .paths import format_field_path, parse_field_path
from .query import NAME, dnf

EQUALITY_OPS = {'EQUAL', 'IN'}
ARRAY_OPS = {'ARRAY_CONTAINS', 'ARRAY_CONTAINS_ANY'}


class IndexConfigError(Exception):
    pass


class Indexes:
    def __init__(self, spec=None, source='(none)'):
        self.source = source
        self.composite = []   # (collectionGroup, scope, [(segs, mode)]) mode: 'ASCENDING'|'DESCENDING'|'CONTAINS'
        self.overrides = {}   # (collectionGroup, segs) -> set of (mode, scope)
        if spec:
            self._load(spec)

    @classmethod
    def from_file(cls, filename):
        try:
            with open(filename) as f:
                spec = json.load(f)
        except (OSError, ValueError) as e:
            raise IndexConfigError('%s: %s' % (filename, e))
        return cls(spec, filename)

    def _load(self, spec):
        if not isinstance(spec, dict):
            raise IndexConfigError('%s: top level must be an object' % self.source)
        for i, ix in enumerate(spec.get('indexes') or []):
            try:
                cg = ix['collectionGroup']
                scope = ix.get('queryScope', 'COLLECTION')
                if scope not in ('COLLECTION', 'COLLECTION_GROUP'):
                    raise ValueError('queryScope %r' % scope)
                fields = []
                for f in ix['fields']:
                    segs = tuple(parse_field_path(f['fieldPath']))
                    if 'order' in f:
                        mode = f['order']
                        if mode not in ('ASCENDING', 'DESCENDING'):
                            raise ValueError('order %r' % mode)
                    elif f.get('arrayConfig') == 'CONTAINS':
                        mode = 'CONTAINS'
                    elif 'vectorConfig' in f:
                        mode = 'VECTOR'
                    else:
                        raise ValueError('field %s needs order or arrayConfig' % f['fieldPath'])
                    fields.append((segs, mode))
            except Exception as e:  # noqa: BLE001 - any malformed entry is a config error
                raise IndexConfigError('%s: indexes[%d]: %s' % (self.source, i, e))
            self.composite.append((cg, scope, fields))
        for i, fo in enumerate(spec.get('fieldOverrides') or []):
            try:
                key = (fo['collectionGroup'], tuple(parse_field_path(fo['fieldPath'])))
                modes = set()
                for ix in fo.get('indexes') or []:
                    mode = ix.get('order') or ('CONTAINS' if ix.get('arrayConfig') == 'CONTAINS' else None)
                    if mode is None:
                        raise ValueError('index needs order or arrayConfig')
                    modes.add((mode, ix.get('queryScope', 'COLLECTION')))
            except Exception as e:  # noqa: BLE001
                raise IndexConfigError('%s: fieldOverrides[%d]: %s' % (self.source, i, e))
            self.overrides[key] = modes

    # ---- checking --------------------------------------------------------------------------

    def _single(self, cg, segs, modes, scope):
        """Is there a single-field index on segs in one of modes for scope?"""
        ov = self.overrides.get((cg, segs))
        if ov is None:
            ov = self.overrides.get(('*', segs))
        if ov is None:
            return scope == 'COLLECTION'
        return any((m, scope) in ov for m in modes)

    def check(self, q, value_fields=()):
        """Raises FAILED_PRECONDITION when q (a parsed query.Query) needs an undeclared index.
        value_fields: fields whose values the query reads from the index (sum/avg aggregations);
        each must follow the query's order in an index, as if ordered by it."""
        cg = q.collection
        scope = 'COLLECTION_GROUP' if q.all_descendants else 'COLLECTION'
        if not cg:
            return  # kindless queries run on the built-in __name__ index
        orders = [q.order]
        for f in value_fields:
            if f != NAME and all(segs != f for segs, _ in q.order):
                orders.append(q.order[:-1] + [(f, q.order[-1][1])] + q.order[-1:])
        for order in orders:
            for term in dnf(q.filter):
                need = self._need(cg, scope, term, order)
                if need is not None:
                    raise failed_precondition(self._message(cg, scope, need))

    def _need(self, cg, scope, term, order):
        eq, arr = [], []
        for f in term:
            if f[1] == NAME:
                continue
            if f[0] == 'unary':
                if f[2] in ('IS_NULL', 'IS_NAN'):
                    eq.append(f[1])
            elif f[2] in EQUALITY_OPS:
                eq.append(f[1])
            elif f[2] in ARRAY_OPS:
                arr.append(f[1])
        eq = list(dict.fromkeys(eq))
        arr = list(dict.fromkeys(arr))
        eqset = set(eq)
        name_desc = order[-1][1] if order and order[-1][0] == NAME else False
        ords = [(segs, desc) for segs, desc in order if segs != NAME and segs not in eqset]
        all_fields = set(eq) | set(arr) | {s for s, _ in ords}
        if not all_fields:
            return None
        if len(all_fields) == 1 and not (arr and (eq or ords)):
            (segs,) = all_fields
            if arr:
                modes = ['CONTAINS']
            elif ords:
                modes = ['DESCENDING' if ords[0][1] else 'ASCENDING']
            else:
                modes = ['ASCENDING', 'DESCENDING']
            if self._single(cg, segs, modes, scope):
                return None
            return ('single', segs, modes[0])
        if not ords:
            for segs in eq:
                if not self._single(cg, segs, ['ASCENDING', 'DESCENDING'], scope):
                    return ('single', segs, 'ASCENDING')
            for segs in arr:
                if not self._single(cg, segs, ['CONTAINS'], scope):
                    return ('single', segs, 'CONTAINS')
            return None
        want_prefix = {(s, 'EQ') for s in eq} | {(s, 'CONTAINS') for s in arr}
        want_suffix = [(s, 'DESCENDING' if d else 'ASCENDING') for s, d in ords]
        flip = {'ASCENDING': 'DESCENDING', 'DESCENDING': 'ASCENDING'}
        reverse_suffix = [(s, flip[m]) for s, m in want_suffix]
        name_mode = 'DESCENDING' if name_desc else 'ASCENDING'
        for icg, iscope, fields in self.composite:
            if icg != cg or iscope != scope:
                continue
            fl = list(fields)
            name_ix = None
            if fl and fl[-1][0] == NAME:
                name_ix = fl[-1][1]
                fl = fl[:-1]
            k = len(fl) - len(want_suffix)
            if k != len(want_prefix) or k < 0:
                continue
            # An index serves its order and the exact reverse of it (scanned backwards).
            if fl[k:] == want_suffix:
                if name_ix is not None and name_ix != name_mode:
                    continue
            elif fl[k:] == reverse_suffix:
                if name_ix is not None and name_ix != flip[name_mode]:
                    continue
            else:
                continue
            got = {(s, 'CONTAINS' if m == 'CONTAINS' else 'EQ') for s, m in fl[:k]}
            if got == want_prefix:
                return None
        fields = [(s, 'ASCENDING') for s in eq] + [(s, 'CONTAINS') for s in arr] + want_suffix
        return ('composite', fields)

    def _message(self, cg, scope, need):
        if need[0] == 'single':
            _, segs, mode = need
            idx = {'order': mode} if mode != 'CONTAINS' else {'arrayConfig': 'CONTAINS'}
            idx['queryScope'] = scope
            entry = {'collectionGroup': cg, 'fieldPath': format_field_path(segs), 'indexes': [idx]}
            what = 'a single-field index exemption (fieldOverrides)'
        else:
            entry = {'collectionGroup': cg, 'queryScope': scope, 'fields': [
                {'fieldPath': format_field_path(s), **({'arrayConfig': 'CONTAINS'} if m == 'CONTAINS' else {'order': m})}
                for s, m in need[1]]}
            what = 'a composite index (indexes)'
        return ('The query requires an index. It is not declared in %s; add %s to firestore.indexes.json: %s'
                % (self.source, what, json.dumps(entry, separators=(',', ':'))))
