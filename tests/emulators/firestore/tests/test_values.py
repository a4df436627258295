"""Values: JSON encoding of every type, timestamps, Firestore's cross-type ordering, field paths."""
import math
import unittest

from fsemu import values as V
from fsemu.errors import ApiError
from fsemu.paths import format_field_path, parse_field_path

REF = 'projects/p/databases/(default)/documents/'


class TimestampTest(unittest.TestCase):
    def test_fraction_digits_0_to_9_compare_as_values(self):
        base = V.parse_timestamp('2024-05-01T10:00:00.123Z')
        for text in ('2024-05-01T10:00:00.123Z', '2024-05-01T10:00:00.1230Z', '2024-05-01T10:00:00.123000Z',
                     '2024-05-01T10:00:00.123000000Z', '2024-05-01T12:00:00.123+02:00',
                     '2024-05-01t10:00:00.123z'):
            self.assertEqual(V.parse_timestamp(text), base, text)
        self.assertEqual(V.parse_timestamp('2024-05-01T10:00:00Z') + 100_000_000,
                         V.parse_timestamp('2024-05-01T10:00:00.1Z'))
        self.assertEqual(V.parse_timestamp('2024-05-01T10:00:00.000000001Z') % 1_000_000_000, 1)

    def test_format_uses_0_3_6_or_9_digits(self):
        f = lambda s: V.format_timestamp(V.parse_timestamp(s))  # noqa: E731
        self.assertEqual(f('2024-05-01T10:00:00Z'), '2024-05-01T10:00:00Z')
        self.assertEqual(f('2024-05-01T10:00:00.5Z'), '2024-05-01T10:00:00.500Z')
        self.assertEqual(f('2024-05-01T10:00:00.123456Z'), '2024-05-01T10:00:00.123456Z')
        self.assertEqual(f('2024-05-01T10:00:00.123456789Z'), '2024-05-01T10:00:00.123456789Z')
        self.assertEqual(f('1969-12-31T23:59:59.999999Z'), '1969-12-31T23:59:59.999999Z')
        self.assertEqual(f('0001-01-01T00:00:00Z'), '0001-01-01T00:00:00Z')
        self.assertEqual(f('9999-12-31T23:59:59.999999999Z'), '9999-12-31T23:59:59.999999999Z')

    def test_stored_timestamps_keep_microseconds(self):
        self.assertEqual(V.to_json(V.parse_value(V.to_json(('t', 1)) | {})), {'timestampValue': '1970-01-01T00:00:00Z'})
        v = V.parse_value({'timestampValue': '2024-05-01T10:00:00.123456789Z'})
        self.assertEqual(V.to_json(v), {'timestampValue': '2024-05-01T10:00:00.123456Z'})

    def test_malformed_timestamps_are_refused(self):
        for bad in ('2024-05-01', '2024-05-01T10:00:00', '2024-13-01T00:00:00Z', '2024-05-01T10:00:00.1234567890Z',
                    '10000-01-01T00:00:00Z', 12, '2024-05-01 10:00:00Z'):
            with self.assertRaises(ApiError, msg=bad) as cm:
                V.parse_value({'timestampValue': bad})
            self.assertEqual(cm.exception.http, 400)


