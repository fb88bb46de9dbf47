// JsonGolden writes the golden files of Runnel's JsonConverter tests with
// Apache Kafka's own JsonConverter, so that the Go tests check Runnel's bytes
// against Kafka's. See README.md beside this file for how to run it.
//
// Every case here has a twin, by the same name, in json_golden_test.go.
import org.apache.kafka.connect.data.*;
import org.apache.kafka.connect.json.JsonConverter;

import java.io.PrintWriter;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

public class JsonGolden {
    record Case(String name, Schema schema, Object value) {}

    static List<Case> fromCases() {
        List<Case> cs = new ArrayList<>();
        cs.add(new Case("boolean", Schema.BOOLEAN_SCHEMA, true));
        cs.add(new Case("int8", Schema.INT8_SCHEMA, (byte) -12));
        cs.add(new Case("int16", Schema.INT16_SCHEMA, (short) 12345));
        cs.add(new Case("int32", Schema.INT32_SCHEMA, -2147483648));
        cs.add(new Case("int64", Schema.INT64_SCHEMA, 4398046511104L));
        cs.add(new Case("float32", Schema.FLOAT32_SCHEMA, 12.34f));
        cs.add(new Case("float32_big", Schema.FLOAT32_SCHEMA, 1.0e10f));
        cs.add(new Case("float64", Schema.FLOAT64_SCHEMA, 12.34));
        cs.add(new Case("float64_whole", Schema.FLOAT64_SCHEMA, 3.0));
        cs.add(new Case("float64_small", Schema.FLOAT64_SCHEMA, 1.5e-5));
        cs.add(new Case("float64_large", Schema.FLOAT64_SCHEMA, 6.02214076e23));
        cs.add(new Case("float64_nan", Schema.FLOAT64_SCHEMA, Double.NaN));
        cs.add(new Case("string", Schema.STRING_SCHEMA, "héllo \"wörld\" \\ / <a>&amp; \u2028 日本語 😀"));
        cs.add(new Case("string_controls", Schema.STRING_SCHEMA, "tab\there\nnl\r\b\f\u0001\u001f\u007f"));
        cs.add(new Case("bytes", Schema.BYTES_SCHEMA, "test-string".getBytes(StandardCharsets.UTF_8)));
        cs.add(new Case("optional_null", Schema.OPTIONAL_STRING_SCHEMA, null));
        cs.add(new Case("default_for_null", SchemaBuilder.int32().optional().defaultValue(42).build(), null));
        cs.add(new Case("schema_metadata", SchemaBuilder.bool().name("bool").version(3).doc("the documentation")
                .parameter("foo", "bar").build(), true));
        cs.add(new Case("array", SchemaBuilder.array(Schema.INT32_SCHEMA).build(), Arrays.asList(1, 2, 3)));
        cs.add(new Case("array_optional_elems", SchemaBuilder.array(Schema.OPTIONAL_STRING_SCHEMA).optional().build(),
                Arrays.asList("a", null, "c")));
        cs.add(new Case("map_string_keys", SchemaBuilder.map(Schema.STRING_SCHEMA, Schema.INT32_SCHEMA).build(),
                mapOf("a", 12, "b", 15)));
        cs.add(new Case("map_int_keys", SchemaBuilder.map(Schema.INT32_SCHEMA, Schema.STRING_SCHEMA).build(),
                mapOf(1, "one", 2, "two")));
        Schema inner = SchemaBuilder.struct().name("inner").field("x", Schema.INT64_SCHEMA).build();
        Schema outer = SchemaBuilder.struct().name("com.example.Outer").version(2)
                .field("name", Schema.STRING_SCHEMA)
                .field("age", Schema.OPTIONAL_INT32_SCHEMA)
                .field("country", SchemaBuilder.string().defaultValue("NO").build())
                .field("inner", inner)
                .field("tags", SchemaBuilder.array(Schema.STRING_SCHEMA).optional().build())
                .build();
        Struct in = new Struct(inner).put("x", 7L);
        cs.add(new Case("struct", outer, new Struct(outer).put("name", "Ada").put("inner", in)
                .put("tags", Arrays.asList("x", "y"))));
        Schema dec = Decimal.schema(2);
        cs.add(new Case("decimal", dec, new BigDecimal(new BigInteger("156"), 2)));
        cs.add(new Case("decimal_negative", dec, new BigDecimal(new BigInteger("-12345"), 2)));
        cs.add(new Case("decimal_neg_scale", Decimal.schema(-2), new BigDecimal(new BigInteger("7"), -2)));
        cs.add(new Case("decimal_default", Decimal.builder(2).optional().defaultValue(new BigDecimal(new BigInteger("156"), 2)).build(), null));
        cs.add(new Case("date", Date.SCHEMA, Date.toLogical(Date.SCHEMA, 10000)));
        cs.add(new Case("time", Time.SCHEMA, Time.toLogical(Time.SCHEMA, 14400000)));
        cs.add(new Case("timestamp", Timestamp.SCHEMA, Timestamp.toLogical(Timestamp.SCHEMA, 4000000000L)));
        cs.add(new Case("schemaless_string", null, "plain"));
        cs.add(new Case("schemaless_long", null, 12L));
        cs.add(new Case("schemaless_double", null, 12.5));
        cs.add(new Case("schemaless_list", null, Arrays.asList(1L, "two", true, null)));
        cs.add(new Case("schemaless_map", null, mapOf("a", 1L, "b", Arrays.asList(2L))));
        cs.add(new Case("schemaless_map_int_keys", null, mapOf(1L, "one")));
        cs.add(new Case("schemaless_bytes", null, new byte[] {0, 1, 2, (byte) 255}));
        return cs;
    }

