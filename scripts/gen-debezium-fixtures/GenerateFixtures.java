// Generates Debezium PostgreSQL change-event fixtures for Sluice's tests.
//
// Runs the real Debezium PostgreSQL connector through the embedded engine (Connect format, so we
// get the connector's SourceRecords untouched), waits for the snapshot, signals generate.sh to run
// stream.sql, waits for the end-of-stream marker, then serialises every record with Kafka's
// JsonConverter / Confluent's AvroConverter and writes golden outputs of Debezium's
// ExtractNewRecordState and a few Kafka SMTs.  See README.md next to this file.
//
// Configuration comes from system properties (set by generate.sh):
//   fixtures.pg.host, fixtures.pg.port, fixtures.pg.db, fixtures.pg.user
//   fixtures.out        output directory (tests/data/debezium)
//   fixtures.work       scratch directory (the "snapshot.done" flag file is written there)

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.confluent.connect.avro.AvroConverter;
import io.confluent.kafka.schemaregistry.client.SchemaMetadata;
import io.confluent.kafka.schemaregistry.client.SchemaRegistryClient;
import io.confluent.kafka.schemaregistry.testutil.MockSchemaRegistry;
import io.debezium.embedded.Connect;
import io.debezium.engine.DebeziumEngine;
import io.debezium.engine.RecordChangeEvent;
import io.debezium.engine.format.ChangeEventFormat;
import io.debezium.transforms.ExtractNewRecordState;
import org.apache.kafka.connect.data.Field;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.header.Header;
import org.apache.kafka.connect.json.JsonConverter;
import org.apache.kafka.connect.source.SourceRecord;
import org.apache.kafka.connect.storage.SimpleHeaderConverter;
import org.apache.kafka.connect.transforms.Cast;
import org.apache.kafka.connect.transforms.Flatten;
import org.apache.kafka.connect.transforms.InsertField;
import org.apache.kafka.connect.transforms.RegexRouter;
import org.apache.kafka.connect.transforms.ReplaceField;
import org.apache.kafka.connect.transforms.TimestampConverter;
import org.apache.kafka.connect.transforms.Transformation;

import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

public class GenerateFixtures {

    static final String TOPIC_PREFIX = "pg";
    static final String MAIN_TOPIC = TOPIC_PREFIX + ".public.all_types";
    static final String MARKER_TOPIC = TOPIC_PREFIX + ".public.zz_marker";
    static final String AVRO_SCOPE = "fixtures";

    static final ObjectMapper MAPPER = new ObjectMapper().disable(SerializationFeature.FAIL_ON_EMPTY_BEANS);

    static String host, db, user;
    static int port;
    static Path out, work;

    public static void main(String[] args) {
        try {
            run();
        }
        catch (Throwable t) {
            t.printStackTrace();
            System.exit(1); // engine threads are not daemons
        }
        System.exit(0);
    }

    static void run() throws Exception {
        host = System.getProperty("fixtures.pg.host", "127.0.0.1");
        port = Integer.parseInt(System.getProperty("fixtures.pg.port", "5432"));
        db = System.getProperty("fixtures.pg.db", "fixtures");
        user = System.getProperty("fixtures.pg.user", "postgres");
        out = Paths.get(System.getProperty("fixtures.out"));
        work = Paths.get(System.getProperty("fixtures.work"));
        Files.createDirectories(out);

        Properties props = connectorProperties();
        List<SourceRecord> records = capture(props);
        log("captured " + records.size() + " records (marker excluded)");

        Map<Long, String> steps = readSteps();
        write(records, steps, props);
        log("done");
    }

    static void log(String s) {
        System.err.println("[gen] " + s);
    }

    // ------------------------------------------------------------------ connector