class EncodingTest(unittest.TestCase):
    def roundtrip(self, j, want=None):
        self.assertEqual(V.to_json(V.parse_value(j)), want if want is not None else j)

    def test_every_type(self):
        self.roundtrip({'integerValue': '-9223372036854775808'})
        self.roundtrip({'integerValue': 12}, {'integerValue': '12'})
        self.roundtrip({'doubleValue': 4.5})
        self.roundtrip({'doubleValue': 'NaN'})
        self.roundtrip({'doubleValue': 'Infinity'})
        self.roundtrip({'doubleValue': '-Infinity'})
        self.roundtrip({'doubleValue': float('inf')}, {'doubleValue': 'Infinity'})
        self.roundtrip({'booleanValue': False})
        self.roundtrip({'nullValue': None})
        self.roundtrip({'nullValue': 'NULL_VALUE'}, {'nullValue': None})
        self.roundtrip({'stringValue': 'é中🎬'})
        self.roundtrip({'bytesValue': 'AAH/'})
        self.roundtrip({'bytesValue': 'AAH_'}, {'bytesValue': 'AAH/'})  # URL-safe alphabet accepted
        self.roundtrip({'referenceValue': REF + 'a/b'})
        self.roundtrip({'geoPointValue': {'latitude': 52.5, 'longitude': -13.25}})
        self.roundtrip({'arrayValue': {'values': [{'stringValue': 'a'}, {'integerValue': '1'}]}})
        self.roundtrip({'arrayValue': {}})
        self.roundtrip({'mapValue': {'fields': {'k': {'mapValue': {}}}}})

    def test_malformed_values_are_refused(self):
        for bad in ({}, {'integerValue': '1', 'stringValue': 'x'}, {'integerValue': '9223372036854775808'},
                    {'integerValue': '1.5'}, {'integerValue': True}, {'doubleValue': 'nan'}, {'stringValue': 3},
                    {'booleanValue': 'true'}, {'nullValue': 'NULL'}, {'bytesValue': '***'},
                    {'referenceValue': 'videos/v1'}, {'referenceValue': REF + 'a'},
                    {'geoPointValue': {'latitude': 91, 'longitude': 0}}, {'fooValue': 1},
                    {'arrayValue': {'values': [{'arrayValue': {}}]}}, {'mapValue': {'fields': {'__x__': {'nullValue': None}}}},
                    {'mapValue': {'fields': {'': {'nullValue': None}}}}, 'x'):
            with self.assertRaises(ApiError, msg=repr(bad)) as cm:
                V.parse_value(bad)
            self.assertEqual(cm.exception.status, 'INVALID_ARGUMENT', repr(bad))

    def test_nesting_depth_limit(self):
        def nested(n):
            v = {'integerValue': '1'}
            for _ in range(n):
                v = {'mapValue': {'fields': {'m': v}}}
            return v
        V.parse_fields({'f': nested(20)})
        with self.assertRaises(ApiError):
            V.parse_fields({'f': nested(21)})

    def test_document_size(self):
        # the worked example of https://firebase.google.com/docs/firestore/storage-size
        fields = V.parse_fields({'type': {'stringValue': 'Personal'}, 'done': {'booleanValue': False},
                                 'priority': {'integerValue': '1'},
                                 'description': {'stringValue': 'Learn Cloud Firestore'}})
        self.assertEqual(V.fields_size(fields), 14 + 6 + 17 + 34)
        self.assertEqual(V.name_size('users/jeff/tasks/my_task_id'), 6 + 5 + 6 + 11 + 16)


