package config

import (
	"net"
	"os"
	"regexp"
	"strconv"
	"strings"
)

// Listener is one address a node listens on or advertises, as written in
// listeners and advertised.listeners: "PLAINTEXT://127.0.0.1:9092". Name is
// upper-case, as Kafka normalises listener names. An empty Host in
// Listeners binds the default interface; Port 0 asks for an ephemeral port,
// which the server fills in once bound.
type Listener struct {
	Name string
	Host string
	Port int
}

// String renders l in listeners syntax, bracketing an IPv6 host.
func (l Listener) String() string {
	host := l.Host
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	return l.Name + "://" + host + ":" + strconv.Itoa(l.Port)
}

// Addr returns l's address in the form net.Listen takes.
func (l Listener) Addr() string { return net.JoinHostPort(l.Host, strconv.Itoa(l.Port)) }

// Voter is one entry of controller.quorum.voters: "1@host:9093".
type Voter struct {
	ID   int32
	Host string
	Port int
}

// listenerRE is the shape of one listeners entry; the name is checked
// separately so that the error can say what is wrong with it.
var listenerRE = regexp.MustCompile(`^(.*)://\[?([0-9a-zA-Z\-%._:]*)\]?:(-?[0-9]+)$`)

var listenerNameRE = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// parseListeners parses a listeners or advertised.listeners value. With
// distinctPorts, two listeners may share a port only if one binds an IPv4
// and the other an IPv6 address, as Kafka allows.
func parseListeners(key, raw string, distinctPorts bool) ([]Listener, *Error) {
	var out []Listener
	seen := map[string]bool{}
	for _, entry := range splitList(strings.TrimSpace(raw)) {
		m := listenerRE.FindStringSubmatch(entry)
		if m == nil {
			return nil, invalid(key, raw, "cannot read "+strconv.Quote(entry)+" as NAME://host:port")
		}
		name := strings.ToUpper(m[1])
		if !listenerNameRE.MatchString(name) {
			return nil, invalid(key, raw, "listener name "+strconv.Quote(m[1])+" must be letters, digits, '_' or '-'")
		}
		port, err := strconv.Atoi(m[3])
		if err != nil || port < 0 || port > 65535 {
			return nil, invalid(key, raw, "port of "+strconv.Quote(entry)+" must be between 0 and 65535")
		}
		if seen[name] {
			return nil, invalid(key, raw, "each listener needs its own name; "+name+" appears twice")
		}
		seen[name] = true
		out = append(out, Listener{Name: name, Host: m[2], Port: port})
	}
	if distinctPorts {
		if e := checkPorts(key, raw, out); e != nil {
			return nil, e
		}
	}
	return out, nil
}

// checkPorts rejects two listeners on one port, unless they are exactly two
// and bind an IPv4 and an IPv6 address. Port 0 (ephemeral) may repeat.
func checkPorts(key, raw string, ls []Listener) *Error {
	byPort := map[int][]Listener{}
	for _, l := range ls {
		if l.Port != 0 {
			byPort[l.Port] = append(byPort[l.Port], l)
		}
	}
	for port, same := range byPort {
		if len(same) < 2 {
			continue
		}
		if len(same) == 2 {
			a, b := net.ParseIP(same[0].Host), net.ParseIP(same[1].Host)
			if a != nil && b != nil && (a.To4() == nil) != (b.To4() == nil) {
				continue
			}
		}
		return invalid(key, raw, "listeners "+same[0].Name+" and "+same[1].Name+" share port "+strconv.Itoa(port)+
			"; each listener needs its own port unless one binds an IPv4 and the other an IPv6 address")
	}
	return nil
}