    static Properties connectorProperties() {
        Properties p = new Properties();
        // engine
        p.setProperty("name", "sluice-fixtures");
        p.setProperty("connector.class", "io.debezium.connector.postgresql.PostgresConnector");
        p.setProperty("offset.storage", "org.apache.kafka.connect.storage.MemoryOffsetBackingStore");
        p.setProperty("offset.flush.interval.ms", "60000");
        // connection
        p.setProperty("database.hostname", host);
        p.setProperty("database.port", Integer.toString(port));
        p.setProperty("database.user", user);
        p.setProperty("database.password", "unused");
        p.setProperty("database.dbname", db);
        p.setProperty("topic.prefix", TOPIC_PREFIX);
        // logical decoding
        p.setProperty("plugin.name", "pgoutput");
        p.setProperty("slot.name", "sluice_fixtures");
        p.setProperty("slot.drop.on.stop", "true");
        p.setProperty("publication.name", "sluice_fixtures_pub");
        p.setProperty("publication.autocreate.mode", "filtered");
        p.setProperty("table.include.list",
                "public.all_types,public.infinities,public.toast_default,public.full_ident,public.customers,public.trunc_demo,public.no_pk,public.zz_marker");
        p.setProperty("snapshot.mode", "initial");
        // event shape (mostly the defaults, spelled out)
        p.setProperty("skipped.operations", "none"); // default "t" would drop TRUNCATE events
        p.setProperty("tombstones.on.delete", "true");
        p.setProperty("decimal.handling.mode", "precise");
        p.setProperty("time.precision.mode", "adaptive");
        p.setProperty("interval.handling.mode", "numeric");
        p.setProperty("binary.handling.mode", "bytes");
        p.setProperty("hstore.handling.mode", "json");
        p.setProperty("money.fraction.digits", "2");
        p.setProperty("unavailable.value.placeholder", "__debezium_unavailable_value");
        p.setProperty("include.unknown.datatypes", "false");
        p.setProperty("provide.transaction.metadata", "false");
        p.setProperty("extended.headers.enabled", "true"); // __debezium.context.* headers
        p.setProperty("errors.max.retries", "0");
        return p;
    }

    static List<SourceRecord> capture(Properties props) throws Exception {
        final List<SourceRecord> records = Collections.synchronizedList(new ArrayList<>());
        final Object lock = new Object();
        final boolean[] state = new boolean[3]; // 0 = snapshot done, 1 = marker seen, 2 = engine finished
        final Throwable[] failure = new Throwable[1];

        DebeziumEngine<RecordChangeEvent<SourceRecord>> engine = DebeziumEngine
                .create(ChangeEventFormat.of(Connect.class))
                .using(props)
                .using((success, message, error) -> {
                    synchronized (lock) {
                        state[2] = true;
                        if (!success) {
                            failure[0] = error != null ? error : new RuntimeException(message);
                        }
                        lock.notifyAll();
                    }
                    log("engine completed: success=" + success + " message=" + message);
                })
                .notifying((batch, committer) -> {
                    for (RecordChangeEvent<SourceRecord> ev : batch) {
                        SourceRecord r = ev.record();
                        synchronized (lock) {
                            if (MARKER_TOPIC.equals(r.topic())) {
                                state[1] = true;
                            }
                            else {
                                records.add(r);
                            }
                            String snap = snapshotFlag(r);
                            if ("last".equals(snap)) {
                                state[0] = true;
                            }
                            lock.notifyAll();
                        }
                        committer.markProcessed(ev);
                    }
                    committer.markBatchFinished();
                })
                .build();

        ExecutorService executor = Executors.newSingleThreadExecutor();
        executor.execute(engine);
        long start = System.currentTimeMillis();
        try {
            // 1. snapshot
            synchronized (lock) {
                while (!state[0] && !state[2] && System.currentTimeMillis() - start < 180_000) {
                    lock.wait(1000);
                }
                if (failure[0] != null || state[2]) {
                    throw new RuntimeException("engine stopped before the snapshot finished", failure[0]);
                }
                if (!state[0]) {
                    throw new RuntimeException("timed out waiting for the snapshot");
                }
            }
            log("snapshot finished after " + (System.currentTimeMillis() - start) + " ms, " + records.size() + " records");
            Files.writeString(work.resolve("snapshot.done"), "ok\n");
            // 2. streaming: generate.sh now runs stream.sql; wait for the marker event
            long streamStart = System.currentTimeMillis();
            synchronized (lock) {
                while (!state[1] && !state[2] && System.currentTimeMillis() - streamStart < 300_000) {
                    lock.wait(1000);
                }
                if (failure[0] != null || (state[2] && !state[1])) {
                    throw new RuntimeException("engine stopped while streaming", failure[0]);
                }
                if (!state[1]) {
                    throw new RuntimeException("timed out waiting for the end-of-stream marker");
                }
            }
            log("marker seen after " + (System.currentTimeMillis() - streamStart) + " ms of streaming");
        }
        finally {
            engine.close();
            executor.shutdown();
            executor.awaitTermination(60, TimeUnit.SECONDS);
        }
        synchronized (lock) {
            return new ArrayList<>(records);
        }
    }

