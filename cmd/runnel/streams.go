package main

// runnel streams: tools for Runnel Streams applications. "reset" is
// kafka-streams-application-reset.sh.

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/runnel/runnel/streams"
)

const streamsSynopsis = "runnel streams reset --bootstrap-server HOST:PORT --application-id ID [--input-topics T1,T2] [--intermediate-topics T3] [--to-earliest|--to-latest] [--dry-run]"

// runStreams dispatches the streams subcommands.
func runStreams(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usagef("missing subcommand; usage: %s", streamsSynopsis)
	}
	switch args[0] {
	case "reset":
		return runStreamsReset(ctx, args[1:], stdout)
	case "-h", "-help", "--help":
		fmt.Fprintf(stdout, "Usage: %s\n", streamsSynopsis)
		return errHelp
	}
	return usagef("unknown streams subcommand %q; usage: %s", args[0], streamsSynopsis)
}

// runStreamsReset resets an application as kafka-streams-application-reset
// does and prints what it did in that tool's words.
func runStreamsReset(ctx context.Context, args []string, stdout io.Writer) error {
	var (
		bootstrap, appID, inputs, intermediates string
		toEarliest, toLatest, dryRun            bool
		timeoutMs                               int64
	)
	fs := newFlagSet("streams reset")
	fs.StringVar(&bootstrap, "bootstrap-server", "", "REQUIRED: the Kafka server(s) to connect to, HOST1:PORT1,HOST2:PORT2")
	fs.StringVar(&bootstrap, "bootstrap-servers", "", "deprecated spelling of --bootstrap-server")
	fs.StringVar(&appID, "application-id", "", "REQUIRED: the Streams application ID (application.id)")
	fs.StringVar(&inputs, "input-topics", "", "comma-separated user input topics; their offsets go to the earliest (or latest) offset")
	fs.StringVar(&intermediates, "intermediate-topics", "", "comma-separated intermediate user topics (written with To and read back); skipped to their end")
	fs.BoolVar(&toEarliest, "to-earliest", false, "reset input topics to the earliest offset (the default)")
	fs.BoolVar(&toLatest, "to-latest", false, "reset input topics to the latest offset")
	fs.BoolVar(&dryRun, "dry-run", false, "show what would be done without doing it")
	fs.Int64Var(&timeoutMs, "timeout", 30000, "how long in milliseconds the reset may take")
	if err := parseFlags(fs, args, streamsSynopsis, stdout); err != nil {
		return err
	}
	if bootstrap == "" {
		return usagef("missing required option --bootstrap-server")
	}
	if appID == "" {
		return usagef("missing required option --application-id")
	}
	if toEarliest && toLatest {
		return usagef("--to-earliest and --to-latest are exclusive")
	}
	cfg := streams.ResetConfig{
		BootstrapServers:   splitList(bootstrap),
		ApplicationID:      appID,
		InputTopics:        splitList(inputs),
		IntermediateTopics: splitList(intermediates),
		ToLatest:           toLatest,
		DryRun:             dryRun,
	}
	ctx, cancel := context.WithTimeout(ctx, time.Duration(timeoutMs)*time.Millisecond)
	defer cancel()
	res, err := streams.Reset(ctx, cfg)
	if err != nil {
		return err
	}
	if dryRun {
		fmt.Fprintln(stdout, "----Dry run displays the actions which will be performed when running Streams Reset Tool----")
	}
	if len(cfg.InputTopics) == 0 {
		fmt.Fprintln(stdout, "No input topics specified, skipping seek.")
	} else {
		fmt.Fprintf(stdout, "Reset-offsets for input topics [%s]\n", strings.Join(cfg.InputTopics, ", "))
		fmt.Fprintf(stdout, "Following input topics offsets will be reset to (for consumer group %s)\n", appID)
		printOffsets(stdout, res.InputOffsets)
		fmt.Fprintln(stdout, "Done.")
	}
	if len(cfg.IntermediateTopics) > 0 {
		fmt.Fprintf(stdout, "Seek-to-end for intermediate topics [%s]\n", strings.Join(cfg.IntermediateTopics, ", "))
		printOffsets(stdout, res.IntermediateOffsets)
		fmt.Fprintln(stdout, "Done.")
	}
	fmt.Fprintf(stdout, "Deleting inferred internal topics [%s]\n", strings.Join(res.DeletedTopics, ", "))
	for _, tp := range res.DeletedTopics {
		fmt.Fprintf(stdout, "Topic: %s\n", tp)
	}
	fmt.Fprintln(stdout, "Done.")
	return nil
}

func printOffsets(w io.Writer, offsets map[string]map[int32]int64) {
	var topics []string
	for tp := range offsets {
		topics = append(topics, tp)
	}
	slices.Sort(topics)
	for _, tp := range topics {
		var parts []int32
		for p := range offsets[tp] {
			parts = append(parts, p)
		}
		slices.Sort(parts)
		for _, p := range parts {
			fmt.Fprintf(w, "Topic: %s Partition: %d Offset: %d\n", tp, p, offsets[tp][p])
		}
	}
}
