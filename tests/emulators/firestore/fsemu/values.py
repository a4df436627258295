"""Firestore Values: JSON (REST v1) <-> tagged tuples, Firestore's cross-type ordering, sizes.

Internal form of a value is a 2-tuple (tag, payload):
  ('n', None) null            ('B', bool) boolean        ('i', int) integer (int64)
  ('d', float) double         ('t', int) timestamp as nanoseconds since the epoch (micro precision)
  ('s', str) string           ('b', bytes) bytes         ('r', str) reference (full document name)
  ('g', (lat, lng)) geoPoint  ('a', list) array          ('m', dict) map (name -> value)
"""
import base64
import binascii
import math
import re

from .errors import invalid

INT64_MIN = -(1 << 63)
INT64_MAX = (1 << 63) - 1
MAX_DEPTH = 20  # maps and arrays nested inside a document (Firestore: 20 levels)

NULL = ('n', None)

# ---- timestamps -------------------------------------------------------------------------------

_TS_RE = re.compile(r'^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?([Zz]|[+-]\d{2}:\d{2})$')
_DAYS_BEFORE_MONTH = (0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334)
MIN_TS_S = -62135596800  # 0001-01-01T00:00:00Z
MAX_TS_S = 253402300799  # 9999-12-31T23:59:59Z


