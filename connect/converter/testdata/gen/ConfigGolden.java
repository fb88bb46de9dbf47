// ConfigGolden writes the configuration definitions (name, type, whether
// required, default, importance, group, order in group, width, display name)
// of Kafka's converters, transformations, predicates and file connectors, so
// that Runnel's definitions of the same plugins can be checked against them.
import org.apache.kafka.common.config.ConfigDef;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;

public class ConfigGolden {
    public static void main(String[] args) throws Exception {
        String[] classes = {
            "org.apache.kafka.connect.file.FileStreamSourceConnector",
            "org.apache.kafka.connect.file.FileStreamSinkConnector",
            "org.apache.kafka.connect.json.JsonConverter",
            "org.apache.kafka.connect.storage.StringConverter",
            "org.apache.kafka.connect.transforms.InsertField$Value",
            "org.apache.kafka.connect.transforms.ReplaceField$Value",
            "org.apache.kafka.connect.transforms.MaskField$Value",
            "org.apache.kafka.connect.transforms.ValueToKey",
            "org.apache.kafka.connect.transforms.ExtractField$Value",
            "org.apache.kafka.connect.transforms.HoistField$Value",
            "org.apache.kafka.connect.transforms.Cast$Value",
            "org.apache.kafka.connect.transforms.RegexRouter",
            "org.apache.kafka.connect.transforms.TimestampRouter",
            "org.apache.kafka.connect.transforms.Filter",
            "org.apache.kafka.connect.transforms.predicates.TopicNameMatches",
            "org.apache.kafka.connect.transforms.predicates.HasHeaderKey",
            "org.apache.kafka.connect.transforms.predicates.RecordIsTombstone",
        };
        try (PrintWriter w = new PrintWriter(Files.newBufferedWriter(Path.of(args[0])))) {
            w.print("# class\tname\ttype\trequired\tdefault\timportance\tgroup\torder\twidth\tdisplay (written by ConfigGolden.java)\n");
            for (String c : classes) {
                Object o = Class.forName(c).getDeclaredConstructor().newInstance();
                ConfigDef def = (ConfigDef) o.getClass().getMethod("config").invoke(o);
                for (ConfigDef.ConfigKey k : def.configKeys().values()) {
                    boolean req = ConfigDef.NO_DEFAULT_VALUE.equals(k.defaultValue);
                    String dv = req ? "null" : String.valueOf(ConfigDef.convertToString(k.defaultValue, k.type));
                    w.print(String.join("\t", c, k.name, k.type.name(), String.valueOf(req), dv, k.importance.name(),
                        String.valueOf(k.group), String.valueOf(k.orderInGroup), k.width.name(), k.displayName) + "\n");
                }
            }
        }
    }
}
