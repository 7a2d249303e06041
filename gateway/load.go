package gateway

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// maxFileBytes bounds the configuration file: it is read whole, and a file
// this large is a mistake.
const maxFileBytes = 4 << 20

// Load reads and validates the configuration file at path, expanding
// ${NAME} in values from the environment. Its errors name the file and
// line of each problem, all of them at once (see Error).
func Load(path string) (*Config, error) {
	data, err := readFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(path, data, os.LookupEnv)
}

func readFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(io.LimitReader(f, maxFileBytes+1)); err != nil {
		return nil, err
	}
	if buf.Len() > maxFileBytes {
		return nil, fmt.Errorf("%s: larger than %d bytes", path, maxFileBytes)
	}
	return buf.Bytes(), nil
}

// Parse reads a configuration from data, as Load does; name is the file
// name errors give, and lookup reads the environment (os.LookupEnv).
// Environment variables are expanded in values only, never in keys, and
// after the YAML is parsed, so a value cannot change the file's
// structure: "${NAME}" is replaced by the variable's value, "$${" stands
// for a literal "${", and a variable that is not set is an error.
func Parse(name string, data []byte, lookup func(string) (string, bool)) (*Config, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, &Error{File: name, Line: yamlLine(err), Message: yamlMessage(err)}
	}
	cfg := &Config{file: name, pos: positions{}}
	if root.Kind == 0 || len(root.Content) == 0 {
		return nil, &Error{File: name, Line: 1, Message: "the file is empty"}
	}
	doc := root.Content[0]
	w := walker{file: name, lookup: lookup, pos: cfg.pos}
	w.walk(doc, reflect.TypeOf(Config{}), "")
	// Every problem at once: those of the file's shape, then those of its
	// values (some of which may follow from the first).
	if err := doc.Decode(cfg); err != nil {
		return nil, errors.Join(append(w.errs, decodeError(name, err))...)
	}
	if err := errors.Join(append(w.errs, cfg.validate())...); err != nil {
		return nil, err
	}
	return cfg, nil
}

// Error is a problem with the configuration file, at a line of it.
type Error struct {
	File         string
	Line, Column int
	// Path names the setting, e.g. "routes[2].policy.scopes".
	Path    string
	Message string
}

// Error is "file:line:column: setting: what is wrong", as compilers
// write it, so editors and CI logs link to the line.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
		if e.Column > 0 {
			fmt.Fprintf(&b, ":%d", e.Column)
		}
	}
	b.WriteString(": ")
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	b.WriteString(e.Message)
	return b.String()
}

// positions maps each setting's path to where it is in the file.
type positions map[string]*yaml.Node

// errorAt is an Error at the setting path, or at the closest enclosing
// setting the file has.
func (c *Config) errorAt(path, format string, args ...any) *Error {
	e := &Error{File: c.file, Path: path, Message: fmt.Sprintf(format, args...)}
	for p := path; ; {
		if n := c.pos[p]; n != nil {
			e.Line, e.Column = n.Line, n.Column
			break
		}
		i := max(strings.LastIndexByte(p, '.'), strings.LastIndexByte(p, '['))
		if i <= 0 {
			break
		}
		p = p[:i]
	}
	return e
}

var lineRE = regexp.MustCompile(`^(?:yaml: )?line (\d+): `)

func yamlLine(err error) int {
	if m := lineRE.FindStringSubmatch(err.Error()); m != nil {
		n, _ := strconv.Atoi(m[1])
		return n
	}
	return 0
}

func yamlMessage(err error) string {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	return lineRE.ReplaceAllString(msg, "")
}

// decodeError names the lines of yaml's type errors.
func decodeError(file string, err error) error {
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		return &Error{File: file, Message: yamlMessage(err)}
	}
	var errs []error
	for _, m := range te.Errors {
		errs = append(errs, &Error{File: file, Line: yamlLine(errors.New(m)), Message: lineRE.ReplaceAllString(m, "")})
	}
	return errors.Join(errs...)
}

