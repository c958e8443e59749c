package server

import (
	"encoding"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// secretKeys are the keys whose values never appear in a problem line: they are
// credentials, or (redis_url, webhook_url) URLs that may carry one.
var secretKeys = map[string]bool{
	"spencer.client_secret": true,
	"spencer.refresh_token": true,
	"server.admin_token":    true,
	"server.access_keys":    true,
	"cluster.redis_url":     true,
	"alerts.webhook_url":    true,
}

var textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()

// typeProblems walks a decoded file against the Config's fields and returns one line per
// value of the wrong type (a number in quotes, a string where a list goes), naming the key
// and what it wants. The offending keys are removed from raw, so that the rest of the file
// can still be decoded and every other problem reported in the same run. TOML's decoder
// stops at the first such value and does not say what it was.
func typeProblems(raw map[string]any) []string {
	var p []string
	checkTable(raw, reflect.TypeFor[Config](), "", "", &p)
	return p
}

// checkTable checks the keys of one table against struct type t. name is the table's
// key for people (screens.userlist[0]); secret is the base key that decides redaction.
func checkTable(table map[string]any, t reflect.Type, name, base string, p *[]string) {
	for key, v := range table {
		f, ok := fieldByTag(t, key)
		if !ok {
			continue // an unknown key: reported by name once the file is decoded
		}
		full, fullBase := join(name, key), join(base, key)
		if problem, ok := checkValue(v, f.Type, full, fullBase, p); !ok {
			if problem != "" { // "": its elements are named already
				*p = append(*p, problem)
			}
			delete(table, key)
		}
	}
}

// checkValue reports whether v fits type t; when it does not, the problem line, or ""
// when the problems are its elements' (a list's element of the wrong type), which are
// appended to p as they are found, as are those of a nested table's keys.
func checkValue(v any, t reflect.Type, key, base string, p *[]string) (string, bool) {
	wrong := func(want string) (string, bool) {
		return fmt.Sprintf("config: %s: %s is not %s", key, shown(v, secretKeys[base]), want), false
	}
	if reflect.PointerTo(t).Implements(textUnmarshaler) {
		if _, ok := v.(string); !ok {
			if t == reflect.TypeFor[Duration]() {
				return wrong(`a duration: write it in quotes with a unit, e.g. "60s" or "5m"`)
			}
			return wrong("text: write it in quotes")
		}
		return "", true
	}
	switch t.Kind() {
	case reflect.String:
		if _, ok := v.(string); !ok {
			return wrong("text: write it in quotes")
		}
	case reflect.Int, reflect.Int64:
		switch n := v.(type) {
		case int64:
		case float64:
			if n == float64(int64(n)) {
				return wrong(fmt.Sprintf("a whole number: write %d", int64(n)))
			}
			return wrong("a whole number")
		case string:
			if _, err := strconv.Atoi(strings.TrimSpace(n)); err == nil {
				return wrong("a number: write it without quotes")
			}
			return wrong("a number")
		default:
			return wrong("a number")
		}
	case reflect.Bool:
		if s, ok := v.(string); ok && (s == "true" || s == "false") {
			return wrong("true or false: write it without quotes")
		}
		if _, ok := v.(bool); !ok {
			return wrong("true or false")
		}
	case reflect.Slice:
		elems, ok := listOf(v)
		if !ok {
			if s, isString := v.(string); isString && t.Elem().Kind() == reflect.String && !secretKeys[base] {
				return wrong(fmt.Sprintf("a list: write [%q]", s))
			}
			if t.Elem().Kind() == reflect.Struct {
				return wrong("a list of tables: write each as [[" + base + "]]")
			}
			return wrong(`a list, like ["…", "…"]`)
		}
		bad := false
		for i, e := range elems {
			elemKey := fmt.Sprintf("%s[%d]", key, i)
			if t.Elem().Kind() == reflect.Struct {
				table, isTable := e.(map[string]any)
				if !isTable {
					*p = append(*p, fmt.Sprintf("config: %s: %s is not a table", elemKey, shown(e, secretKeys[base])))
					bad = true
					continue
				}
				checkTable(table, t.Elem(), elemKey, base, p)
				continue
			}
			if problem, ok := checkValue(e, t.Elem(), elemKey, base, p); !ok {
				if problem != "" {
					*p = append(*p, problem)
				}
				bad = true
			}
		}
		if bad {
			return "", false // the list goes as a whole
		}
	case reflect.Struct:
		table, ok := v.(map[string]any)
		if !ok {
			return wrong("a section: write [" + base + "] and its keys under it")
		}
		checkTable(table, t, key, base, p)
	}
	return "", true
}

// listOf is v's elements when v is a TOML array (of values, or of tables).
func listOf(v any) ([]any, bool) {
	switch l := v.(type) {
	case []any:
		return l, true
	case []map[string]any:
		out := make([]any, len(l))
		for i, m := range l {
			out[i] = m
		}
		return out, true
	}
	return nil, false
}

// shown is a value as TOML writes it, or only its kind for a secret key.
func shown(v any, secret bool) string {
	var literal, kind string
	switch x := v.(type) {
	case string:
		literal, kind = strconv.Quote(x), "text"
	case int64:
		literal, kind = strconv.FormatInt(x, 10), "a number"
	case float64:
		literal, kind = strconv.FormatFloat(x, 'g', -1, 64), "a number"
	case bool:
		literal, kind = strconv.FormatBool(x), "true or false"
	case time.Time:
		literal, kind = x.Format(time.RFC3339), "a date"
	case []any, []map[string]any:
		literal, kind = "a list", "a list"
	case map[string]any:
		literal, kind = "a table", "a table"
	default:
		literal, kind = fmt.Sprint(x), "a value"
	}
	if secret {
		return kind + " (value not shown)"
	}
	return literal
}

// fieldByTag is the field of struct t that TOML key names.
func fieldByTag(t reflect.Type, key string) (reflect.StructField, bool) {
	for i := range t.NumField() {
		f := t.Field(i)
		if name, _, _ := strings.Cut(f.Tag.Get("toml"), ","); name == key && f.IsExported() {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

func join(prefix, key string) string {
	if prefix == "" {
		return key
	}
	return prefix + "." + key
}
