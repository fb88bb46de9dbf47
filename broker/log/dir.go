package log

import (
	"fmt"
	"strconv"
	"strings"
)

// maxTopicLength is Kafka's limit on topic names.
const maxTopicLength = 249

// ParseDir splits a partition directory name "<topic>-<partition>" at its
// last '-', as Kafka does (topic names may themselves contain '-'). The
// topic must be a legal Kafka topic name ([a-zA-Z0-9._-], at most 249
// characters) and the partition a non-negative decimal number. Kafka's
// "-delete", "-future" and "-stray" directories do not parse; the data
// directory handles those names itself.
func ParseDir(name string) (topic string, partition int32, err error) {
	i := strings.LastIndexByte(name, '-')
	if i < 0 {
		return "", 0, fmt.Errorf("%w: %q has no '-'", ErrInvalidDirName, name)
	}
	topic, ps := name[:i], name[i+1:]
	if err := validTopic(topic); err != nil {
		return "", 0, fmt.Errorf("%w: %q: %w", ErrInvalidDirName, name, err)
	}
	p, err := parseNonNegative(ps, 32)
	if err != nil {
		return "", 0, fmt.Errorf("%w: %q: partition %q: %v", ErrInvalidDirName, name, ps, err)
	}
	return topic, int32(p), nil
}

// DirName is the directory name of a topic partition, the inverse of
// ParseDir.
func DirName(topic string, partition int32) string {
	return topic + "-" + strconv.FormatInt(int64(partition), 10)
}

func validTopic(t string) error {
	switch {
	case t == "":
		return fmt.Errorf("empty topic")
	case len(t) > maxTopicLength:
		return fmt.Errorf("topic is %d characters, the limit is %d", len(t), maxTopicLength)
	case t == "." || t == "..":
		return fmt.Errorf("topic %q is not allowed", t)
	}
	for _, c := range []byte(t) {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-') {
			return fmt.Errorf("topic contains %q; legal characters are [a-zA-Z0-9._-]", c)
		}
	}
	return nil
}