class OrderingTest(unittest.TestCase):
    ORDER = [
        {'nullValue': None},
        {'booleanValue': False}, {'booleanValue': True},
        {'doubleValue': 'NaN'},
        {'doubleValue': '-Infinity'}, {'integerValue': '-9223372036854775808'}, {'doubleValue': -1.5},
        {'integerValue': '0'}, {'doubleValue': 0.5}, {'integerValue': '1'}, {'doubleValue': 1.5},
        {'integerValue': '9223372036854775807'}, {'doubleValue': 'Infinity'},
        {'timestampValue': '1969-01-01T00:00:00Z'}, {'timestampValue': '2024-01-01T00:00:00.000001Z'},
        {'stringValue': ''}, {'stringValue': 'A'}, {'stringValue': 'a'}, {'stringValue': 'ab'},
        {'stringValue': 'é'}, {'stringValue': '中'}, {'stringValue': '🎬'},
        {'bytesValue': ''}, {'bytesValue': 'AA=='}, {'bytesValue': '/w=='},
        {'referenceValue': REF + 'a/b'}, {'referenceValue': REF + 'a/b/c/d'}, {'referenceValue': REF + 'a/c'},
        {'referenceValue': REF + 'b/a'},
        {'geoPointValue': {'latitude': -10, 'longitude': 50}}, {'geoPointValue': {'latitude': 0, 'longitude': -50}},
        {'geoPointValue': {'latitude': 0, 'longitude': 0}},
        {'arrayValue': {}}, {'arrayValue': {'values': [{'nullValue': None}]}},
        {'arrayValue': {'values': [{'integerValue': '1'}]}},
        {'arrayValue': {'values': [{'integerValue': '1'}, {'integerValue': '0'}]}},
        {'arrayValue': {'values': [{'stringValue': 'a'}]}},
        {'mapValue': {'fields': {'__type__': {'stringValue': '__vector__'},
                                 'value': {'arrayValue': {'values': [{'doubleValue': 9}]}}}}},
        {'mapValue': {'fields': {'__type__': {'stringValue': '__vector__'},
                                 'value': {'arrayValue': {'values': [{'doubleValue': 1}, {'doubleValue': 2}]}}}}},
        {'mapValue': {}}, {'mapValue': {'fields': {'a': {'integerValue': '1'}}}},
        {'mapValue': {'fields': {'a': {'integerValue': '2'}}}},
        {'mapValue': {'fields': {'a': {'integerValue': '2'}, 'b': {'nullValue': None}}}},
        {'mapValue': {'fields': {'b': {'nullValue': None}}}},
    ]

    def test_total_order_across_types(self):
        vals = [V.parse_value(j) for j in self.ORDER]
        for i in range(len(vals)):
            for k in range(len(vals)):
                want = (i > k) - (i < k)
                self.assertEqual(V.compare(vals[i], vals[k]), want, '%s vs %s' % (self.ORDER[i], self.ORDER[k]))
        shuffled = list(reversed(vals))
        self.assertEqual(sorted(shuffled, key=V.sort_key), vals)

    def test_numbers_compare_by_value_across_int_and_double(self):
        self.assertTrue(V.equal(V.parse_value({'integerValue': '3'}), V.parse_value({'doubleValue': 3.0})))
        self.assertTrue(V.equal(V.parse_value({'doubleValue': -0.0}), V.parse_value({'integerValue': '0'})))
        nan = V.parse_value({'doubleValue': 'NaN'})
        self.assertTrue(V.equal(nan, nan))
        big = V.parse_value({'integerValue': str(2 ** 53 + 1)})
        self.assertEqual(V.compare(big, V.parse_value({'doubleValue': float(2 ** 53)})), 1)


class FieldPathTest(unittest.TestCase):
    def test_parse(self):
        self.assertEqual(parse_field_path('a.b_1.c'), ['a', 'b_1', 'c'])
        self.assertEqual(parse_field_path('`a.b`.`c``d`'.replace('``', '\\`')), ['a.b', 'c`d'])
        self.assertEqual(parse_field_path('`1st`'), ['1st'])
        self.assertEqual(parse_field_path('`back\\\\slash`'), ['back\\slash'])
        self.assertEqual(parse_field_path('__name__'), ['__name__'])
        for bad in ('', 'a..b', '.a', 'a.', '1st', 'a-b', '`a', 'a b', '``'):
            with self.assertRaises(ApiError, msg=bad):
                parse_field_path(bad)

    def test_format_quotes_what_needs_quoting(self):
        self.assertEqual(format_field_path(['a', 'b.c', '1x', 'q`']), 'a.`b.c`.`1x`.`q\\``')
        for segs in (['a'], ['a.b', 'c'], ['x`y', 'z\\']):
            self.assertEqual(parse_field_path(format_field_path(segs)), segs)


if __name__ == '__main__':
    unittest.main()


class NumericIdTest(unittest.TestCase):
    def test_numeric_ids_sort_before_names_in_references_only(self):
        lo = V.parse_value({'referenceValue': REF + 'c/__id-9223372036854775808__'})
        mid = V.parse_value({'referenceValue': REF + 'c/__id7__'})
        for name in ('0', 'A', '_', 'a', '__id__x'):
            v = V.parse_value({'referenceValue': REF + 'c/' + name})
            self.assertEqual(V.compare(lo, v), -1, name)
            self.assertEqual(V.compare(mid, v), -1, name)
        self.assertEqual(V.compare(lo, mid), -1)
        with self.assertRaises(ApiError):
            from fsemu.paths import check_document_path
            check_document_path('c/__id7__')  # not as the id of a written document