def _days_from_civil(y, m, d):
    y -= m <= 2
    era = (y if y >= 0 else y - 399) // 400
    yoe = y - era * 400
    doy = (153 * (m + (-3 if m > 2 else 9)) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def _civil_from_days(z):
    z += 719468
    era = (z if z >= 0 else z - 146096) // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    y = yoe + era * 400
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = mp + (3 if mp < 10 else -9)
    return y + (m <= 2), m, d


def parse_timestamp(text, what='timestamp'):
    """RFC 3339 with 0-9 fraction digits -> nanoseconds since the epoch (not truncated)."""
    if not isinstance(text, str):
        raise invalid('Invalid value for %s: %s' % (what, _short(text)))
    m = _TS_RE.match(text)
    if not m:
        raise invalid('Invalid value at \'%s\' (type.googleapis.com/google.protobuf.Timestamp), '
                      'Field \'%s\', Invalid time format: %s' % (what, what, text))
    y, mo, d, hh, mi, ss = (int(m.group(i)) for i in range(1, 7))
    if not (1 <= mo <= 12 and 1 <= d <= 31 and hh <= 23 and mi <= 59 and ss <= 60):
        raise invalid('Invalid time format: %s' % text)
    frac = m.group(7) or ''
    nanos = int(frac.ljust(9, '0')) if frac else 0
    secs = _days_from_civil(y, mo, d) * 86400 + hh * 3600 + mi * 60 + ss
    tz = m.group(8)
    if tz not in ('Z', 'z'):
        sign = 1 if tz[0] == '+' else -1
        secs -= sign * (int(tz[1:3]) * 3600 + int(tz[4:6]) * 60)
    if secs < MIN_TS_S or secs > MAX_TS_S:
        raise invalid('Timestamp out of range: %s' % text)
    return secs * 1_000_000_000 + nanos


def format_timestamp(ns):
    """Nanoseconds -> RFC 3339 UTC with 0, 3, 6 or 9 fraction digits (proto3 JSON style)."""
    secs, nanos = divmod(ns, 1_000_000_000)
    days, rem = divmod(secs, 86400)
    y, mo, d = _civil_from_days(days)
    hh, rem = divmod(rem, 3600)
    mi, ss = divmod(rem, 60)
    base = '%04d-%02d-%02dT%02d:%02d:%02d' % (y, mo, d, hh, mi, ss)
    if nanos == 0:
        return base + 'Z'
    if nanos % 1_000_000 == 0:
        return '%s.%03dZ' % (base, nanos // 1_000_000)
    if nanos % 1000 == 0:
        return '%s.%06dZ' % (base, nanos // 1000)
    return '%s.%09dZ' % (base, nanos)


def truncate_micros(ns):
    return ns - ns % 1000


# ---- JSON -> internal -------------------------------------------------------------------------

_VALUE_KEYS = frozenset(('nullValue', 'booleanValue', 'integerValue', 'doubleValue', 'timestampValue',
                         'stringValue', 'bytesValue', 'referenceValue', 'geoPointValue', 'arrayValue',
                         'mapValue'))
DOC_NAME_RE = re.compile(r'^projects/([^/]+)/databases/([^/]+)/documents/(.+)$')


def _short(v):
    s = repr(v)
    return s if len(s) < 80 else s[:77] + '...'


def parse_int64(v, what):
    if isinstance(v, bool):
        raise invalid('Invalid value at \'%s\' (TYPE_INT64), %s' % (what, _short(v)))
    if isinstance(v, int):
        n = v
    elif isinstance(v, float) and v.is_integer():
        n = int(v)
    elif isinstance(v, str) and re.fullmatch(r'[+-]?\d+', v.strip() if v else v):
        n = int(v)
    else:
        raise invalid('Invalid value at \'%s\' (TYPE_INT64), %s' % (what, _short(v)))
    if n < INT64_MIN or n > INT64_MAX:
        raise invalid('Invalid value at \'%s\' (TYPE_INT64), %s' % (what, _short(v)))
    return n


def parse_double(v, what):
    if isinstance(v, bool):
        raise invalid('Invalid value at \'%s\' (TYPE_DOUBLE), %s' % (what, _short(v)))
    if isinstance(v, (int, float)):
        return float(v)
    if isinstance(v, str):
        special = {'NaN': math.nan, 'Infinity': math.inf, '-Infinity': -math.inf}
        if v in special:
            return special[v]
        if re.fullmatch(r'[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?', v):
            return float(v)
    raise invalid('Invalid value at \'%s\' (TYPE_DOUBLE), %s' % (what, _short(v)))


def parse_bytes(v, what):
    if not isinstance(v, str):
        raise invalid('Invalid value at \'%s\' (TYPE_BYTES), %s' % (what, _short(v)))
    s = v.replace('-', '+').replace('_', '/')
    s += '=' * (-len(s) % 4)
    try:
        return base64.b64decode(s, validate=True)
    except (binascii.Error, ValueError):
        raise invalid('Invalid value at \'%s\' (TYPE_BYTES), Base64 decoding failed for %s' % (what, _short(v)))


def parse_value(j, what='value', depth=0):
    """One REST Value object -> internal tuple; 400 INVALID_ARGUMENT when malformed."""
    if not isinstance(j, dict):
        raise invalid('Invalid value at \'%s\' (type.googleapis.com/google.firestore.v1.Value), %s'
                      % (what, _short(j)))
    if len(j) != 1:
        keys = [k for k in j if k in _VALUE_KEYS]
        unknown = [k for k in j if k not in _VALUE_KEYS]
        if unknown:
            raise invalid('Invalid JSON payload received. Unknown name "%s" at \'%s\': Cannot find field.'
                          % (unknown[0], what))
        if not keys:
            raise invalid('Value at \'%s\' must have a value type set' % what)
        raise invalid('Invalid JSON payload received. Multiple values for oneof value_type at \'%s\' (%s).'
                      % (what, ', '.join(keys)))
    (k, v), = j.items()
    if k == 'stringValue':
        if not isinstance(v, str):
            raise invalid('Invalid value at \'%s.stringValue\' (TYPE_STRING), %s' % (what, _short(v)))
        return ('s', v)
    if k == 'integerValue':
        return ('i', parse_int64(v, what + '.integerValue'))
    if k == 'doubleValue':
        return ('d', parse_double(v, what + '.doubleValue'))
    if k == 'booleanValue':
        if not isinstance(v, bool):
            raise invalid('Invalid value at \'%s.booleanValue\' (TYPE_BOOL), %s' % (what, _short(v)))
        return ('B', v)
    if k == 'nullValue':
        if v is None or v == 'NULL_VALUE' or v == 0:
            return NULL
        raise invalid('Invalid value at \'%s.nullValue\' (type.googleapis.com/google.protobuf.NullValue), %s'
                      % (what, _short(v)))
    if k == 'timestampValue':
        return ('t', truncate_micros(parse_timestamp(v, what + '.timestampValue')))
    if k == 'bytesValue':
        return ('b', parse_bytes(v, what + '.bytesValue'))
    if k == 'referenceValue':
        if not isinstance(v, str) or not DOC_NAME_RE.match(v):
            raise invalid('Invalid reference value at \'%s.referenceValue\': %s; must be a document name '
                          '"projects/{p}/databases/{d}/documents/{path}"' % (what, _short(v)))
        from .paths import check_document_path
        check_document_path(DOC_NAME_RE.match(v).group(3), allow_numeric=True)
        return ('r', v)
    if k == 'geoPointValue':
        if not isinstance(v, dict) or set(v) - {'latitude', 'longitude'}:
            raise invalid('Invalid value at \'%s.geoPointValue\', %s' % (what, _short(v)))
        lat = parse_double(v.get('latitude', 0.0), what + '.geoPointValue.latitude')
        lng = parse_double(v.get('longitude', 0.0), what + '.geoPointValue.longitude')
        if not (-90.0 <= lat <= 90.0) or not (-180.0 <= lng <= 180.0):
            raise invalid('Invalid geo point at \'%s\': latitude must be in [-90, 90] and longitude in '
                          '[-180, 180]' % what)
        return ('g', (lat, lng))
    if depth >= MAX_DEPTH:
        raise invalid('Value at \'%s\' exceeds the maximum nesting depth of %d' % (what, MAX_DEPTH))
    if k == 'arrayValue':
        if v is None:
            return ('a', [])
        if not isinstance(v, dict) or set(v) - {'values'}:
            raise invalid('Invalid value at \'%s.arrayValue\', %s' % (what, _short(v)))
        vals = v.get('values') or []
        if not isinstance(vals, list):
            raise invalid('Invalid value at \'%s.arrayValue.values\', %s' % (what, _short(vals)))
        out = []
        for i, e in enumerate(vals):
            pv = parse_value(e, '%s.arrayValue.values[%d]' % (what, i), depth + 1)
            if pv[0] == 'a':
                raise invalid('Cannot convert an array value in an array value (at \'%s\').' % what)
            out.append(pv)
        return ('a', out)
    if k == 'mapValue':
        if v is None:
            return ('m', {})
        if not isinstance(v, dict) or set(v) - {'fields'}:
            raise invalid('Invalid value at \'%s.mapValue\', %s' % (what, _short(v)))
        return ('m', parse_fields(v.get('fields') or {}, what + '.mapValue.fields', depth + 1))
    raise invalid('Invalid JSON payload received. Unknown name "%s" at \'%s\': Cannot find field.' % (k, what))


_RESERVED = re.compile(r'^__.*__$')


def parse_fields(j, what='fields', depth=0):
    if not isinstance(j, dict):
        raise invalid('Invalid value at \'%s\', expected a map of Values, got %s' % (what, _short(j)))
    out = {}
    for name, v in j.items():
        check_field_name(name)
        out[name] = parse_value(v, '%s[%s]' % (what, name), depth)
    return out


def check_field_name(name):
    if name == '':
        raise invalid('Field names must not be empty.')
    if len(name.encode('utf-8', 'surrogatepass')) > 1500:
        raise invalid('Field name exceeds 1,500 bytes: %s...' % name[:40])
    if _RESERVED.match(name) and name != '__type__':
        raise invalid('Field name "%s" is reserved: names matching __.*__ are reserved.' % name)


# ---- internal -> JSON -------------------------------------------------------------------------

def to_json(v):
    t, p = v
    if t == 's':
        return {'stringValue': p}
    if t == 'i':
        return {'integerValue': str(p)}
    if t == 'd':
        if p != p:
            return {'doubleValue': 'NaN'}
        if p in (math.inf, -math.inf):
            return {'doubleValue': 'Infinity' if p > 0 else '-Infinity'}
        return {'doubleValue': int(p) if p.is_integer() and abs(p) < 2 ** 53 and not (p == 0 and math.copysign(1, p) < 0) else p}
    if t == 'B':
        return {'booleanValue': p}
    if t == 'n':
        return {'nullValue': None}
    if t == 't':
        return {'timestampValue': format_timestamp(p)}
    if t == 'b':
        return {'bytesValue': base64.b64encode(p).decode('ascii')}
    if t == 'r':
        return {'referenceValue': p}
    if t == 'g':
        return {'geoPointValue': {'latitude': p[0], 'longitude': p[1]}}
    if t == 'a':
        return {'arrayValue': {'values': [to_json(e) for e in p]} if p else {}}
    if t == 'm':
        return {'mapValue': {'fields': fields_to_json(p)} if p else {}}
    raise AssertionError(t)


def fields_to_json(fields):
    return {k: to_json(v) for k, v in fields.items()}


# ---- ordering ---------------------------------------------------------------------------------
# Firestore's order across types: null < booleans < NaN < numbers (integers and doubles mixed) <
# timestamps < strings (UTF-8 byte order = code point order) < bytes < references < geo points <
# arrays < vectors < maps.

TYPE_ORDER = {'n': 0, 'B': 1, 'i': 3, 'd': 3, 't': 4, 's': 5, 'b': 6, 'r': 7, 'g': 8, 'a': 9, 'm': 11}


def type_rank(v):
    t, p = v
    if t == 'd' and p != p:
        return 2
    if t == 'm' and is_vector(v):
        return 10
    return TYPE_ORDER[t]


def is_vector(v):
    p = v[1]
    return p.get('__type__') == ('s', '__vector__')


def _str_key(s):
    # Python compares str by code point, which is UTF-8 byte order except for lone surrogates.
    return s


def sort_key(v):
    t, p = v
    if t == 'n':
        return (0,)
    if t == 'B':
        return (1, p)
    if t == 'i':
        return (3, p)
    if t == 'd':
        if p != p:
            return (2,)
        return (3, p)
    if t == 't':
        return (4, p)
    if t == 's':
        return (5, _str_key(p))
    if t == 'b':
        return (6, p)
    if t == 'r':
        from .paths import path_key
        return (7, path_key(p))
    if t == 'g':
        return (8, p[0], p[1])
    if t == 'a':
        return (9, tuple(sort_key(e) for e in p))
    if t == 'm':
        if is_vector(v):
            arr = p.get('value', ('a', []))
            elems = arr[1] if arr[0] == 'a' else []
            return (10, len(elems), tuple(sort_key(e) for e in elems))
        return (11, tuple((k, sort_key(p[k])) for k in sorted(p)))
    raise AssertionError(t)


def compare(a, b):
    ka, kb = sort_key(a), sort_key(b)
    return (ka > kb) - (ka < kb)


def equal(a, b):
    """Firestore equality: 1 == 1.0, NaN == NaN (as Firestore treats it in arrays and IN), -0.0 == 0.0."""
    return sort_key(a) == sort_key(b)


# ---- sizes (https://firebase.google.com/docs/firestore/storage-size) -------------------------

def value_size(v):
    t, p = v
    if t in ('n', 'B'):
        return 1
    if t in ('i', 'd', 't'):
        return 8
    if t == 'g':
        return 16
    if t == 's':
        return len(p.encode('utf-8', 'surrogatepass')) + 1
    if t == 'b':
        return len(p)
    if t == 'r':
        return name_size(p.split('/documents/', 1)[1])
    if t == 'a':
        return sum(value_size(e) for e in p)
    if t == 'm':
        return fields_size(p)
    raise AssertionError(t)


def fields_size(fields):
    return sum(len(k.encode('utf-8', 'surrogatepass')) + 1 + value_size(v) for k, v in fields.items())


def name_size(path):
    return sum(len(s.encode('utf-8', 'surrogatepass')) + 1 for s in path.split('/')) + 16


def document_size(path, fields):
    return name_size(path) + fields_size(fields) + 32
