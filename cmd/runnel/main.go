// Command runnel is the one Runnel binary: it runs a server and carries the
// client tools a Kafka user already knows.
//
// runnel server runs a node (kafka-server-start.sh). The client
// subcommands mirror Apache Kafka's shell tools flag for flag and line for
// line, so that muscle memory carries over:
//
//	runnel topics        kafka-topics.sh
//	runnel produce       kafka-console-producer.sh
//	runnel consume       kafka-console-consumer.sh
//	runnel configs       kafka-configs.sh
//	runnel groups        kafka-consumer-groups.sh
//	runnel transactions  kafka-transactions.sh
//	runnel streams       kafka-streams-application-reset.sh (runnel streams reset)
//	runnel connect       connect-standalone.sh and connect-distributed.sh
//	runnel perf          kafka-producer-perf-test.sh and kafka-consumer-perf-test.sh
//
// Every subcommand is a function of its arguments and standard streams, so
// tests run it in-process. Errors are reported as one line on standard error
// with a non-zero exit status: 2 for a command line that cannot be understood,
// 1 for anything that fails while running, 130 after an interrupt.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"sort"
	"strings"
	"syscall"
)

// commandFunc runs one subcommand. ctx is cancelled on SIGINT or SIGTERM.
type commandFunc func(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error

// command is one entry of the command table.
type command struct {
	run     commandFunc
	summary string
	// stopsOnSignal marks a command whose normal end is SIGINT/SIGTERM (a
	// server): a clean stop then exits 0 instead of 130.
	stopsOnSignal bool
}

// commands returns the command table. It is built on each call so that the
// program keeps no package-level state.
func commands() map[string]command {
	return map[string]command{
		"server":  {run: withoutStdin(runServer), summary: "run a Runnel node (kafka-server-start)", stopsOnSignal: true},
		"topics":  {run: runTopics, summary: "create, list, describe, alter or delete topics (kafka-topics)"},
		"produce": {run: runProduce, summary: "write lines from standard input to a topic (kafka-console-producer)"},
		"consume": {run: runConsume, summary: "print records of a topic (kafka-console-consumer)"},
		"configs": {run: runConfigs, summary: "describe or alter topic and broker configs (kafka-configs)"},
		"groups":  {run: runGroups, summary: "list, describe, reset offsets of or delete consumer groups (kafka-consumer-groups)"},
		"perf":    {run: runPerf, summary: "measure produce or consume throughput and latency (kafka-*-perf-test)"},
		"connect": {run: withoutStdin(runConnect), summary: "run a Kafka Connect worker (connect-standalone, connect-distributed)", stopsOnSignal: true},
		"streams": {run: runStreams, summary: "reset a Streams application (kafka-streams-application-reset)"},

		"transactions": {run: withoutStdin(runTransactions), summary: "list, describe, find and abort hanging transactions (kafka-transactions)"},
	}
}

// withoutStdin adapts a command that never reads standard input.
func withoutStdin(fn func(ctx context.Context, args []string, stdout, stderr io.Writer) error) commandFunc {
	return func(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
		return fn(ctx, args, stdout, stderr)
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run dispatches args to a subcommand and turns its error into an exit status
// and one line on stderr.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		printHelp(stderr)
		return 2
	}
	name := args[0]
	switch name {
	case "help", "-h", "-help", "--help":
		if len(args) > 1 {
			if _, ok := commands()[args[1]]; ok {
				return run(ctx, []string{args[1], "--help"}, stdin, stdout, stderr)
			}
		}
		printHelp(stdout)
		return 0
	case "version", "-version", "--version":
		fmt.Fprintln(stdout, version())
		return 0
	}
	cmd, ok := commands()[name]
	if !ok {
		fmt.Fprintf(stderr, "runnel: unknown command %q (see 'runnel help')\n", name)
		return 2
	}
	err := cmd.run(ctx, args[1:], stdin, stdout, stderr)
	if err == nil && cmd.stopsOnSignal {
		return 0
	}
	return exitStatus(ctx, name, err, stderr)
}

// exitStatus reports err on stderr as one line and returns the exit status.
func exitStatus(ctx context.Context, name string, err error, stderr io.Writer) int {
	var uerr *usageError
	switch {
	case err == nil && ctx.Err() != nil:
		// The JVM tools end with 128+SIGINT after an interrupt.
		return 130
	case err == nil:
		return 0
	case errors.Is(err, errHelp):
		return 0
	case errors.As(err, &uerr):
		fmt.Fprintf(stderr, "runnel %s: %s (see 'runnel %s --help')\n", name, oneLine(err.Error()), name)
		return 2
	case ctx.Err() != nil && errors.Is(err, context.Canceled):
		return 130
	default:
		fmt.Fprintf(stderr, "runnel %s: %s\n", name, oneLine(err.Error()))
		return 1
	}
}

// oneLine folds a multi-line message onto one line.
func oneLine(s string) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(s, "\n", " ")), " ")
}

func printHelp(w io.Writer) {
	fmt.Fprintln(w, "Usage: runnel <command> [flags]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Commands:")
	table := commands()
	names := make([]string, 0, len(table))
	for n := range table {
		names = append(names, n)
	}
	sort.Strings(names)
	width := 0
	for _, n := range names {
		width = max(width, len(n))
	}
	for _, n := range names {
		fmt.Fprintf(w, "  %-*s %s\n", width, n, table[n].summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Run 'runnel <command> --help' for the flags of one command; 'runnel --version' prints the version.")
}

// version reports the module version the binary was built from.
func version() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return "runnel " + bi.Main.Version
	}
	return "runnel (devel)"
}