    static Struct valueStruct(SourceRecord r) {
        return r.value() instanceof Struct ? (Struct) r.value() : null;
    }

    static Struct sourceStruct(SourceRecord r) {
        Struct v = valueStruct(r);
        if (v == null || v.schema().field("source") == null) {
            return null;
        }
        return v.getStruct("source");
    }

    static String snapshotFlag(SourceRecord r) {
        Struct s = sourceStruct(r);
        return s == null ? null : s.getString("snapshot");
    }

    static Map<Long, String> readSteps() throws Exception {
        Map<Long, String> steps = new TreeMap<>();
        try (Connection c = jdbc(); Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("SELECT txid, label FROM fixture_steps")) {
            while (rs.next()) {
                steps.put(rs.getLong(1), rs.getString(2));
            }
        }
        return steps;
    }

    static Connection jdbc() throws Exception {
        Properties p = new Properties();
        p.setProperty("user", user);
        p.setProperty("password", "unused");
        return DriverManager.getConnection("jdbc:postgresql://" + host + ":" + port + "/" + db, p);
    }

    // ------------------------------------------------------------------ serialisation helpers

    static JsonConverter json(boolean isKey, boolean schemas, String decimalFormat) {
        JsonConverter c = new JsonConverter();
        Map<String, Object> cfg = new LinkedHashMap<>();
        cfg.put("schemas.enable", Boolean.toString(schemas));
        if (decimalFormat != null) {
            cfg.put("decimal.format", decimalFormat);
        }
        c.configure(cfg, isKey);
        return c;
    }

    static String text(byte[] b) {
        return b == null ? null : new String(b, StandardCharsets.UTF_8);
    }

    /** Key and value, each with JsonConverter schemas.enable=true and =false. */
    static final class JsonPair {
        final JsonConverter keyS = json(true, true, null), valS = json(false, true, null);
        final JsonConverter keyP = json(true, false, null), valP = json(false, false, null);
        final JsonConverter hdr = json(false, true, null);
        final SimpleHeaderConverter simple = new SimpleHeaderConverter();

        JsonPair() {
            simple.configure(Map.of());
        }

        void put(Map<String, Object> m, SourceRecord r) {
            put(m, r, keyS, keyP, valS, valP);
        }

        /**
         * Stores the schemas.enable=false text as "key"/"value" and the schema part of the
         * schemas.enable=true text as a reference into json-schemas.json ("key_schema"/"value_schema").
         * The schemas.enable=true bytes are exactly {"schema":SCHEMA,"payload":VALUE}; checked here.
         */
        static void put(Map<String, Object> m, SourceRecord r, JsonConverter kS, JsonConverter kP, JsonConverter vS, JsonConverter vP) {
            String ks = text(kS.fromConnectData(r.topic(), r.keySchema(), r.key()));
            String kp = text(kP.fromConnectData(r.topic(), r.keySchema(), r.key()));
            String vs = text(vS.fromConnectData(r.topic(), r.valueSchema(), r.value()));
            String vp = text(vP.fromConnectData(r.topic(), r.valueSchema(), r.value()));
            m.put("key_schema", splitSchema(ks, kp, r.keySchema()));
            m.put("key", kp);
            m.put("value_schema", splitSchema(vs, vp, r.valueSchema()));
            m.put("value", vp);
        }

