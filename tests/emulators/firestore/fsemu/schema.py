"""Request bodies checked against the v1 discovery document: unknown names are refused (400) as
Google's JSON front end does, enums are accepted as names or numbers and normalised to names."""
import json
import os

from .errors import invalid

_HERE = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(_HERE, '..', 'firestore.v1.discovery.json'), encoding='utf-8') as _f:
    _SCHEMAS = json.load(_f)['schemas']

# Proto enum numbers where they differ from the position in the discovery list.
_ENUM_NUMBERS = {
    ('OPERATOR_UNSPECIFIED', 'IS_NAN', 'IS_NULL', 'IS_NOT_NAN', 'IS_NOT_NULL'):
        {0: 'OPERATOR_UNSPECIFIED', 2: 'IS_NAN', 3: 'IS_NULL', 4: 'IS_NOT_NAN', 5: 'IS_NOT_NULL'},
}


def _enum_name(enum, v, where):
    if isinstance(v, bool):
        pass
    elif isinstance(v, int) or (isinstance(v, str) and v.isdigit()):
        n = int(v)
        table = _ENUM_NUMBERS.get(tuple(enum))
        if table is not None:
            if n in table:
                return table[n]
        elif 0 <= n < len(enum):
            return enum[n]
    elif isinstance(v, str) and v in enum:
        return v
    raise invalid('Invalid value at \'%s\' (%s), %s' % (where, 'TYPE_ENUM', json.dumps(v)))


def _bad_type(where, kind, v):
    return invalid('Invalid value at \'%s\' (%s), %s' % (where, kind, json.dumps(v)[:80]))


def check(schema_name, body):
    """Validates body (already JSON-decoded) in place; returns it with enums as names."""
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise invalid('Invalid JSON payload received. Expected an object, got %s.' % json.dumps(body)[:40])
    _check_obj(_SCHEMAS[schema_name], body, '')
    return body


def _check_obj(schema, obj, where):
    props = schema.get('properties', {})
    for k in list(obj):
        p = props.get(k)
        if p is None:
            at = (' at \'%s\'' % where) if where else ''
            raise invalid('Invalid JSON payload received. Unknown name "%s"%s: Cannot find field.' % (k, at))
        v = obj[k]
        if v is None:
            continue
        sub = '%s.%s' % (where, k) if where else k
        obj[k] = _check_val(p, v, sub)


def _check_val(p, v, where):
    if v is None:
        return v
    ref = p.get('$ref')
    if ref:
        if not isinstance(v, dict):
            raise invalid('Invalid JSON payload received. Expected an object for \'%s\', got %s.'
                          % (where, json.dumps(v)[:40]))
        _check_obj(_SCHEMAS[ref], v, where)
        return v
    t = p.get('type')
    if t == 'object':
        if not isinstance(v, dict):
            raise _bad_type(where, 'TYPE_MESSAGE', v)
        ap = p.get('additionalProperties')
        if ap is not None:
            for k in list(v):
                if v[k] is not None:
                    v[k] = _check_val(ap, v[k], '%s[%s]' % (where, k))
        return v
    if t == 'array':
        if not isinstance(v, list):
            raise invalid('Invalid JSON payload received. Expected a list for \'%s\'.' % where)
        item = p.get('items', {})
        for i in range(len(v)):
            if v[i] is not None:
                v[i] = _check_val(item, v[i], '%s[%d]' % (where, i))
        return v
    if 'enum' in p:
        return _enum_name(p['enum'], v, where)
    if t == 'string':
        fmt = p.get('format')
        if fmt == 'int64':
            if isinstance(v, bool) or not isinstance(v, (str, int)):
                raise _bad_type(where, 'TYPE_INT64', v)
        elif not isinstance(v, str):
            raise _bad_type(where, 'TYPE_STRING', v)
        return v
    if t == 'integer':
        if isinstance(v, bool):
            raise _bad_type(where, 'TYPE_INT32', v)
        if isinstance(v, str):
            try:
                v = int(v)
            except ValueError:
                raise _bad_type(where, 'TYPE_INT32', v)
        if isinstance(v, float) and v.is_integer():
            v = int(v)
        if not isinstance(v, int) or not (-(1 << 31) <= v < (1 << 31)):
            raise _bad_type(where, 'TYPE_INT32', v)
        return v
    if t == 'number':
        if isinstance(v, bool) or not (isinstance(v, (int, float)) or v in ('NaN', 'Infinity', '-Infinity')):
            raise _bad_type(where, 'TYPE_DOUBLE', v)
        return v
    if t == 'boolean':
        if not isinstance(v, bool):
            raise _bad_type(where, 'TYPE_BOOL', v)
        return v
    if t == 'any':
        return v
    return v