    // Messages read with toConnectData and written back with fromConnectData.
    static String[][] toInputs() {
        return new String[][] {
            {"boolean", "{ \"schema\": { \"type\": \"boolean\" }, \"payload\": true }"},
            {"leading_zeros", "{ \"schema\": { \"type\": \"int32\" }, \"payload\": 000012345 }"},
            {"int8", "{\"schema\":{\"type\":\"int8\"},\"payload\":-128}"},
            {"float", "{\"schema\":{\"type\":\"float\"},\"payload\":12.34}"},
            {"double_exp", "{\"schema\":{\"type\":\"double\"},\"payload\":1e300}"},
            {"bytes", "{\"schema\":{\"type\":\"bytes\"},\"payload\":\"dGVzdC1zdHJpbmc=\"}"},
            {"string_escapes", "{\"schema\":{\"type\":\"string\"},\"payload\":\"a\\u00e9\\n\\ud83d\\ude00\\/\"}"},
            {"optional_null", "{\"schema\":{\"type\":\"string\",\"optional\":true},\"payload\":null}"},
            {"default_null", "{\"schema\":{\"type\":\"boolean\",\"default\":true},\"payload\":null}"},
            {"metadata", "{\"schema\":{\"type\":\"boolean\",\"optional\":false,\"name\":\"bool\",\"version\":2,\"doc\":\"the documentation\",\"parameters\":{\"foo\":\"bar\"}},\"payload\":true}"},
            {"array", "{\"schema\":{\"type\":\"array\",\"items\":{\"type\":\"int32\"}},\"payload\":[1,2,3]}"},
            {"map_string", "{\"schema\":{\"type\":\"map\",\"keys\":{\"type\":\"string\"},\"values\":{\"type\":\"int32\"}},\"payload\":{\"a\":12}}"},
            {"map_pairs", "{\"schema\":{\"type\":\"map\",\"keys\":{\"type\":\"int32\"},\"values\":{\"type\":\"int32\"}},\"payload\":[[1,12]]}"},
            {"struct_missing_optional", "{\"schema\":{\"type\":\"struct\",\"fields\":[{\"field\":\"optional\",\"type\":\"string\",\"optional\":true},{\"field\":\"required\",\"type\":\"string\"}]},\"payload\":{\"required\":\"required\",\"extra\":1}}"},
            {"struct_field_default", "{\"schema\":{\"type\":\"struct\",\"fields\":[{\"field\":\"a\",\"type\":\"int64\",\"default\":5}]},\"payload\":{}}"},
            {"struct_required_missing", "{\"schema\":{\"type\":\"struct\",\"fields\":[{\"field\":\"a\",\"type\":\"string\"}]},\"payload\":{}}"},
            {"decimal_base64", "{\"schema\":{\"type\":\"bytes\",\"name\":\"org.apache.kafka.connect.data.Decimal\",\"version\":1,\"parameters\":{\"scale\":\"2\"}},\"payload\":\"AJw=\"}"},
            {"decimal_numeric_payload", "{\"schema\":{\"type\":\"bytes\",\"name\":\"org.apache.kafka.connect.data.Decimal\",\"version\":1,\"parameters\":{\"scale\":\"4\"}},\"payload\":1.5600}"},
            {"date", "{\"schema\":{\"type\":\"int32\",\"name\":\"org.apache.kafka.connect.data.Date\",\"version\":1},\"payload\":10000}"},
            {"timestamp_default", "{\"schema\":{\"type\":\"int64\",\"name\":\"org.apache.kafka.connect.data.Timestamp\",\"version\":1,\"default\":42},\"payload\":null}"},
            {"schema_null", "{\"schema\":null,\"payload\":{\"a\":[1,2.5,\"x\",null,true]}}"},
            {"no_envelope", "{\"a\":1}"},
            {"extra_field", "{\"schema\":null,\"payload\":1,\"x\":2}"},
            {"missing_type", "{\"schema\":{\"optional\":true},\"payload\":1}"},
            {"unknown_type", "{\"schema\":{\"type\":\"int128\"},\"payload\":1}"},
            {"required_null", "{\"schema\":{\"type\":\"int32\"},\"payload\":null}"},
            {"not_json", "{\"schema\":"},
        };
    }

