package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kmsg"
)

const configsSynopsis = "runnel configs --bootstrap-server HOST:PORT --describe|--alter --entity-type topics|brokers [--entity-name NAME|--entity-default] [--add-config k=v,k2=v2] [--delete-config k,k2] [--all]"

// configsOptions are the flags of runnel configs, named as in
// kafka-configs.sh.
type configsOptions struct {
	bootstrap, commandConfig string
	describe, alter, all     bool
	entityType, entityName   string
	entityDefault            bool
	topic, broker            string
	brokerDefaults           bool
	addConfig, addConfigFile string
	deleteConfig             stringList
}

// runConfigs is kafka-configs.sh for topics and brokers: it describes the
// dynamic (or, with --all, every) config of an entity and alters configs
// with IncrementalAlterConfigs.
func runConfigs(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	var o configsOptions
	fs := newFlagSet("configs")
	fs.StringVar(&o.bootstrap, "bootstrap-server", "", "REQUIRED: the Kafka server(s) to connect to, HOST1:PORT1,HOST2:PORT2")
	fs.StringVar(&o.commandConfig, "command-config", "", "properties file with admin client configs")
	fs.BoolVar(&o.describe, "describe", false, "list configs for the given entity")
	fs.BoolVar(&o.alter, "alter", false, "alter the configuration of the entity")
	fs.BoolVar(&o.all, "all", false, "with --describe: list all configs, not only the dynamic ones")
	fs.StringVar(&o.entityType, "entity-type", "", "type of entity: topics or brokers")
	fs.StringVar(&o.entityName, "entity-name", "", "name of entity: a topic name or a broker id")
	fs.BoolVar(&o.entityDefault, "entity-default", false, "with --entity-type brokers: the cluster-wide default broker config")
	fs.StringVar(&o.topic, "topic", "", "the topic, as --entity-type topics --entity-name TOPIC")
	fs.StringVar(&o.broker, "broker", "", "the broker id, as --entity-type brokers --entity-name ID")
	fs.BoolVar(&o.brokerDefaults, "broker-defaults", false, "as --entity-type brokers --entity-default")
	fs.StringVar(&o.addConfig, "add-config", "", "configs to set: k1=v1,k2=[v1,v2,v3],k3=v3")
	fs.StringVar(&o.addConfigFile, "add-config-file", "", "a properties file of configs to set")
	fs.Var(&o.deleteConfig, "delete-config", "configs to remove: k1,k2 (repeatable)")
	if err := parseFlags(fs, args, configsSynopsis, stdout); err != nil {
		return err
	}
	if err := o.validate(); err != nil {
		return err
	}
	cl, err := newClient(roleAdmin, o.bootstrap, o.commandConfig, nil, stderr)
	if err != nil {
		return err
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	if o.alter {
		return alterConfigs(ctx, adm, &o, stdout)
	}
	return describeConfigs(ctx, adm, &o, stdout)
}

// validate normalises the shorthand flags into entity type and name and
// applies kafka-configs.sh's rules.
func (o *configsOptions) validate() error {
	if o.bootstrap == "" {
		return usagef("--bootstrap-server must be specified")
	}
	if o.describe == o.alter {
		return usagef("command must include exactly one action: --describe, --alter")
	}
	shorthand := 0
	if o.topic != "" {
		shorthand++
		o.entityType, o.entityName = "topics", o.topic
	}
	if o.broker != "" {
		shorthand++
		o.entityType, o.entityName = "brokers", o.broker
	}
	if o.brokerDefaults {
		shorthand++
		o.entityType, o.entityDefault = "brokers", true
	}
	if shorthand > 1 {
		return usagef("only one of --topic, --broker and --broker-defaults may be given")
	}
	switch o.entityType {
	case "topics", "brokers":
	case "":
		return usagef("at least one entity type must be specified")
	default:
		return usagef("invalid entity type %s, the entity type must be one of topics, brokers", o.entityType)
	}
	if o.entityDefault && o.entityName != "" {
		return usagef("--entity-name and --entity-default cannot be used together")
	}
	if o.entityDefault && o.entityType == "topics" {
		return usagef("--entity-default is only valid with --entity-type brokers")
	}
	if o.entityType == "brokers" && o.entityName != "" {
		if _, err := strconv.ParseInt(o.entityName, 10, 32); err != nil {
			return usagef("the entity name for brokers must be a valid integer broker id, found: %s", o.entityName)
		}
	}
	if o.alter {
		if o.entityName == "" && !o.entityDefault {
			return usagef("an entity name must be specified with --alter of %s", o.entityType)
		}
		if o.addConfig == "" && o.addConfigFile == "" && len(o.deleteConfig) == 0 {
			return usagef("at least one of --add-config, --add-config-file, or --delete-config must be specified with --alter")
		}
		if o.all {
			return usagef("option --all can only be used with --describe")
		}
	} else if o.addConfig != "" || o.addConfigFile != "" || len(o.deleteConfig) > 0 {
		return usagef("options --add-config, --add-config-file and --delete-config can only be used with --alter")
	}
	return nil
}

// configSourceName is Kafka's ConfigEntry.ConfigSource name for a source.
func configSourceName(s kmsg.ConfigSource) string {
	switch s {
	case kmsg.ConfigSourceDynamicTopicConfig:
		return "DYNAMIC_TOPIC_CONFIG"
	case kmsg.ConfigSourceDynamicBrokerConfig:
		return "DYNAMIC_BROKER_CONFIG"
	case kmsg.ConfigSourceDynamicDefaultBrokerConfig:
		return "DYNAMIC_DEFAULT_BROKER_CONFIG"
	case kmsg.ConfigSourceStaticBrokerConfig:
		return "STATIC_BROKER_CONFIG"
	case kmsg.ConfigSourceDefaultConfig:
		return "DEFAULT_CONFIG"
	case kmsg.ConfigSourceDynamicBrokerLoggerConfig:
		return "DYNAMIC_BROKER_LOGGER_CONFIG"
	case kmsg.ConfigSourceClientMetricsConfig:
		return "DYNAMIC_CLIENT_METRICS_CONFIG"
	case kmsg.ConfigSourceGroupConfig:
		return "DYNAMIC_GROUP_CONFIG"
	}
	return "UNKNOWN"
}

// formatConfig renders one config as kafka-configs.sh --describe does:
// "  name=value sensitive=false synonyms={SOURCE:name=value, ...}".
func formatConfig(c kadm.Config) string {
	syn := make([]string, len(c.Synonyms))
	for i, s := range c.Synonyms {
		syn[i] = configSourceName(s.Source) + ":" + s.Key + "=" + configValue(s.Value)
	}
	return fmt.Sprintf("  %s=%s sensitive=%t synonyms={%s}", c.Key, configValue(c.Value), c.Sensitive, strings.Join(syn, ", "))
}

// entityConfigs describes one entity ("" is the broker default) and keeps
// the configs from source, or all of them when source is nil, sorted by name.
func entityConfigs(ctx context.Context, adm *kadm.Client, entityType, name string, source *kmsg.ConfigSource) ([]kadm.Config, error) {
	var (
		rcs kadm.ResourceConfigs
		err error
	)
	if entityType == "topics" {
		rcs, err = adm.DescribeTopicConfigs(ctx, name)
	} else if name == "" {
		rcs, err = adm.DescribeBrokerConfigs(ctx)
	} else {
		id, _ := strconv.ParseInt(name, 10, 32)
		rcs, err = adm.DescribeBrokerConfigs(ctx, int32(id))
	}
	if err != nil {
		return nil, err
	}
	if len(rcs) != 1 {
		return nil, fmt.Errorf("describing configs of %s: %d resources in the response", entityLabel(entityType, name), len(rcs))
	}
	if err := topicError(rcs[0].Err, rcs[0].ErrMessage); err != nil {
		return nil, fmt.Errorf("describing configs of %s: %w", entityLabel(entityType, name), err)
	}
	var out []kadm.Config
	for _, c := range rcs[0].Configs {
		if source == nil || c.Source == *source {
			out = append(out, c)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out, nil
}

// dynamicSource is the config source an entity's own dynamic configs have.
func dynamicSource(entityType, name string) kmsg.ConfigSource {
	switch {
	case entityType == "topics":
		return kmsg.ConfigSourceDynamicTopicConfig
	case name == "":
		return kmsg.ConfigSourceDynamicDefaultBrokerConfig
	default:
		return kmsg.ConfigSourceDynamicBrokerConfig
	}
}

// entityLabel names an entity in messages: "topic T", "broker 1", or
// "the cluster default for brokers" for the empty name.
func entityLabel(entityType, name string) string {
	if name == "" {
		return "the cluster default for " + entityType
	}
	return singular(entityType) + " " + name
}

// singular is Kafka's entity type without its plural s.
func singular(entityType string) string { return strings.TrimSuffix(entityType, "s") }

func describeConfigs(ctx context.Context, adm *kadm.Client, o *configsOptions, stdout io.Writer) error {
	var entities []string
	switch {
	case o.entityDefault:
		entities = []string{""}
	case o.entityName != "":
		if !o.all {
			exists, err := entityExists(ctx, adm, o.entityType, o.entityName)
			if err != nil {
				return err
			}
			if !exists {
				// Kafka reports this on stdout and exits 0.
				fmt.Fprintf(stdout, "The %s '%s' doesn't exist and doesn't have dynamic config.\n", singular(o.entityType), o.entityName)
				return nil
			}
		}
		entities = []string{o.entityName}
	case o.entityType == "topics":
		topics, err := adm.ListTopicsWithInternal(ctx)
		if err != nil {
			return err
		}
		entities = topics.Names()
	default:
		ids, err := brokerIDs(ctx, adm)
		if err != nil {
			return err
		}
		entities = append(ids, "")
	}
	for _, name := range entities {
		var source *kmsg.ConfigSource
		if !o.all {
			s := dynamicSource(o.entityType, name)
			source = &s
		}
		configs, err := entityConfigs(ctx, adm, o.entityType, name, source)
		if err != nil {
			return err
		}
		switch {
		case name == "":
			fmt.Fprintf(stdout, "Default configs for %s in the cluster are:\n", o.entityType)
		case o.all:
			fmt.Fprintf(stdout, "All configs for %s %s are:\n", singular(o.entityType), name)
		default:
			fmt.Fprintf(stdout, "Dynamic configs for %s %s are:\n", singular(o.entityType), name)
		}
		for _, c := range configs {
			fmt.Fprintln(stdout, formatConfig(c))
		}
	}
	return nil
}

// entityExists checks a topic name or a broker id against the cluster.
func entityExists(ctx context.Context, adm *kadm.Client, entityType, name string) (bool, error) {
	if entityType == "topics" {
		topics, err := adm.ListTopicsWithInternal(ctx)
		if err != nil {
			return false, err
		}
		return topics.Has(name), nil
	}
	ids, err := brokerIDs(ctx, adm)
	if err != nil {
		return false, err
	}
	return slices.Contains(ids, name), nil
}

// brokerIDs lists the cluster's broker ids in order, as strings.
func brokerIDs(ctx context.Context, adm *kadm.Client) ([]string, error) {
	brokers, err := adm.ListBrokers(ctx)
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, id := range brokers.NodeIDs() {
		ids = append(ids, strconv.Itoa(int(id)))
	}
	return ids, nil
}

func alterConfigs(ctx context.Context, adm *kadm.Client, o *configsOptions, stdout io.Writer) error {
	var adds []keyValue
	if o.addConfigFile != "" {
		m, err := loadProperties(o.addConfigFile)
		if err != nil {
			return err
		}
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			adds = append(adds, keyValue{Key: k, Value: m[k]})
		}
	}
	if o.addConfig != "" {
		kvs, err := splitConfigList(o.addConfig)
		if err != nil {
			return usagef("%v", err)
		}
		adds = append(adds, kvs...)
	}
	var deletes []string
	for _, d := range o.deleteConfig {
		deletes = append(deletes, splitList(d)...)
	}

	// Deleting a config the entity does not override is an error, as in
	// kafka-configs.sh.
	name := o.entityName
	source := dynamicSource(o.entityType, name)
	current, err := entityConfigs(ctx, adm, o.entityType, name, &source)
	if err != nil {
		return err
	}
	var invalid []string
	for _, d := range deletes {
		if !slices.ContainsFunc(current, func(c kadm.Config) bool { return c.Key == d }) {
			invalid = append(invalid, d)
		}
	}
	if len(invalid) > 0 {
		return fmt.Errorf("invalid config(s): %s", strings.Join(invalid, ","))
	}

	ops := make([]kadm.AlterConfig, 0, len(deletes)+len(adds))
	for _, d := range deletes {
		ops = append(ops, kadm.AlterConfig{Op: kadm.DeleteConfig, Name: d})
	}
	for _, a := range adds {
		v := a.Value
		ops = append(ops, kadm.AlterConfig{Op: kadm.SetConfig, Name: a.Key, Value: &v})
	}
	var resps kadm.AlterConfigsResponses
	switch {
	case o.entityType == "topics":
		resps, err = adm.AlterTopicConfigs(ctx, ops, name)
	case name == "":
		resps, err = adm.AlterBrokerConfigs(ctx, ops)
	default:
		id, _ := strconv.ParseInt(name, 10, 32)
		resps, err = adm.AlterBrokerConfigs(ctx, ops, int32(id))
	}
	if err != nil {
		return err
	}
	for _, r := range resps {
		if err := topicError(r.Err, r.ErrMessage); err != nil {
			return fmt.Errorf("altering configs of %s: %w", entityLabel(o.entityType, name), err)
		}
	}
	if name == "" {
		fmt.Fprintf(stdout, "Completed updating default config for %s in the cluster.\n", o.entityType)
	} else {
		fmt.Fprintf(stdout, "Completed updating config for %s %s.\n", singular(o.entityType), name)
	}
	return nil
}