// parseProtocolMap reads listener.security.protocol.map into upper-case
// listener names mapped to protocols. It returns a description of the first
// problem instead of an error so that it can serve as a rule.
func parseProtocolMap(raw string) (map[string]string, string) {
	m := map[string]string{}
	for _, entry := range splitList(strings.TrimSpace(raw)) {
		name, proto, ok := strings.Cut(entry, ":")
		name, proto = strings.ToUpper(strings.TrimSpace(name)), strings.ToUpper(strings.TrimSpace(proto))
		if !ok || name == "" {
			return nil, "cannot read " + strconv.Quote(entry) + " as LISTENER_NAME:PROTOCOL"
		}
		if !securityProtocols.ok(proto) {
			return nil, "unknown security protocol " + strconv.Quote(proto) + " in " + strconv.Quote(entry)
		}
		m[name] = proto
	}
	return m, ""
}

// parseVoters reads controller.quorum.voters entries ("id@host:port").
func parseVoters(entries []string) ([]Voter, string) {
	var out []Voter
	seen := map[int32]bool{}
	for _, e := range entries {
		idStr, addr, ok := strings.Cut(e, "@")
		id, err := strconv.ParseInt(strings.TrimSpace(idStr), 10, 32)
		if !ok || err != nil || id < 0 {
			return nil, "cannot read " + strconv.Quote(e) + " as id@host:port with a non-negative id"
		}
		host, port, ok := splitHostPort(addr)
		if !ok {
			return nil, "cannot read the address of " + strconv.Quote(e) + " as host:port"
		}
		if seen[int32(id)] {
			return nil, "voter id " + idStr + " appears twice"
		}
		seen[int32(id)] = true
		out = append(out, Voter{ID: int32(id), Host: host, Port: port})
	}
	return out, ""
}

var hostRE = regexp.MustCompile(`^[0-9a-zA-Z\-%._:]+$`)

// splitHostPort reads "host:port" or "[ipv6]:port".
func splitHostPort(s string) (string, int, bool) {
	s = strings.TrimSpace(s)
	i := strings.LastIndexByte(s, ':')
	if i <= 0 {
		return "", 0, false
	}
	host, portStr := s[:i], s[i+1:]
	if strings.HasPrefix(host, "[") && strings.HasSuffix(host, "]") {
		host = host[1 : len(host)-1]
	}
	port, err := strconv.Atoi(portStr)
	if err != nil || port < 0 || port > 65535 || !hostRE.MatchString(host) {
		return "", 0, false
	}
	return host, port, true
}

// parseIPOverrides reads max.connections.per.ip.overrides ("host:count").
func parseIPOverrides(raw string) (map[string]int32, bool) {
	m := map[string]int32{}
	for _, entry := range splitList(strings.TrimSpace(raw)) {
		i := strings.LastIndexByte(entry, ':')
		if i <= 0 {
			return nil, false
		}
		host := strings.Trim(strings.TrimSpace(entry[:i]), "[]")
		n, err := strconv.ParseInt(strings.TrimSpace(entry[i+1:]), 10, 32)
		if err != nil || n < 0 || !hostRE.MatchString(host) {
			return nil, false
		}
		m[host] = int32(n)
	}
	return m, true
}

// validThrottledReplicas accepts "*" alone or partition:brokerId pairs.
func validThrottledReplicas(items []string) bool {
	if len(items) == 1 && items[0] == "*" {
		return true
	}
	for _, it := range items {
		p, b, ok := strings.Cut(it, ":")
		if !ok {
			return false
		}
		if _, err := strconv.ParseUint(strings.TrimSpace(p), 10, 31); err != nil {
			return false
		}
		if _, err := strconv.ParseUint(strings.TrimSpace(b), 10, 31); err != nil {
			return false
		}
	}
	return true
}

var versionRE = regexp.MustCompile(`^[0-9]+\.[0-9]+(\.[0-9]+)?(-IV[0-9]+)?$`)

// isKafkaVersion accepts version strings such as "3.0", "2.8.1" and
// "3.0-IV1", as message.format.version and inter.broker.protocol.version do.
func isKafkaVersion(s string) bool { return versionRE.MatchString(s) }

// localHostname is what an empty advertised host becomes. Kafka advertises
// the machine's canonical host name; Runnel uses the kernel's host name and
// does no DNS lookup.
func localHostname() string {
	h, err := os.Hostname()
	if err != nil || h == "" {
		return "localhost"
	}
	return h
}
