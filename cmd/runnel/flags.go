package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// errHelp reports that a command printed its help on request; the exit status
// is 0.
var errHelp = errors.New("runnel: help requested")

// usageError is a command line that cannot be understood. It exits with
// status 2 and a pointer to the command's --help.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

// usagef returns a *usageError.
func usagef(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// newFlagSet returns a FlagSet that reports errors as values instead of
// printing them, so each command controls its one line of error output.
func newFlagSet(name string) *flag.FlagSet {
	fs := flag.NewFlagSet("runnel "+name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return fs
}

// parseFlags parses args into fs. --help prints synopsis and the flag
// defaults to stdout and returns errHelp. Positional arguments are refused:
// Kafka's tools take none either.
func parseFlags(fs *flag.FlagSet, args []string, synopsis string, stdout io.Writer) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprintf(stdout, "Usage: %s\n\n", synopsis)
			printDefaults(stdout, fs)
			return errHelp
		}
		return &usageError{msg: err.Error()}
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q", fs.Arg(0))
	}
	return nil
}

// printDefaults lists the flags with Kafka's double-dash spelling.
func printDefaults(w io.Writer, fs *flag.FlagSet) {
	fs.VisitAll(func(f *flag.Flag) {
		typ, usage := flag.UnquoteUsage(f)
		line := "  --" + f.Name
		if typ != "" {
			line += " " + typ
		}
		fmt.Fprintf(w, "%s\n    \t%s", line, usage)
		if f.DefValue != "" && f.DefValue != "false" && f.DefValue != "0" && f.DefValue != "[]" {
			fmt.Fprintf(w, " (default %s)", f.DefValue)
		}
		fmt.Fprintln(w)
	})
}

// isSet reports whether the flag called name was given on the command line.
func isSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) {
		if f.Name == name {
			set = true
		}
	})
	return set
}

// stringList is a repeatable string flag: each occurrence adds one value.
type stringList []string

func (l *stringList) String() string { return strings.Join(*l, " ") }

func (l *stringList) Set(v string) error {
	*l = append(*l, v)
	return nil
}

// expandMultiValue rewrites "--name a b c" into "--name a --name b --name c"
// for the named flags, so that flags which take several values in Kafka's
// tools (such as kafka-producer-perf-test's --producer-props) work with a
// flag.Value that takes one value per occurrence. Values continue until the
// next argument that starts with "-".
func expandMultiValue(args []string, names ...string) []string {
	isMulti := func(arg string) bool {
		for _, n := range names {
			if arg == "-"+n || arg == "--"+n {
				return true
			}
		}
		return false
	}
	out := make([]string, 0, len(args))
	for i := 0; i < len(args); i++ {
		a := args[i]
		out = append(out, a)
		if !isMulti(a) || i+1 >= len(args) {
			continue
		}
		// The first value belongs to the flag as usual.
		i++
		out = append(out, args[i])
		for i+1 < len(args) && !strings.HasPrefix(args[i+1], "-") {
			i++
			out = append(out, a, args[i])
		}
	}
	return out
}

// keyValue is one key=value pair from the command line, in the order given.
type keyValue struct {
	Key, Value string
}

// parseKeyValues parses "key=value" arguments. The first '=' separates key
// from value, so values may contain '='. A pair without '=' or with an empty
// key is an error that names it.
func parseKeyValues(flagName string, list []string) ([]keyValue, error) {
	out := make([]keyValue, 0, len(list))
	for _, s := range list {
		k, v, ok := strings.Cut(s, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			return nil, usagef("invalid --%s %q: want key=value", flagName, s)
		}
		out = append(out, keyValue{Key: k, Value: v})
	}
	return out, nil
}

// toMap turns pairs into a map; a later pair overrides an earlier one.
func toMap(kvs []keyValue) map[string]string {
	m := make(map[string]string, len(kvs))
	for _, kv := range kvs {
		m[kv.Key] = kv.Value
	}
	return m
}

// splitConfigList parses kafka-configs' --add-config value: comma-separated
// key=value pairs where a value holding commas is written in square brackets,
// as in "cleanup.policy=[compact,delete],retention.ms=1000". The brackets are
// removed from the value. Empty values ("k=") are allowed, as in Kafka.
func splitConfigList(s string) ([]keyValue, error) {
	var (
		out   []keyValue
		depth int
		start int
	)
	flush := func(end int) error {
		item := s[start:end]
		k, v, ok := strings.Cut(item, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" || strings.ContainsAny(k, "[]") {
			return fmt.Errorf("invalid entity config %q: all configs to be added must be in the format \"key=val\" or \"key=[val1,val2]\" to group values which contain commas", item)
		}
		v = strings.TrimSpace(v)
		if strings.HasPrefix(v, "[") && strings.HasSuffix(v, "]") {
			v = v[1 : len(v)-1]
		}
		if strings.ContainsAny(v, "[]") {
			return fmt.Errorf("invalid entity config %q: unbalanced brackets", item)
		}
		for _, c := range k {
			if !(c == '$' || c == '.' || c == '_' || c == '-' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
				return fmt.Errorf("invalid character found for config key: %s", k)
			}
		}
		out = append(out, keyValue{Key: k, Value: v})
		return nil
	}
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '[':
			depth++
		case ']':
			depth--
			if depth < 0 {
				return nil, fmt.Errorf("invalid entity config %q: unbalanced brackets", s)
			}
		case ',':
			if depth == 0 {
				if err := flush(i); err != nil {
					return nil, err
				}
				start = i + 1
			}
		}
	}
	if depth != 0 {
		return nil, fmt.Errorf("invalid entity config %q: unbalanced brackets", s)
	}
	if err := flush(len(s)); err != nil {
		return nil, err
	}
	return out, nil
}

// splitList splits a comma-separated list, trimming spaces and dropping empty
// items.
func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
