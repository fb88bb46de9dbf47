// TransformGolden applies Apache Kafka's own transformations to the records
// of ../transform_cases.tsv and writes what comes out to
// ../transform_golden.tsv, so that Runnel's transformations are checked
// against Kafka's. Keys and values go in and out through Kafka's
// JsonConverter (schemas.enable=true, replace.null.with.default=false).
// See README.md beside this file.
import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.kafka.connect.connector.ConnectRecord;
import org.apache.kafka.connect.data.SchemaAndValue;
import org.apache.kafka.connect.json.JsonConverter;
import org.apache.kafka.connect.sink.SinkRecord;
import org.apache.kafka.connect.source.SourceRecord;
import org.apache.kafka.connect.transforms.Transformation;

import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

public class TransformGolden {
    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[0]);
        JsonConverter conv = new JsonConverter();
        conv.configure(Map.of("schemas.enable", "true", "replace.null.with.default", "false"), false);
        ObjectMapper mapper = new ObjectMapper();
        List<String> lines = Files.readAllLines(dir.resolve("transform_cases.tsv"));
        try (PrintWriter w = new PrintWriter(Files.newBufferedWriter(dir.resolve("transform_golden.tsv")))) {
            w.print("# name\ttopic\tkey envelope\tvalue envelope; CONFIG_ERROR, ERROR or DROPPED (written by testdata/gen/TransformGolden.java)\n");
            for (String line : lines) {
                if (line.startsWith("#") || line.isEmpty()) continue;
                String[] f = line.split("\t", -1);
                String name = f[0];
                @SuppressWarnings("unchecked")
                Map<String, Object> props = mapper.readValue(f[2], Map.class);
                @SuppressWarnings("rawtypes")
                Transformation t;
                try {
                    t = (Transformation) Class.forName(f[1]).getDeclaredConstructor().newInstance();
                    t.configure(props);
                } catch (Exception e) {
                    w.print(name + "\tCONFIG_ERROR\n");
                    continue;
                }
                Integer partition = f[4].equals("null") ? null : Integer.valueOf(f[4]);
                Long ts = f[5].equals("null") ? null : Long.valueOf(f[5]);
                SchemaAndValue key = conv.toConnectData(f[3], f[7].getBytes(StandardCharsets.UTF_8));
                SchemaAndValue value = conv.toConnectData(f[3], f[8].getBytes(StandardCharsets.UTF_8));
                ConnectRecord rec;
                if (f[6].equals("null")) {
                    rec = new SourceRecord(Map.of("p", 1), Map.of("o", 1), f[3], partition,
                            key.schema(), key.value(), value.schema(), value.value(), ts);
                } else {
                    rec = new SinkRecord(f[3], partition == null ? 0 : partition, key.schema(), key.value(),
                            value.schema(), value.value(), Long.parseLong(f[6]), ts,
                            org.apache.kafka.common.record.TimestampType.CREATE_TIME);
                }
                try {
                    @SuppressWarnings("unchecked")
                    ConnectRecord out = (ConnectRecord) t.apply(rec);
                    if (out == null) {
                        w.print(name + "\tDROPPED\n");
                        continue;
                    }
                    String k = enc(conv, out.topic(), out.keySchema(), out.key());
                    String v = enc(conv, out.topic(), out.valueSchema(), out.value());
                    w.print(name + "\t" + out.topic() + "\t" + k + "\t" + v + "\n");
                } catch (Exception e) {
                    w.print(name + "\tERROR\n");
                }
            }
        }
    }

    static String enc(JsonConverter conv, String topic, org.apache.kafka.connect.data.Schema s, Object v) {
        byte[] b = conv.fromConnectData(topic, s, v);
        return b == null ? "NULL" : new String(b, StandardCharsets.UTF_8);
    }
}