        List<Object> headers(SourceRecord r) {
            List<Object> hs = new ArrayList<>();
            for (Header h : r.headers()) {
                Map<String, Object> e = new LinkedHashMap<>();
                e.put("key", h.key());
                e.put("value_json", text(hdr.fromConnectHeader(r.topic(), h.key(), h.schema(), h.value())));
                e.put("value_simple", text(simple.fromConnectHeader(r.topic(), h.key(), h.schema(), h.value())));
                hs.add(e);
            }
            return hs;
        }
    }

    static String opOf(SourceRecord r) {
        Struct v = valueStruct(r);
        if (v == null) {
            return null;
        }
        if (v.schema().field("op") != null) {
            return v.getString("op");
        }
        return null;
    }

    static String kindOf(SourceRecord r) {
        if (r.value() == null) {
            return "tombstone";
        }
        String op = opOf(r);
        switch (op == null ? "" : op) {
            case "r": return "read";
            case "c": return "create";
            case "u": return "update";
            case "d": return "delete";
            case "t": return "truncate";
            case "m": return "message";
            default: return "other";
        }
    }

    static String table(SourceRecord r) {
        String[] parts = r.topic().split("\\.");
        return parts[parts.length - 1];
    }

    static SourceRecord copy(SourceRecord r) {
        return r.newRecord(r.topic(), r.kafkaPartition(), r.keySchema(), r.key(), r.valueSchema(), r.value(),
                r.timestamp(), r.headers().duplicate());
    }

    static final class Lines implements AutoCloseable {
        final BufferedWriter w;

        Lines(Path p) throws IOException {
            Files.createDirectories(p.getParent());
            w = Files.newBufferedWriter(p, StandardCharsets.UTF_8);
        }

        void add(Map<String, Object> m) throws IOException {
            w.write(MAPPER.writeValueAsString(m));
            w.write('\n');
        }

        @Override
        public void close() throws IOException {
            w.close();
        }
    }


    // ------------------------------------------------------------------ JSON schema dedup

    /** exact schema text (as written by JsonConverter schemas.enable=true) -> id */
    static final Map<String, String> JSON_SCHEMA_IDS = new LinkedHashMap<>();
    static final Map<String, Integer> JSON_SCHEMA_NAME_COUNT = new LinkedHashMap<>();

    static String splitSchema(String full, String payload, Schema schema) {
        if (full == null || payload == null) {
            if (full != null || payload != null) {
                throw new IllegalStateException("schemas.enable=true/false disagree on null: " + full + " / " + payload);
            }
            return null;
        }
        String prefix = "{\"schema\":";
        String suffix = ",\"payload\":" + payload + "}";
        if (!full.startsWith(prefix) || !full.endsWith(suffix) || full.length() < prefix.length() + suffix.length()) {
            throw new IllegalStateException("unexpected JsonConverter envelope: " + full);
        }
        String schemaText = full.substring(prefix.length(), full.length() - suffix.length());
        if (schemaText.equals("null")) {
            return null;
        }
        return JSON_SCHEMA_IDS.computeIfAbsent(schemaText, t -> {
            String base = schema == null ? "null" : (schema.name() != null ? schema.name() : schema.type().getName());
            int n = JSON_SCHEMA_NAME_COUNT.merge(base, 1, Integer::sum);
            return base + "#" + n;
        });
    }

    static void writeJsonSchemas() throws IOException {
        Map<String, String> byId = new LinkedHashMap<>();
        JSON_SCHEMA_IDS.forEach((text, id) -> byId.put(id, text));
        Files.writeString(out.resolve("json-schemas.json"), MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(byId) + "\n");
    }

    // ------------------------------------------------------------------ writers

