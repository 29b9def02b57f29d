-- Schema and initial (snapshot) data for the Debezium fixtures.
-- Run with psql (uses \gset / \if), ON_ERROR_STOP=1, against an empty database.
-- Everything inserted here is captured by the connector's initial snapshot (op = 'r').

SET TimeZone = 'UTC';

-- hstore is a contrib extension; use it only when the server ships it.
SELECT EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'hstore') AS have_hstore \gset
\if :have_hstore
CREATE EXTENSION hstore;
\set hs_col ', c_hstore'
\set hs_typ ', c_hstore hstore'
\set hs_row1 ', ''"a"=>"1", "b c"=>"x=>y", "n"=>NULL''::hstore'
\set hs_null ', NULL'
\set hs_row3 ', ''''::hstore'
\else
\echo 'hstore extension not available: column c_hstore omitted'
\set hs_col ''
\set hs_typ ''
\set hs_row1 ''
\set hs_null ''
\set hs_row3 ''
\endif

CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');

-- Main table: one column per PostgreSQL type of interest; REPLICA IDENTITY DEFAULT (the PK).
CREATE TABLE all_types (
    id            integer PRIMARY KEY,
    c_smallint    smallint,
    c_integer     integer,
    c_bigint      bigint,
    c_real        real,
    c_double      double precision,
    c_boolean     boolean,
    c_varchar     varchar(64),
    c_text        text,
    c_char        char(5),
    c_numeric     numeric(10,2),
    c_numeric_big numeric(40,5),
    c_numeric_var numeric,
    c_money       money,
    c_date        date,
    c_time3       time(3),
    c_time6       time(6),
    c_ts3         timestamp(3),
    c_ts6         timestamp(6),
    c_tstz        timestamptz,
    c_timetz      timetz,
    c_interval    interval,
    c_json        json,
    c_jsonb       jsonb,
    c_uuid        uuid,
    c_enum        mood,
    c_bytea       bytea,
    c_bit1        bit(1),
    c_bit4        bit(4),
    c_varbit      varbit,
    c_xml         xml,
    c_inet        inet,
    c_int4_arr    int4[],
    c_text_arr    text[],
    c_int_default integer DEFAULT 42
    :hs_typ
);

INSERT INTO all_types (id, c_smallint, c_integer, c_bigint, c_real, c_double, c_boolean, c_varchar, c_text,
    c_char, c_numeric, c_numeric_big, c_numeric_var, c_money, c_date, c_time3, c_time6, c_ts3, c_ts6, c_tstz,
    c_timetz, c_interval, c_json, c_jsonb, c_uuid, c_enum, c_bytea, c_bit1, c_bit4, c_varbit, c_xml, c_inet,
    c_int4_arr, c_text_arr, c_int_default :hs_col)
VALUES
-- 1: ordinary values
(1, 12, 123456, 1234567890123, 1.5, 3.141592653589793, true, 'héllo wörld ✓ 🎉', E'line1\nline2\t"quoted" \\ back',
    'ab', 1234.56, 12345.67891, 3.14159265358979323846264338327950288419716939937510, 1234.56,
    '2024-02-29', '13:45:56.123', '13:45:56.123456', '2024-02-29 13:45:56.123', '2024-02-29 13:45:56.123456',
    '2024-02-29 13:45:56.123456+05:30', '10:11:12.345678+05:30', '1 year 2 months 3 days 04:05:06.789',
    '{"a": 1,  "b": [true, null], "s": "x\"y"}', '{"a": 1,  "b": [true, null], "s": "x\"y"}',
    'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', 'happy', '\xdeadbeef00ff', B'1', B'1010', B'110100111',
    '<a x="1">text &amp; more</a>', '192.168.0.1/24', '{1,2,NULL,-3}', '{"a","b c",NULL,"quote\"d"}', 7 :hs_row1),
-- 2: NULL in every nullable column (c_int_default explicitly NULL although it has a DEFAULT)
(2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
    NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL :hs_null),
-- 3: maxima / +infinity / large numerics / empty containers
(3, 32767, 2147483647, 9223372036854775807, 3.4028235e38, 1.7976931348623157e308, false, '', '',
    'abcde', 99999999.99, 99999999999999999999999999999999999.99999, 123456789012345678901234567890.123456789, 92233720368547758.07,
    '-infinity', '23:59:59.999', '23:59:59.999999', 'infinity', '-infinity',
    'infinity', '23:59:59.999999-14:59', '-178000000 years',
    '{}', '[]', '00000000-0000-0000-0000-000000000000', 'sad', '\x', B'0', B'1111', B'',
    '<empty/>', '::1', '{}', '{}', 0 :hs_row3);

-- +/-infinity in date/timestamp/timestamptz: the same values once via the snapshot (JDBC) and
-- once via streaming (pgoutput text), see stream.sql.
CREATE TABLE infinities (
    id    integer PRIMARY KEY,
    note  text,
    d     date,
    ts3   timestamp(3),
    ts6   timestamp(6),
    tstz  timestamptz
);
INSERT INTO infinities VALUES
    (1, 'snapshot +infinity', 'infinity', 'infinity', 'infinity', 'infinity'),
    (2, 'snapshot -infinity', '-infinity', '-infinity', '-infinity', '-infinity');

-- TOAST demo, REPLICA IDENTITY DEFAULT. toast_tuple_target=128 plus STORAGE EXTERNAL make every
-- big column be stored out of line (uncompressed) once the row exceeds ~2 kB, while keeping the
-- values themselves short (< 1 kB each) so that the fixtures stay small.
CREATE TABLE toast_default (
    id           integer PRIMARY KEY,
    counter      integer NOT NULL,
    big_text     text,
    big_jsonb    jsonb,
    big_bytea    bytea,
    big_text_arr text[]
) WITH (toast_tuple_target = 128);
ALTER TABLE toast_default ALTER COLUMN big_text SET STORAGE EXTERNAL;
ALTER TABLE toast_default ALTER COLUMN big_jsonb SET STORAGE EXTERNAL;
ALTER TABLE toast_default ALTER COLUMN big_bytea SET STORAGE EXTERNAL;
ALTER TABLE toast_default ALTER COLUMN big_text_arr SET STORAGE EXTERNAL;
INSERT INTO toast_default VALUES (1, 0,
    (SELECT string_agg(md5(i::text), '') FROM generate_series(1, 25) AS i),
    (SELECT jsonb_agg(md5('j' || i)) FROM generate_series(1, 18) AS i),
    (SELECT decode(string_agg(md5('b' || i), ''), 'hex') FROM generate_series(1, 25) AS i),
    (SELECT array_agg(md5('a' || i)) FROM generate_series(1, 18) AS i));

-- REPLICA IDENTITY FULL: updates/deletes carry the complete old row in `before`.
CREATE TABLE full_ident (
    id         integer PRIMARY KEY,
    name       text,
    qty        integer,
    price      numeric(8,3),
    updated_at timestamptz
);
ALTER TABLE full_ident REPLICA IDENTITY FULL;
INSERT INTO full_ident VALUES
    (1, 'widget', 10, 9.990, '2024-01-01 00:00:00+00'),
    (2, 'gadget', 5, 120.500, '2024-01-02 12:30:00+00');

-- Primary-key change target (REPLICA IDENTITY DEFAULT).
CREATE TABLE customers (
    id    integer PRIMARY KEY,
    email text NOT NULL,
    name  text
);
INSERT INTO customers VALUES (1, 'ann@example.com', 'Ann'), (2, 'bob@example.com', 'Bob');

-- TRUNCATE target.
CREATE TABLE trunc_demo (id integer PRIMARY KEY, note text);
INSERT INTO trunc_demo VALUES (1, 'one'), (2, 'two');

-- Table without a primary key: records have a null key (not tombstones!).
CREATE TABLE no_pk (note text, n integer);
ALTER TABLE no_pk REPLICA IDENTITY FULL;
INSERT INTO no_pk VALUES ('first', 1);

-- End-of-stream marker (captured, but not written to the fixtures) and the step log (not captured).
CREATE TABLE zz_marker (id integer PRIMARY KEY);
CREATE TABLE fixture_steps (txid bigint PRIMARY KEY, label text NOT NULL);