    @SafeVarargs
    static <K, V> Map<K, V> mapOf(Object... kv) {
        Map<K, V> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            @SuppressWarnings("unchecked") K k = (K) kv[i];
            @SuppressWarnings("unchecked") V v = (V) kv[i + 1];
            m.put(k, v);
        }
        return m;
    }

    static JsonConverter converter(boolean schemas, String decimalFormat) {
        JsonConverter c = new JsonConverter();
        c.configure(Map.of("schemas.enable", Boolean.toString(schemas), "decimal.format", decimalFormat), false);
        return c;
    }

    static String out(JsonConverter c, Schema s, Object v) {
        try {
            byte[] b = c.fromConnectData("topic", s, v);
            return b == null ? "NULL" : new String(b, StandardCharsets.UTF_8);
        } catch (Exception e) {
            return "ERROR";
        }
    }

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[0]);
        JsonConverter env = converter(true, "BASE64"), plain = converter(false, "BASE64"), numeric = converter(true, "NUMERIC");
        try (PrintWriter w = new PrintWriter(Files.newBufferedWriter(dir.resolve("json_from_connect.golden")))) {
            w.print("# name\tschemas.enable=true\tschemas.enable=false\tdecimal.format=NUMERIC (written by testdata/gen/JsonGolden.java)\n");
            for (Case c : fromCases()) {
                w.print(c.name() + "\t" + out(env, c.schema(), c.value()) + "\t" + out(plain, c.schema(), c.value())
                        + "\t" + out(numeric, c.schema(), c.value()) + "\n");
            }
        }
        try (PrintWriter w = new PrintWriter(Files.newBufferedWriter(dir.resolve("json_to_connect.golden")))) {
            w.print("# name\tinput\tre-encoded with schemas.enable=true, or ERROR (written by testdata/gen/JsonGolden.java)\n");
            for (String[] in : toInputs()) {
                String result;
                try {
                    SchemaAndValue sv = env.toConnectData("topic", in[1].getBytes(StandardCharsets.UTF_8));
                    result = out(env, sv.schema(), sv.value());
                } catch (Exception e) {
                    result = "ERROR";
                }
                w.print(in[0] + "\t" + in[1] + "\t" + result + "\n");
            }
        }
    }
}