    static void write(List<SourceRecord> records, Map<Long, String> steps, Properties props) throws Exception {
        JsonPair jp = new JsonPair();

        // labels: step of the transaction (txId), tombstones inherit from the preceding delete
        List<String> labels = new ArrayList<>();
        String prev = null;
        for (SourceRecord r : records) {
            String label;
            Struct s = sourceStruct(r);
            if (r.value() == null) {
                label = prev;
            }
            else if (s != null && s.getString("snapshot") != null && !"false".equals(s.getString("snapshot"))) {
                label = "snapshot";
            }
            else if (s != null && s.get("txId") != null) {
                label = steps.getOrDefault(s.getInt64("txId"), "unknown");
            }
            else {
                label = "unknown";
            }
            labels.add(label);
            prev = label;
        }

        // 1. envelope.jsonl: the raw SourceRecords through JsonConverter
        try (Lines l = new Lines(out.resolve("envelope.jsonl"))) {
            for (int i = 0; i < records.size(); i++) {
                SourceRecord r = records.get(i);
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("index", i);
                m.put("step", labels.get(i));
                m.put("table", table(r));
                m.put("kind", kindOf(r));
                m.put("op", opOf(r));
                m.put("topic", r.topic());
                m.put("kafka_partition", r.kafkaPartition());
                m.put("timestamp", r.timestamp());
                m.put("source_partition", r.sourcePartition());
                m.put("source_offset", r.sourceOffset());
                m.put("headers", jp.headers(r));
                jp.put(m, r);
                l.add(m);
            }
        }

        // 2. envelope.avro.jsonl + avro-schemas.json
        // AvroConverter 7.0.x does not resolve mock:// URLs itself (only the serializers do), so the
        // in-memory registry of scope "fixtures" is passed explicitly; the URL is still configured.
        SchemaRegistryClient registry = MockSchemaRegistry.getClientForScope(AVRO_SCOPE);
        AvroConverter avroKey = new AvroConverter(registry);
        AvroConverter avroVal = new AvroConverter(registry);
        Map<String, Object> avroCfg = Map.of("schema.registry.url", "mock://" + AVRO_SCOPE);
        avroKey.configure(avroCfg, true);
        avroVal.configure(avroCfg, false);
        try (Lines l = new Lines(out.resolve("envelope.avro.jsonl"))) {
            for (int i = 0; i < records.size(); i++) {
                SourceRecord r = records.get(i);
                byte[] k = avroKey.fromConnectData(r.topic(), r.keySchema(), r.key());
                byte[] v = avroVal.fromConnectData(r.topic(), r.valueSchema(), r.value());
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("index", i);
                m.put("topic", r.topic());
                m.put("key_schema_id", schemaId(k));
                m.put("value_schema_id", schemaId(v));
                m.put("key_avro_b64", k == null ? null : Base64.getEncoder().encodeToString(k));
                m.put("value_avro_b64", v == null ? null : Base64.getEncoder().encodeToString(v));
                l.add(m);
                // sanity check: the bytes decode again
                if (k != null) {
                    avroKey.toConnectData(r.topic(), k);
                }
                if (v != null) {
                    Object back = avroVal.toConnectData(r.topic(), v).value();
                    if (i == 1 && back instanceof Struct) {
                        log("avro round trip of record 1 (all-NULL row): after.c_int_default = "
                                + ((Struct) back).getStruct("after").get("c_int_default"));
                    }
                }
            }
        }
        Map<String, Object> schemas = new TreeMap<>((a, b) -> Integer.compare(Integer.parseInt(a), Integer.parseInt(b)));
        for (String subject : new TreeSet<>(registry.getAllSubjects())) {
            for (Integer version : registry.getAllVersions(subject)) {
                SchemaMetadata md = registry.getSchemaMetadata(subject, version);
                @SuppressWarnings("unchecked")
                Map<String, Object> e = (Map<String, Object>) schemas.computeIfAbsent(Integer.toString(md.getId()), id -> {
                    Map<String, Object> n = new LinkedHashMap<>();
                    n.put("subjects", new ArrayList<Object>());
                    n.put("schema", md.getSchema());
                    return n;
                });
                @SuppressWarnings("unchecked")
                List<Object> subs = (List<Object>) e.get("subjects");
                subs.add(ordered("subject", subject, "version", version));
            }
        }
        Files.writeString(out.resolve("avro-schemas.json"),
                MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(schemas) + "\n");

        // 3. decimal.format=NUMERIC for the main table
        JsonConverter numS = json(false, true, "NUMERIC"), numP = json(false, false, "NUMERIC");
        JsonConverter numKS = json(true, true, "NUMERIC"), numKP = json(true, false, "NUMERIC");
        try (Lines l = new Lines(out.resolve("envelope.decimal-numeric.jsonl"))) {
            for (int i = 0; i < records.size(); i++) {
                SourceRecord r = records.get(i);
                if (!MAIN_TOPIC.equals(r.topic())) {
                    continue;
                }
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("index", i);
                m.put("topic", r.topic());
                JsonPair.put(m, r, numKS, numKP, numS, numP);
                l.add(m);
            }
        }

        // 4. ExtractNewRecordState goldens (all records)
        Map<String, Map<String, String>> unwrapModes = new LinkedHashMap<>();
        unwrapModes.put("default", Map.of());
        for (String mode : List.of("drop", "tombstone", "rewrite", "rewrite-with-tombstone", "delete-to-tombstone")) {
            unwrapModes.put(mode, Map.of("delete.tombstone.handling.mode", mode));
        }
        unwrapModes.put("add-fields-headers", Map.of("add.fields", "op,table,lsn,source.ts_ms", "add.headers", "db,op"));
        unwrapModes.put("rewrite-add-fields-headers", Map.of("delete.tombstone.handling.mode", "rewrite",
                "add.fields", "op,table,lsn,source.ts_ms", "add.headers", "db,op"));
        List<Map<String, Object>> manifest = new ArrayList<>();
        for (Map.Entry<String, Map<String, String>> e : unwrapModes.entrySet()) {
            Supplier<List<Transformation<SourceRecord>>> chain = () -> List.of(unwrap(e.getValue()));
            Map<String, Object> summary = runChain(out.resolve("unwrap/" + e.getKey() + ".jsonl"), records, chain, null, jp);
            Map<String, Object> mf = new LinkedHashMap<>();
            mf.put("file", "unwrap/" + e.getKey() + ".jsonl");
            mf.put("chain", List.of(ordered("type", ExtractNewRecordState.class.getName(), "config", new TreeMap<>(e.getValue()))));
            mf.putAll(summary);
            manifest.add(mf);
        }

        // 5. Kafka SMTs after unwrap (defaults), main table only
        Map<String, Object[]> smts = new LinkedHashMap<>();
        smts.put("replacefield", new Object[]{ ReplaceField.Value.class.getName(),
                Map.of("exclude", "c_xml,c_money,c_hstore", "renames", "c_text:text_renamed,c_integer:int_renamed") });
        smts.put("cast", new Object[]{ Cast.Value.class.getName(),
                Map.of("spec", "c_smallint:int64,c_integer:string,c_real:float64,c_boolean:int8,c_numeric:float64,c_bigint:float32") });
        smts.put("timestampconverter-ts3", new Object[]{ TimestampConverter.Value.class.getName(),
                Map.of("field", "c_ts3", "target.type", "string", "format", "yyyy-MM-dd'T'HH:mm:ss.SSS") });
        smts.put("timestampconverter-ts6-micros", new Object[]{ TimestampConverter.Value.class.getName(),
                Map.of("field", "c_ts6", "target.type", "string", "format", "yyyy-MM-dd HH:mm:ss.SSS", "unix.precision", "microseconds") });
        smts.put("timestampconverter-ts3-timestamp", new Object[]{ TimestampConverter.Value.class.getName(),
                Map.of("field", "c_ts3", "target.type", "Timestamp") });
        smts.put("flatten", new Object[]{ Flatten.Value.class.getName(), Map.of("delimiter", "_") });
        smts.put("regexrouter", new Object[]{ RegexRouter.class.getName(),
                Map.of("regex", "pg\\.public\\.(.*)", "replacement", "cdc_$1") });
        smts.put("insertfield", new Object[]{ InsertField.Value.class.getName(),
                Map.of("topic.field", "__topic", "static.field", "__source_system", "static.value", "postgres",
                        "partition.field", "__partition", "timestamp.field", "__kafka_ts") });
        smts.put("insertfield-offset", new Object[]{ InsertField.Value.class.getName(),
                Map.of("offset.field", "__offset") });
        for (Map.Entry<String, Object[]> e : smts.entrySet()) {
            String cls = (String) e.getValue()[0];
            @SuppressWarnings("unchecked")
            Map<String, String> cfg = (Map<String, String>) e.getValue()[1];
            Supplier<List<Transformation<SourceRecord>>> chain = () -> List.of(unwrap(Map.of()), smt(cls, cfg));
            Map<String, Object> summary = runChain(out.resolve("smt/" + e.getKey() + ".jsonl"), records, chain, MAIN_TOPIC, jp);
            Map<String, Object> mf = new LinkedHashMap<>();
            mf.put("file", "smt/" + e.getKey() + ".jsonl");
            mf.put("chain", List.of(ordered("type", ExtractNewRecordState.class.getName(), "config", new TreeMap<>()),
                    ordered("type", cls, "config", new TreeMap<>(cfg))));
            mf.putAll(summary);
            manifest.add(mf);
        }
        // Flatten on the raw envelope (no unwrap): before_*, after_*, source_*
        {
            String cls = Flatten.Value.class.getName();
            Map<String, String> cfg = Map.of("delimiter", "_");
            Supplier<List<Transformation<SourceRecord>>> chain = () -> List.of(smt(cls, cfg));
            Map<String, Object> summary = runChain(out.resolve("smt/flatten-envelope.jsonl"), records, chain, MAIN_TOPIC, jp);
            Map<String, Object> mf = new LinkedHashMap<>();
            mf.put("file", "smt/flatten-envelope.jsonl");
            mf.put("chain", List.of(ordered("type", cls, "config", new TreeMap<>(cfg))));
            mf.putAll(summary);
            manifest.add(mf);
        }
        Files.writeString(out.resolve("transforms.json"),
                MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(manifest) + "\n");

        writeJsonSchemas();

        // 6. columns.json: PG type -> Connect schema of the main table's row struct
        writeColumns(records);

        // 7. connector.json: the connector/engine properties used
        Map<String, Object> conn = new TreeMap<>();
        for (String k : props.stringPropertyNames()) {
            if (k.equals("database.port")) {
                conn.put(k, "(a free port chosen by generate.sh)");
            }
            else if (!k.startsWith("database.password")) {
                conn.put(k, props.getProperty(k));
            }
        }
        Map<String, Object> meta = new LinkedHashMap<>();
        meta.put("connector_properties", conn);
        meta.put("versions", versions());
        meta.put("record_count", records.size());
        Files.writeString(out.resolve("connector.json"),
                MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(meta) + "\n");
    }