// walker goes over the parsed file alongside the Config type: it refuses
// keys no field has (a misspelt setting must not be silently ignored),
// expands the environment in values and records where each setting is.
type walker struct {
	file   string
	lookup func(string) (string, bool)
	pos    positions
	errs   []error
}

func (w *walker) fail(n *yaml.Node, path, format string, args ...any) {
	w.errs = append(w.errs, &Error{File: w.file, Line: n.Line, Column: n.Column, Path: path, Message: fmt.Sprintf(format, args...)})
}

func (w *walker) walk(n *yaml.Node, t reflect.Type, path string) {
	if path != "" {
		w.pos[path] = n
	}
	if n.Kind == yaml.AliasNode {
		w.fail(n, path, "YAML aliases are not accepted: write the value out")
		return
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch n.Kind {
	case yaml.ScalarNode:
		w.expand(n, path)
		return
	case yaml.MappingNode:
		switch t.Kind() {
		case reflect.Struct:
			fields := yamlFields(t)
			seen := map[string]bool{}
			for i := 0; i+1 < len(n.Content); i += 2 {
				k, v := n.Content[i], n.Content[i+1]
				if k.Value == "<<" {
					w.fail(k, path, "YAML merge keys are not accepted: write the settings out")
					continue
				}
				sub := join(path, k.Value)
				f, ok := fields[k.Value]
				switch {
				case !ok:
					w.fail(k, sub, "unknown setting %q%s", k.Value, suggest(k.Value, fields))
					continue
				case seen[k.Value]:
					w.fail(k, sub, "set twice")
					continue
				}
				seen[k.Value] = true
				w.walk(v, f.Type, sub)
			}
		case reflect.Map:
			seen := map[string]bool{}
			for i := 0; i+1 < len(n.Content); i += 2 {
				k, v := n.Content[i], n.Content[i+1]
				if k.Kind != yaml.ScalarNode {
					w.fail(k, path, "keys must be plain names")
					continue
				}
				if seen[k.Value] {
					w.fail(k, path, "%q is set twice", k.Value)
					continue
				}
				seen[k.Value] = true
				w.walk(v, t.Elem(), path+"."+k.Value)
			}
		}
	case yaml.SequenceNode:
		if t.Kind() == reflect.Slice {
			for i, item := range n.Content {
				w.walk(item, t.Elem(), fmt.Sprintf("%s[%d]", path, i))
			}
		}
	}
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// yamlFields maps a struct's yaml names to its fields.
func yamlFields(t reflect.Type) map[string]reflect.StructField {
	out := map[string]reflect.StructField{}
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name != "" && name != "-" {
			out[name] = f
		}
	}
	return out
}

// suggest names a known setting that differs from key by a little.
func suggest(key string, fields map[string]reflect.StructField) string {
	best, bestD := "", 3
	for name := range fields {
		if d := distance(strings.ToLower(key), name); d < bestD || (d == bestD && name < best) {
			best, bestD = name, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

// distance is the Levenshtein distance, for suggestions.
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

var envRE = regexp.MustCompile(`\$\$\{|\$\{([^}]*)\}`)

// expand replaces ${NAME} in a scalar value. A plain (unquoted) scalar is
// read again after expansion, so "port: ${PORT}" is a number.
func (w *walker) expand(n *yaml.Node, path string) {
	if !strings.Contains(n.Value, "${") {
		return
	}
	var failed bool
	out := envRE.ReplaceAllStringFunc(n.Value, func(m string) string {
		if m == "$${" {
			return "${"
		}
		name := m[2 : len(m)-1]
		if !validEnvName(name) {
			w.fail(n, path, "%q is not an environment variable name", name)
			failed = true
			return m
		}
		v, ok := w.lookup(name)
		if !ok {
			w.fail(n, path, "the environment variable %s is not set", name)
			failed = true
			return m
		}
		return v
	})
	if failed {
		return
	}
	n.Value = out
	if n.Style&(yaml.SingleQuotedStyle|yaml.DoubleQuotedStyle|yaml.LiteralStyle|yaml.FoldedStyle) == 0 {
		n.Tag = ""
	}
}

func validEnvName(s string) bool {
	if s == "" || (s[0] >= '0' && s[0] <= '9') {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c == '_' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}
