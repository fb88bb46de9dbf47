package configdef

import "slices"

// ConfigValue is the result of validating one key (Kafka's ConfigValue): its
// parsed value, the values a Recommender suggests, the error messages, and
// whether the key is visible given the other values.
type ConfigValue struct {
	Name              string
	Value             any
	RecommendedValues []any
	Errors            []string
	Visible           bool
}

// Validate checks props against d and reports every defined key, in
// definition order, with all of its errors rather than only the first:
// a value that does not parse, a missing required key, a validator's
// complaint. Recommenders fill RecommendedValues and Visible. A dependent that
// d does not define is reported as an extra invisible entry with an error.
func (d *Def) Validate(props map[string]string) []ConfigValue {
	values := make([]ConfigValue, 0, len(d.keys))
	parsed := make(map[string]any, len(d.keys))
	for _, k := range d.keys {
		cv := ConfigValue{Name: k.Name, Visible: true}
		var v any
		if s, ok := props[k.Name]; ok {
			p, err := ParseValue(k.Name, s, k.Type)
			if err != nil {
				cv.Errors = append(cv.Errors, err.Error())
			} else {
				v = p
			}
		} else if k.Required() {
			cv.Errors = append(cv.Errors, (&Error{Name: k.Name, Missing: true}).Error())
		} else {
			v = k.Default
		}
		if k.Validator != nil {
			if err := k.Validator.Validate(k.Name, v); err != nil {
				cv.Errors = append(cv.Errors, err.Error())
			}
		}
		cv.Value = v
		parsed[k.Name] = v
		values = append(values, cv)
	}
	for i, k := range d.keys {
		if k.Recommender == nil {
			continue
		}
		values[i].RecommendedValues = k.Recommender.ValidValues(k.Name, parsed)
		values[i].Visible = k.Recommender.Visible(k.Name, parsed)
	}
	var undefined []string
	for _, k := range d.keys {
		for _, dep := range k.Dependents {
			if _, ok := d.index[dep]; !ok && !slices.Contains(undefined, dep) {
				undefined = append(undefined, dep)
			}
		}
	}
	for _, name := range undefined {
		values = append(values, ConfigValue{Name: name,
			Errors: []string{name + " is referred in the dependents, but not defined."}})
	}
	return values
}

// ErrorCount returns the total number of error messages in values.
func ErrorCount(values []ConfigValue) int {
	n := 0
	for _, v := range values {
		n += len(v.Errors)
	}
	return n
}