    static Map<String, Object> ordered(String k1, Object v1, String k2, Object v2) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put(k1, v1);
        m.put(k2, v2);
        return m;
    }

    static Integer schemaId(byte[] b) {
        if (b == null || b.length < 5 || b[0] != 0) {
            return null;
        }
        return ((b[1] & 0xff) << 24) | ((b[2] & 0xff) << 16) | ((b[3] & 0xff) << 8) | (b[4] & 0xff);
    }

    static Transformation<SourceRecord> unwrap(Map<String, String> cfg) {
        ExtractNewRecordState<SourceRecord> t = new ExtractNewRecordState<>();
        t.configure(cfg);
        return t;
    }

    @SuppressWarnings("unchecked")
    static Transformation<SourceRecord> smt(String cls, Map<String, String> cfg) {
        try {
            Transformation<SourceRecord> t = (Transformation<SourceRecord>) Class.forName(cls).getDeclaredConstructor().newInstance();
            t.configure(cfg);
            return t;
        }
        catch (ReflectiveOperationException e) {
            throw new RuntimeException(e);
        }
    }

    /** Applies a fresh chain to each input record; one output line per input record. */
    static Map<String, Object> runChain(Path file, List<SourceRecord> records, Supplier<List<Transformation<SourceRecord>>> chainFactory,
                                        String onlyTopic, JsonPair jp)
            throws IOException {
        List<Transformation<SourceRecord>> chain = chainFactory.get();
        List<Integer> dropped = new ArrayList<>();
        List<Integer> errors = new ArrayList<>();
        int outputs = 0;
        try (Lines l = new Lines(file)) {
            for (int i = 0; i < records.size(); i++) {
                SourceRecord in = records.get(i);
                if (onlyTopic != null && !onlyTopic.equals(in.topic())) {
                    continue;
                }
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("index", i);
                SourceRecord r = copy(in);
                try {
                    for (Transformation<SourceRecord> t : chain) {
                        r = t.apply(r);
                        if (r == null) {
                            break;
                        }
                    }
                    if (r == null) {
                        m.put("dropped", true);
                        dropped.add(i);
                    }
                    else {
                        m.put("dropped", false);
                        m.put("topic", r.topic());
                        // Output headers = input headers (the __debezium.* ones, see envelope.jsonl) plus
                        // whatever the chain appended; only the appended ones are listed.
                        List<Object> inH = jp.headers(in), outH = jp.headers(r);
                        if (outH.size() >= inH.size() && outH.subList(0, inH.size()).equals(inH)) {
                            m.put("headers_added", outH.subList(inH.size(), outH.size()));
                        }
                        else {
                            m.put("headers", outH);
                        }
                        jp.put(m, r);
                        outputs++;
                    }
                }
                catch (RuntimeException ex) {
                    m.put("error", ex.getClass().getName() + ": " + ex.getMessage());
                    errors.add(i);
                }
                l.add(m);
            }
        }
        for (Transformation<SourceRecord> t : chain) {
            t.close();
        }
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("input_topics", onlyTopic == null ? "all" : onlyTopic);
        s.put("outputs", outputs);
        s.put("dropped_indexes", dropped);
        s.put("error_indexes", errors);
        return s;
    }

    static void writeColumns(List<SourceRecord> records) throws Exception {
        Map<String, String> pgTypes = new LinkedHashMap<>();
        try (Connection c = jdbc(); Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("SELECT a.attname, format_type(a.atttypid, a.atttypmod) FROM pg_attribute a "
                        + "WHERE a.attrelid = 'public.all_types'::regclass AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum")) {
            while (rs.next()) {
                pgTypes.put(rs.getString(1), rs.getString(2));
            }
        }
        Schema row = null;
        for (SourceRecord r : records) {
            if (MAIN_TOPIC.equals(r.topic()) && r.valueSchema() != null && r.valueSchema().field("after") != null) {
                row = r.valueSchema().field("after").schema();
                break;
            }
        }
        JsonConverter jc = json(false, true, null);
        List<Object> cols = new ArrayList<>();
        for (Field f : row.fields()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("column", f.name());
            m.put("pg_type", pgTypes.get(f.name()));
            m.put("connect_type", f.schema().type().getName());
            m.put("connect_name", f.schema().name());
            m.put("schema_json", jc.asJsonSchema(f.schema()));
            cols.add(m);
        }
        Files.writeString(out.resolve("columns.json"), MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(cols) + "\n");
    }

    static String mavenVersion(String group, String artifact) throws IOException {
        String res = "META-INF/maven/" + group + "/" + artifact + "/pom.properties";
        try (java.io.InputStream in = GenerateFixtures.class.getClassLoader().getResourceAsStream(res)) {
            if (in == null) {
                return null;
            }
            Properties p = new Properties();
            p.load(in);
            return p.getProperty("version");
        }
    }

    static Map<String, Object> versions() throws Exception {
        Map<String, Object> v = new LinkedHashMap<>();
        v.put("debezium", io.debezium.connector.postgresql.Module.version());
        v.put("kafka_connect", org.apache.kafka.common.utils.AppInfoParser.getVersion());
        v.put("confluent_avro_converter", mavenVersion("io.confluent", "kafka-connect-avro-converter"));
        v.put("confluent_schema_registry_client", mavenVersion("io.confluent", "kafka-schema-registry-client"));
        v.put("postgresql_jdbc", org.postgresql.util.DriverInfo.DRIVER_VERSION);
        v.put("java", System.getProperty("java.version"));
        try (Connection c = jdbc(); Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT version()")) {
            rs.next();
            v.put("postgresql", rs.getString(1));
        }
        return v;
    }
}
