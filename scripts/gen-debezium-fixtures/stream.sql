-- Streaming changes, executed by generate.sh after the connector finished its snapshot.
-- Every step is its own transaction and records (txid, label) in fixture_steps (not captured),
-- which the generator uses to label each change event with the step that produced it.
\set ON_ERROR_STOP 1
SET TimeZone = 'UTC';

SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'hstore') AS have_hstore \gset
\if :have_hstore
\set hs_col ', c_hstore'
\set hs_row4 ', ''"k"=>"v"''::hstore'
\set hs_row5 ', ''"empty"=>""''::hstore'
\else
\set hs_col ''
\set hs_row4 ''
\set hs_row5 ''
\endif

-- insert (c): minima, -infinity, negative numerics, very old dates
BEGIN;
INSERT INTO fixture_steps VALUES (txid_current(), 'insert_all_types_minima');
INSERT INTO all_types (id, c_smallint, c_integer, c_bigint, c_real, c_double, c_boolean, c_varchar, c_text,
    c_char, c_numeric, c_numeric_big, c_numeric_var, c_money, c_date, c_time3, c_time6, c_ts3, c_ts6, c_tstz,
    c_timetz, c_interval, c_json, c_jsonb, c_uuid, c_enum, c_bytea, c_bit1, c_bit4, c_varbit, c_xml, c_inet,
    c_int4_arr, c_text_arr, c_int_default :hs_col)
VALUES
(4, -32768, -2147483648, -9223372036854775808, -1.17549435e-38, 4.9e-324, false, 'x', 'minima',
    'z', -99999999.99, -99999999999999999999999999999999999.99999, -0.000000000000000000000000000000000001, -92233720368547758.08,
    '0001-01-01', '00:00:00', '00:00:00.000001', '-infinity', 'infinity',
    '-infinity', '00:00:00+14:59', '-1 days -00:00:00.000001',
    '[1, 2.5, "three", {"four": null}]', '{"nested": {"deep": [1, {"x": 2}]}}', 'ffffffff-ffff-ffff-ffff-ffffffffffff', 'ok',
    '\x00', B'0', B'0001', B'1',
    '<?xml version="1.0"?><r/>', '10.0.0.0/8', '{-2147483648,2147483647}', '{""}', -1 :hs_row4);
COMMIT;

-- insert (c): special floating point and NUMERIC values, very old/far timestamps
BEGIN;
INSERT INTO fixture_steps VALUES (txid_current(), 'insert_all_types_special');
INSERT INTO all_types (id, c_smallint, c_integer, c_bigint, c_real, c_double, c_boolean, c_varchar, c_text,
    c_char, c_numeric, c_numeric_big, c_numeric_var, c_money, c_date, c_time3, c_time6, c_ts3, c_ts6, c_tstz,
    c_timetz, c_interval, c_json, c_jsonb, c_uuid, c_enum, c_bytea, c_bit1, c_bit4, c_varbit, c_xml, c_inet,
    c_int4_arr, c_text_arr, c_int_default :hs_col)
VALUES
(5, 0, 0, 0, 'NaN', '-Infinity', true, 'special', '',
    '', 0, 0.00001, 'NaN', 0,
    '9999-12-31', '12:00:00.5', '12:00:00.5', '1900-01-01 00:00:00.001', '1969-12-31 23:59:59.999999',
    '1970-01-01 00:00:00+00', '12:00:00.5-08', '0 seconds',
    'null', '"just a string"', '6ba7b810-9dad-11d1-80b4-00c04fd430c8', 'sad',
    '\x5c22', B'1', B'1000', B'10000000000000001',
    '<r>é</r>', '2001:db8::1/128', '{1}', '{"{}","a,b"}', 0 :hs_row5);
COMMIT;

-- insert (c): +/-infinity through the streaming path
BEGIN;
INSERT INTO fixture_steps VALUES (txid_current(), 'insert_infinities');
INSERT INTO infinities VALUES
    (3, 'streaming +infinity', 'infinity', 'infinity', 'infinity', 'infinity'),
    (4, 'streaming -infinity', '-infinity', '-infinity', '-infinity', '-infinity');
COMMIT;

-- update (u) on REPLICA IDENTITY DEFAULT: `before` is null
BEGIN;
INSERT INTO fixture_steps VALUES (txid_current(), 'update_all_types');
UPDATE all_types SET c_integer = c_integer + 1, c_text = 'updated', c_tstz = '2024-03-01 00:00:00+00' WHERE id = 1;
COMMIT;

-- delete (d) + tombstone on REPLICA IDENTITY DEFAULT: `before` has only the key columns
BEGIN;
INSERT INTO fixture_steps VALUES (txid_current(), 'delete_all_types');
DELETE FROM all_types WHERE id = 2;
COMMIT;

-- update (u) that leaves the TOASTed columns unchanged -> __debezium_unavailable_value placeholders
BEGIN;
INSERT INTO fixture_steps VALUES (txid_current(), 'update_toast_unchanged');
UPDATE toast_default SET counter = counter + 1 WHERE id = 1;
COMMIT;

-- REPLICA IDENTITY FULL: insert two rows in one transaction, update, delete (+ tombstone)
BEGIN;
INSERT INTO fixture_steps VALUES (txid_current(), 'insert_full_ident_two_rows');
INSERT INTO full_ident VALUES (3, 'doohickey', 1, 0.001, '2024-05-05 05:05:05.5+02'), (4, NULL, NULL, NULL, NULL);
COMMIT;
BEGIN;
INSERT INTO fixture_steps VALUES (txid_current(), 'update_full_ident');
UPDATE full_ident SET qty = qty + 1, name = 'widget v2', updated_at = '2024-06-01 00:00:00+00' WHERE id = 1;
COMMIT;
BEGIN;
INSERT INTO fixture_steps VALUES (txid_current(), 'delete_full_ident');
DELETE FROM full_ident WHERE id = 2;
COMMIT;

-- primary-key change: d (header __debezium.newkey) + tombstone + c (header __debezium.oldkey)
BEGIN;
INSERT INTO fixture_steps VALUES (txid_current(), 'update_customers_pk_change');
UPDATE customers SET id = 10, name = 'Ann (moved)' WHERE id = 1;
COMMIT;

-- table without primary key: null keys
BEGIN;
INSERT INTO fixture_steps VALUES (txid_current(), 'no_pk_insert_update_delete');
INSERT INTO no_pk VALUES ('second', 2);
UPDATE no_pk SET n = 20 WHERE note = 'second';
DELETE FROM no_pk WHERE note = 'first';
COMMIT;

-- TRUNCATE (t): requires skipped.operations=none
BEGIN;
INSERT INTO fixture_steps VALUES (txid_current(), 'truncate_trunc_demo');
TRUNCATE trunc_demo;
COMMIT;

-- end-of-stream marker (the generator stops when it sees this event; not written to fixtures)
BEGIN;
INSERT INTO fixture_steps VALUES (txid_current(), 'marker');
INSERT INTO zz_marker VALUES (1);
COMMIT;
