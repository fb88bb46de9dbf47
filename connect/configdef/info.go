package configdef

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// KeyInfo is the JSON shape of one key definition in Kafka's REST API
// (ConfigKeyInfo), as GET /connector-plugins/{plugin}/config lists them and
// as the "definition" of each entry of a validation result.
type KeyInfo struct {
	Name          string   `json:"name"`
	Type          string   `json:"type"`
	Required      bool     `json:"required"`
	DefaultValue  *string  `json:"default_value"`
	Importance    string   `json:"importance"`
	Documentation *string  `json:"documentation"`
	Group         *string  `json:"group"`
	OrderInGroup  int      `json:"order_in_group"`
	Width         string   `json:"width"`
	DisplayName   string   `json:"display_name"`
	Dependents    []string `json:"dependents"`
}

// ValueInfo is the JSON shape of one validated value (ConfigValueInfo).
type ValueInfo struct {
	Name              string   `json:"name"`
	Value             *string  `json:"value"`
	RecommendedValues []string `json:"recommended_values"`
	Errors            []string `json:"errors"`
	Visible           bool     `json:"visible"`
}

// Info pairs a key's definition with its validated value (ConfigInfo); either
// may be null.
type Info struct {
	Definition *KeyInfo   `json:"definition"`
	Value      *ValueInfo `json:"value"`
}

// Infos is the body of PUT /connector-plugins/{plugin}/config/validate
// (ConfigInfos): the plugin class name, the total error count, the groups
// and one Info per key.
type Infos struct {
	Name       string   `json:"name"`
	ErrorCount int      `json:"error_count"`
	Groups     []string `json:"groups"`
	Configs    []Info   `json:"configs"`
}

// NewKeyInfo converts a key definition to its REST shape.
func NewKeyInfo(k Key) KeyInfo {
	ki := KeyInfo{
		Name:         k.Name,
		Type:         string(k.Type),
		Required:     k.Required(),
		Importance:   string(k.Importance),
		OrderInGroup: k.OrderInGroup,
		Width:        string(k.Width),
		DisplayName:  k.DisplayName,
		Dependents:   append([]string{}, k.Dependents...),
	}
	if ki.Importance == "" {
		ki.Importance = string(Medium)
	}
	if ki.Width == "" {
		ki.Width = string(WidthNone)
	}
	if ki.DisplayName == "" {
		ki.DisplayName = k.Name
	}
	if !ki.Required {
		ki.DefaultValue = ValueString(k.Default, k.Type)
	}
	if k.Documentation != "" {
		doc := k.Documentation
		ki.Documentation = &doc
	}
	if k.Group != "" {
		g := k.Group
		ki.Group = &g
	}
	return ki
}

// KeyInfos lists d's non-internal keys in their REST shape, in definition order.
func (d *Def) KeyInfos() []KeyInfo {
	out := make([]KeyInfo, 0, len(d.keys))
	for _, k := range d.keys {
		if !k.Internal {
			out = append(out, NewKeyInfo(k))
		}
	}
	return out
}

// NewValueInfo converts a validated value to its REST shape; t is the key's
// type ("" for a value without definition).
func NewValueInfo(v ConfigValue, t Type) ValueInfo {
	vi := ValueInfo{
		Name:              v.Name,
		Value:             ValueString(v.Value, t),
		RecommendedValues: []string{},
		Errors:            append([]string{}, v.Errors...),
		Visible:           v.Visible,
	}
	rt := t
	if t == List {
		rt = String
	}
	for _, r := range v.RecommendedValues {
		if s := ValueString(r, rt); s != nil {
			vi.RecommendedValues = append(vi.RecommendedValues, *s)
		}
	}
	return vi
}

// NewInfos builds a validation result the way Kafka's AbstractHerder does:
// values whose name d does not define come first with a null definition,
// then every non-internal key of d with its value (null when values lacks
// it); error_count sums the errors of all of them.
func NewInfos(name string, d *Def, values []ConfigValue) Infos {
	infos := Infos{Name: name, Groups: d.Groups(), Configs: []Info{}}
	if infos.Groups == nil {
		infos.Groups = []string{}
	}
	byName := make(map[string]ConfigValue, len(values))
	for _, v := range values {
		byName[v.Name] = v
		if _, ok := d.Key(v.Name); !ok {
			vi := NewValueInfo(v, "")
			infos.Configs = append(infos.Configs, Info{Value: &vi})
			infos.ErrorCount += len(v.Errors)
		}
	}
	for _, k := range d.keys {
		if k.Internal {
			continue
		}
		ki := NewKeyInfo(k)
		info := Info{Definition: &ki}
		if v, ok := byName[k.Name]; ok {
			vi := NewValueInfo(v, k.Type)
			info.Value = &vi
			infos.ErrorCount += len(v.Errors)
		}
		infos.Configs = append(infos.Configs, info)
	}
	return infos
}

// ValueString formats a parsed value as Kafka's ConfigDef.convertToString
// does: nil stays null, LIST joins with ",", PASSWORD prints "[hidden]",
// DOUBLE prints as Java's Double.toString.
func ValueString(v any, t Type) *string {
	if v == nil {
		return nil
	}
	var s string
	switch v := v.(type) {
	case []string:
		s = strings.Join(v, ",")
	case Secret:
		s = v.String()
	case float64:
		s = javaDouble(v)
	case float32:
		s = javaDouble(float64(v))
	default:
		s = fmt.Sprint(v)
	}
	return &s
}

// javaDouble formats f as Java's Double.toString: "1.0", "0.001", "1.0E7",
// "1.0E-4", "NaN", "Infinity".
func javaDouble(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	case f == 0:
		if math.Signbit(f) {
			return "-0.0"
		}
		return "0.0"
	}
	abs := math.Abs(f)
	if abs >= 1e-3 && abs < 1e7 {
		s := strconv.FormatFloat(f, 'f', -1, 64)
		if !strings.Contains(s, ".") {
			s += ".0"
		}
		return s
	}
	s := strconv.FormatFloat(f, 'E', -1, 64) // e.g. 1E+07, 1.5E-04
	mant, exp, _ := strings.Cut(s, "E")
	if !strings.Contains(mant, ".") {
		mant += ".0"
	}
	n, _ := strconv.Atoi(exp)
	return mant + "E" + strconv.Itoa(n)
}
